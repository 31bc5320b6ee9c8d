// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * CLI wrappers of the klp backend: apply --klp --no-gate, revert --klp,
 * status --kernel.  The work is in klp.c / klp_elf.c (see klp.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "backend/klp.h"
#include "cli/cmds.h"
#include "ui/output.h"

#define KLP_DEFAULT_TIMEOUT_S	60.0
#define KLP_POLL_US		100000
#define KLP_MAX_STRAGGLERS	256
#define KLP_STRAGGLER_AFTER_S	2.5

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static json_object *funcs_json(const struct klp_func_info *f, int n)
{
	json_object *a = json_object_new_array();

	for (int i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "object", json_object_new_string(f[i].object));
		json_object_object_add(o, "func", json_object_new_string(f[i].name));
		json_object_object_add(o, "sympos", json_object_new_uint64(f[i].sympos));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *stragglers_json(const struct klp_straggler *s, int n)
{
	json_object *a = json_object_new_array();

	for (int i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		char st[2] = { s[i].state, 0 };

		json_object_object_add(o, "pid", json_object_new_int(s[i].pid));
		json_object_object_add(o, "tid", json_object_new_int(s[i].tid));
		json_object_object_add(o, "comm", json_object_new_string(s[i].comm));
		json_object_object_add(o, "state", json_object_new_string(st));
		json_object_object_add(o, "in", json_object_new_string(s[i].where));
		json_object_array_add(a, o);
	}
	return a;
}

/* "tid 123 (cat) sleeping in pipe_read" */
static void straggler_text(const struct klp_straggler *s, char *buf, size_t len)
{
	if (!strcmp(s->where, "running"))
		snprintf(buf, len, "tid %d (%s) running", s->tid, s->comm);
	else
		snprintf(buf, len, "tid %d (%s) sleeping in %s", s->tid, s->comm, s->where);
}

/* Print the stragglers of @name's transition when they differ from last time. */
static void report_stragglers(const struct pg_cli *cli, const char *name, int target,
			      const struct klp_straggler *s, int n, char *last, size_t lastlen)
{
	char key[4096] = "", line[256];
	size_t k = 0;

	for (int i = 0; i < n && i < KLP_MAX_STRAGGLERS; i++) {
		straggler_text(&s[i], line, sizeof(line));
		k += snprintf(key + k, k < sizeof(key) ? sizeof(key) - k : 0, "%s%s", i ? ", " : "", line);
		if (k >= sizeof(key))
			k = sizeof(key) - 1;
	}
	if (!strcmp(key, last))
		return;
	snprintf(last, lastlen, "%s", key);
	if (cli->json) {
		json_object *o = pg_json_record("stragglers");

		json_object_object_add(o, "patch", json_object_new_string(name));
		json_object_object_add(o, "target", json_object_new_string(target ? "patched" : "unpatched"));
		json_object_object_add(o, "count", json_object_new_int(n));
		json_object_object_add(o, "tasks", stragglers_json(s, n < KLP_MAX_STRAGGLERS ? n : KLP_MAX_STRAGGLERS));
		pg_json_emit(o);
		return;
	}
	if (n)
		pg_info(cli, "%s: waiting for %d task(s) to switch to %s: %s", name, n,
			target ? "patched" : "unpatched", key);
}

/*
 * Wait until @name's transition ends (or the patch disappears), for at
 * most @timeout_s, naming stragglers as they change.  0 when it ended,
 * -ETIMEDOUT otherwise.
 */
static int wait_transition(const struct pg_cli *cli, const char *name, const struct klp_func_info *funcs,
			   int nfuncs, double timeout_s, double *took_s)
{
	struct klp_straggler *s = calloc(KLP_MAX_STRAGGLERS, sizeof(*s));
	double t0 = now_s(), next = 0;
	char last[4096] = "";
	struct klp_state st;
	int e = 0, n;

	if (!s)
		return -ENOMEM;
	for (;;) {
		if (klp_transition_state(name, &st) || !st.transition)
			break;
		if (now_s() - t0 >= timeout_s) {
			e = -ETIMEDOUT;
			break;
		}
		/*
		 * The kernel retries the switch of sleeping tasks once a second:
		 * only tasks left after a couple of tries are stragglers worth
		 * naming.  Scanning /proc is not free: twice a second.
		 */
		if (now_s() - t0 >= KLP_STRAGGLER_AFTER_S && now_s() >= next) {
			n = klp_stragglers(st.enabled ? 1 : 0, funcs, nfuncs, s, KLP_MAX_STRAGGLERS);
			if (n >= 0)
				report_stragglers(cli, name, st.enabled, s, n, last, sizeof(last));
			next = now_s() + 0.5;
		}
		usleep(KLP_POLL_US);
	}
	*took_s = now_s() - t0;
	free(s);
	return e;
}

/* Wait for the patch's sysfs directory to go (freed after disable), then delete_module. */
static int unload_after_disable(const char *name, double timeout_s)
{
	double t0 = now_s();
	struct klp_state st;
	int e;

	while (!klp_transition_state(name, &st) && now_s() - t0 < timeout_s)
		usleep(KLP_POLL_US);
	/* the module reference is dropped just after the sysfs entry goes */
	for (;;) {
		e = klp_unload(name);
		if (e != -EAGAIN && e != -EBUSY && e != -EWOULDBLOCK)
			return e;
		if (now_s() - t0 >= timeout_s)
			return e;
		usleep(KLP_POLL_US);
	}
}

int klp_apply_main(struct pg_cli *cli, const struct pg_apply_opts *o)
{
	double timeout = o->max_wait_s >= 0 ? o->max_wait_s : KLP_DEFAULT_TIMEOUT_S, took = 0;
	struct klp_func_info *sys = NULL;
	struct klp_info *info = NULL;
	struct klp_state st;
	char err[512], note[512];
	int nsys = 0, e, rc = PG_EXIT_OK;

	if (!klp_supported()) {
		pg_err(cli, PG_EXIT_SYSTEM, "this kernel has no livepatch support (%s missing) -- "
		       "CONFIG_LIVEPATCH is needed", KLP_SYSFS);
		return PG_EXIT_SYSTEM;
	}
	if ((e = klp_inspect(o->patch_path, &info, err, sizeof(err)))) {
		pg_err(cli, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	if ((e = klp_check(info, err, sizeof(err), note, sizeof(note)))) {
		pg_err(cli, PG_EXIT_USAGE, "apply: %s; nothing loaded", err);
		rc = PG_EXIT_USAGE;
		goto cleanup;
	}
	if (note[0])
		pg_warn(cli, "%s", note);
	if (o->dry_run) {
		pg_info(cli, "%s: would patch %d function(s); checks passed, nothing loaded",
			info->name, info->nfuncs);
		goto cleanup;
	}
	if ((e = klp_load(o->patch_path))) {
		pg_err(cli, e == -EEXIST ? PG_EXIT_USAGE : PG_EXIT_SYSTEM,
		       "apply: loading %s failed: %s -- see dmesg", o->patch_path, strerror(-e));
		rc = e == -EEXIST ? PG_EXIT_USAGE : PG_EXIT_SYSTEM;
		goto cleanup;
	}
	pg_info(cli, "%s: loaded, patching %d function(s)", info->name, info->nfuncs);
	if ((e = klp_sysfs_funcs(info->name, &sys, &nsys)) ||
	    (e = klp_funcs_compare(info->funcs, info->nfuncs, sys, nsys, err, sizeof(err)))) {
		if (e != -EMSGSIZE)
			snprintf(err, sizeof(err), "cannot read %s/%s: %s", KLP_SYSFS, info->name, strerror(-e));
		pg_err(cli, PG_EXIT_SYSTEM, "apply: %s; reverting", err);
		rc = PG_EXIT_SYSTEM;
		klp_disable(info->name);
		wait_transition(cli, info->name, info->funcs, info->nfuncs, timeout, &took);
		unload_after_disable(info->name, timeout);
		goto cleanup;
	}
	e = wait_transition(cli, info->name, info->funcs, info->nfuncs, timeout, &took);
	if (e == -ETIMEDOUT) {
		pg_err(cli, PG_EXIT_TRANSITION, "apply: %s: transition did not complete in %.1fs; reverting",
		       info->name, timeout);
		rc = PG_EXIT_TRANSITION;
		if ((e = klp_disable(info->name)))
			pg_warn(cli, "cannot disable %s: %s", info->name, strerror(-e));
		if (wait_transition(cli, info->name, info->funcs, info->nfuncs, timeout, &took))
			pg_warn(cli, "%s: the reverse transition is stalled too; module left loaded", info->name);
		else if ((e = unload_after_disable(info->name, timeout)))
			pg_warn(cli, "cannot unload %s: %s", info->name, strerror(-e));
		goto cleanup;
	}
	if (klp_transition_state(info->name, &st) || !st.enabled) {
		pg_err(cli, PG_EXIT_TRANSITION, "apply: %s was disabled during its transition "
		       "(reverted from elsewhere?)", info->name);
		rc = PG_EXIT_TRANSITION;
		goto cleanup;
	}
	if (cli->json) {
		json_object *j = pg_json_record("applied");

		json_object_object_add(j, "kind", json_object_new_string("klp"));
		json_object_object_add(j, "patch", json_object_new_string(info->name));
		json_object_object_add(j, "module", json_object_new_string(o->patch_path));
		json_object_object_add(j, "replace", json_object_new_boolean(info->replace));
		json_object_object_add(j, "funcs", funcs_json(info->funcs, info->nfuncs));
		json_object_object_add(j, "transition_s", json_object_new_double(took));
		pg_json_emit(j);
	} else {
		pg_info(cli, "%s: applied, transition completed in %.2fs", info->name, took);
		for (int i = 0; i < info->nfuncs; i++)
			pg_info(cli, "  %s:%s,%lu", info->funcs[i].object, info->funcs[i].name,
				info->funcs[i].sympos);
	}
cleanup:
	klp_funcs__free(sys, nsys);
	klp_info__free(info);
	return rc;
}

int klp_revert_main(struct pg_cli *cli, const struct pg_revert_opts *o)
{
	struct klp_func_info *funcs = NULL;
	const char *name = o->klp_name;
	struct klp_state st;
	double took = 0;
	int nfuncs = 0, e, rc = PG_EXIT_OK;

	if (!klp_supported()) {
		pg_err(cli, PG_EXIT_SYSTEM, "this kernel has no livepatch support (%s missing)", KLP_SYSFS);
		return PG_EXIT_SYSTEM;
	}
	if (klp_transition_state(name, &st)) {
		if (!klp_module_loaded(name)) {
			pg_err(cli, PG_EXIT_USAGE, "revert: no livepatch named %s is loaded", name);
			return PG_EXIT_USAGE;
		}
		/* already disabled, the module is still in: just unload */
		goto unload;
	}
	klp_sysfs_funcs(name, &funcs, &nfuncs);
	if (st.enabled && (e = klp_disable(name))) {
		pg_err(cli, PG_EXIT_SYSTEM, "revert: cannot disable %s: %s", name, strerror(-e));
		rc = PG_EXIT_SYSTEM;
		goto cleanup;
	}
	pg_info(cli, "%s: disabled, %s", name, st.transition && st.enabled ?
		"reversing the transition in progress" : "unpatching");
	e = wait_transition(cli, name, funcs, nfuncs, KLP_DEFAULT_TIMEOUT_S, &took);
	if (e == -ETIMEDOUT) {
		if (!o->force_transition) {
			pg_err(cli, PG_EXIT_TRANSITION, "revert: %s: the reverse transition did not complete "
			       "in %.0fs (stragglers above); left disabled and loaded -- retry, or "
			       "--force-transition", name, KLP_DEFAULT_TIMEOUT_S);
			rc = PG_EXIT_TRANSITION;
			goto cleanup;
		}
		pg_warn(cli, "%s: forcing the transition: tasks still in patched code are marked "
			"switched; the module can never be unloaded now", name);
		if ((e = klp_force(name))) {
			pg_err(cli, PG_EXIT_SYSTEM, "revert: cannot force %s: %s", name, strerror(-e));
			rc = PG_EXIT_SYSTEM;
			goto cleanup;
		}
		wait_transition(cli, name, funcs, nfuncs, KLP_DEFAULT_TIMEOUT_S, &took);
		pg_info(cli, "%s: forced; module left loaded", name);
		goto cleanup;
	}
unload:
	if ((e = unload_after_disable(name, KLP_DEFAULT_TIMEOUT_S))) {
		pg_err(cli, PG_EXIT_SYSTEM, "revert: %s is disabled but cannot be unloaded: %s",
		       name, strerror(-e));
		rc = PG_EXIT_SYSTEM;
		goto cleanup;
	}
	if (cli->json) {
		json_object *j = pg_json_record("reverted");

		json_object_object_add(j, "kind", json_object_new_string("klp"));
		json_object_object_add(j, "patch", json_object_new_string(name));
		json_object_object_add(j, "transition_s", json_object_new_double(took));
		json_object_object_add(j, "unloaded", json_object_new_boolean(true));
		pg_json_emit(j);
	} else {
		pg_info(cli, "%s: reverted and unloaded", name);
	}
cleanup:
	klp_funcs__free(funcs, nfuncs);
	return rc;
}

int klp_status_main(struct pg_cli *cli, const struct pg_status_opts *o)
{
	struct klp_straggler *s = NULL;
	char **names = NULL;
	int n, rc = PG_EXIT_OK;

	(void)o;
	if (!klp_supported()) {
		pg_err(cli, PG_EXIT_SYSTEM, "this kernel has no livepatch support (%s missing)", KLP_SYSFS);
		return PG_EXIT_SYSTEM;
	}
	n = klp_list(&names);
	if (n < 0) {
		pg_err(cli, PG_EXIT_SYSTEM, "cannot list %s: %s", KLP_SYSFS, strerror(-n));
		return PG_EXIT_SYSTEM;
	}
	s = calloc(KLP_MAX_STRAGGLERS, sizeof(*s));
	if (!s) {
		rc = PG_EXIT_SYSTEM;
		goto cleanup;
	}
	if (!n)
		pg_info(cli, "no kernel livepatches loaded");
	for (int i = 0; i < n; i++) {
		struct klp_func_info *funcs = NULL;
		struct klp_state st;
		int nf = 0, ns = 0;

		if (klp_transition_state(names[i], &st))
			continue;	/* went away meanwhile */
		klp_sysfs_funcs(names[i], &funcs, &nf);
		if (st.transition)
			ns = klp_stragglers(st.enabled, funcs, nf, s, KLP_MAX_STRAGGLERS);
		if (ns > KLP_MAX_STRAGGLERS)
			ns = KLP_MAX_STRAGGLERS;
		if (ns < 0)
			ns = 0;
		if (cli->json) {
			json_object *j = pg_json_record("klp_patch");

			json_object_object_add(j, "patch", json_object_new_string(names[i]));
			json_object_object_add(j, "enabled", json_object_new_boolean(st.enabled));
			json_object_object_add(j, "transition", json_object_new_boolean(st.transition));
			json_object_object_add(j, "funcs", funcs_json(funcs, nf));
			json_object_object_add(j, "stragglers", stragglers_json(s, ns));
			pg_json_emit(j);
		} else {
			printf("%s: %s%s\n", names[i], st.enabled ? "enabled" : "disabled",
			       st.transition ? (st.enabled ? ", transition to patched in progress" :
						 ", transition to unpatched in progress") : "");
			for (int k = 0; k < nf; k++)
				printf("  %s:%s,%lu\n", funcs[k].object, funcs[k].name, funcs[k].sympos);
			for (int k = 0; k < ns; k++) {
				char line[256];

				straggler_text(&s[k], line, sizeof(line));
				printf("  straggler: %s\n", line);
			}
		}
		klp_funcs__free(funcs, nf);
	}
cleanup:
	free(s);
	klp_list__free(names, n);
	return rc;
}
