// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* CLI wrappers of the ulp backend: apply --no-gate, revert, status for --pid. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "backend/ulp.h"
#include "cli/cmds.h"
#include "ui/output.h"

static const char *state_dir(const struct pg_cli *cli)
{
	return cli->state_dir ? cli->state_dir : PG_STATE_DIR_DEFAULT;
}

static int exit_of(enum ulp_fail f)
{
	switch (f) {
	case ULP_OK:
		return PG_EXIT_OK;
	case ULP_FAIL_INPUT:
	case ULP_FAIL_GONE:
		return PG_EXIT_USAGE;
	case ULP_FAIL_WINDOW:
		return PG_EXIT_NO_WINDOW;
	default:
		return PG_EXIT_SYSTEM;
	}
}

static json_object *result_json(const char *type, int pid, const char *patch, const char *state,
				const struct ulp_result *r)
{
	json_object *o = pg_json_record(type), *fa = json_object_new_array(), *ba = json_object_new_array();

	json_object_object_add(o, "pid", json_object_new_int(pid));
	if (patch)
		json_object_object_add(o, "patch", json_object_new_string(patch));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "threads", json_object_new_int(r->nthreads));
	json_object_object_add(o, "rounds", json_object_new_int(r->rounds));
	json_object_object_add(o, "pause_us", json_object_new_double(r->pause_ns / 1e3));
	json_object_object_add(o, "max_pause_us", json_object_new_double(r->max_pause_ns / 1e3));
	json_object_object_add(o, "inject_us", json_object_new_double(r->inject_ns / 1e3));
	json_object_object_add(o, "stop_us", json_object_new_double(r->stop_ns / 1e3));
	json_object_object_add(o, "scan_us", json_object_new_double(r->scan_ns / 1e3));
	json_object_object_add(o, "write_us", json_object_new_double(r->write_ns / 1e3));
	json_object_object_add(o, "resume_us", json_object_new_double(r->resume_ns / 1e3));
	json_object_object_add(o, "total_ms", json_object_new_double(r->total_ns / 1e6));
	json_object_object_add(o, "kept_mapped", json_object_new_boolean(r->kept_mapped));
	for (int i = 0; i < r->nfuncs; i++)
		json_object_array_add(fa, json_object_new_string(r->funcs[i]));
	json_object_object_add(o, "funcs", fa);
	for (int i = 0; i < r->nblockers; i++) {
		json_object *b = json_object_new_object();

		json_object_object_add(b, "tid", json_object_new_int(r->blockers[i].tid));
		json_object_object_add(b, "comm", json_object_new_string(r->blockers[i].comm));
		json_object_object_add(b, "function", json_object_new_string(r->blockers[i].func));
		json_object_object_add(b, "where", json_object_new_string(r->blockers[i].at_pc ? "pc" : "stack"));
		json_object_array_add(ba, b);
	}
	json_object_object_add(o, "blockers", ba);
	return o;
}

static void print_blockers(const struct pg_cli *cli, const struct ulp_result *r)
{
	for (int i = 0; i < r->nblockers; i++)
		pg_info(cli, "  blocker: tid %d (%s) in %s (%s)", r->blockers[i].tid, r->blockers[i].comm,
			r->blockers[i].func, r->blockers[i].at_pc ? "pc" : "on its stack");
}

static int report_fail(struct pg_cli *cli, const char *type, int pid, const char *patch,
		       const struct ulp_result *r)
{
	int code = exit_of(r->fail);

	if (cli->json) {
		json_object *o = result_json(type, pid, patch, "failed", r);

		json_object_object_add(o, "message", json_object_new_string(r->msg));
		json_object_object_add(o, "exit", json_object_new_int(code));
		pg_json_emit(o);
		return code;
	}
	pg_err(cli, code, "%s: %s", type, r->msg);
	if (r->nblockers)
		fprintf(stderr, "patchgate: blocked by:\n");
	for (int i = 0; i < r->nblockers; i++)
		fprintf(stderr, "  tid %d (%s) in %s (%s)\n", r->blockers[i].tid, r->blockers[i].comm,
			r->blockers[i].func, r->blockers[i].at_pc ? "pc" : "on its stack");
	return code;
}

int ulp_apply_main(struct pg_cli *cli, const struct pg_apply_opts *o)
{
	struct ulp_opts uo = { .state_dir = state_dir(cli), .max_wait_s = o->max_wait_s };
	struct ulp_result r;

	if (ulp_apply(o->pid, o->patch_path, &uo, &r))
		return report_fail(cli, "apply", o->pid, o->patch_path, &r);
	if (cli->json) {
		pg_json_emit(result_json("apply", o->pid, o->patch_path, r.already ? "already-applied" : "applied",
					 &r));
		return PG_EXIT_OK;
	}
	if (r.already) {
		pg_info(cli, "%s is already applied to pid %d: nothing to do", o->patch_path, o->pid);
		return PG_EXIT_OK;
	}
	pg_info(cli, "applied %s to pid %d: %d thread(s), %d round(s), pause %.0f us, total %.1f ms",
		o->patch_path, o->pid, r.nthreads, r.rounds, r.pause_ns / 1e3, r.total_ns / 1e6);
	pg_info(cli, "  mapped at 0x%llx-0x%llx", (unsigned long long)r.map_lo, (unsigned long long)r.map_hi);
	for (int i = 0; i < r.nfuncs; i++)
		pg_info(cli, "  %s", r.funcs[i]);
	if (cli->verbose)
		print_blockers(cli, &r);
	return PG_EXIT_OK;
}

int ulp_revert_main(struct pg_cli *cli, const struct pg_revert_opts *o)
{
	struct ulp_opts uo = { .state_dir = state_dir(cli), .max_wait_s = 10.0 };
	struct ulp_result r;

	if (ulp_revert(o->pid, o->patch_path, &uo, &r))
		return report_fail(cli, "revert", o->pid, o->patch_path, &r);
	if (cli->json) {
		pg_json_emit(result_json("revert", o->pid, o->patch_path,
					 r.kept_mapped ? "reverted-mapped" : "reverted", &r));
		return PG_EXIT_OK;
	}
	pg_info(cli, "reverted pid %d: %d thread(s), %d round(s), pause %.0f us, total %.1f ms", o->pid,
		r.nthreads, r.rounds, r.pause_ns / 1e3, r.total_ns / 1e6);
	for (int i = 0; i < r.nfuncs; i++)
		pg_info(cli, "  %s", r.funcs[i]);
	if (r.kept_mapped)
		pg_warn(cli, "the patch code at 0x%llx-0x%llx is still referenced by a thread: kept mapped",
			(unsigned long long)r.map_lo, (unsigned long long)r.map_hi);
	return PG_EXIT_OK;
}

/*
 * The gate's phase for @pid, from <state-dir>/gate-<pid>.json (written by
 * user/gate/gate_run.c at every decision): the current phase of a gated
 * apply in progress, or how the last one ended.
 */
static void status_gate(struct pg_cli *cli, int pid)
{
	char path[4200];
	json_object *o, *v;
	const char *patch = "", *to = "", *reason = "";
	int64_t wall = 0;

	snprintf(path, sizeof(path), "%s/gate-%d.json", state_dir(cli), pid);
	o = json_object_from_file(path);
	if (!o)
		return;
	if (json_object_object_get_ex(o, "patch", &v))
		patch = json_object_get_string(v);
	if (json_object_object_get_ex(o, "to", &v))
		to = json_object_get_string(v);
	if (json_object_object_get_ex(o, "reason", &v))
		reason = json_object_get_string(v);
	if (json_object_object_get_ex(o, "wall_time", &v))
		wall = json_object_get_int64(v);
	if (cli->json) {
		json_object *r = pg_json_record("gate");

		json_object_object_add(r, "pid", json_object_new_int(pid));
		json_object_object_add(r, "patch", json_object_new_string(patch));
		json_object_object_add(r, "phase", json_object_new_string(to));
		json_object_object_add(r, "reason", json_object_new_string(reason));
		json_object_object_add(r, "updated", json_object_new_int64(wall));
		pg_json_emit(r);
	} else {
		char when[64] = "";
		time_t t = (time_t)wall;
		struct tm tm;

		if (t && localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		pg_info(cli, "pid %d: gate for %s: phase %s (%s) at %s", pid, patch, to, reason, when);
	}
	json_object_put(o);
}

static int status_one(struct pg_cli *cli, int pid, bool quiet_empty)
{
	struct ulp_opts uo = { .state_dir = state_dir(cli) };
	struct ulp_status_ent *v = NULL;
	int n = 0, err, bad = 0;

	err = ulp_status(pid, &uo, &v, &n);
	if (err == -ESRCH && quiet_empty)
		return PG_EXIT_OK;	/* listing all: a journal of a process gone since */
	if (err) {
		pg_err(cli, err == -ESRCH ? PG_EXIT_USAGE : PG_EXIT_SYSTEM, "status: pid %d: %s", pid,
		       err == -ESRCH ? "no such process" : strerror(-err));
		return err == -ESRCH ? PG_EXIT_USAGE : PG_EXIT_SYSTEM;
	}
	if (!n && !quiet_empty)
		pg_info(cli, "pid %d: no live patches", pid);
	for (int i = 0; i < n; i++) {
		char when[64] = "";
		time_t t = (time_t)v[i].applied_at;
		struct tm tm;

		if (t && localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		if (!v[i].consistent)
			bad++;
		if (cli->json) {
			json_object *o = pg_json_record("patch"), *fa = json_object_new_array();

			json_object_object_add(o, "pid", json_object_new_int(pid));
			json_object_object_add(o, "kind", json_object_new_string("ulp"));
			json_object_object_add(o, "patch", json_object_new_string(v[i].patch));
			json_object_object_add(o, "journal_state", json_object_new_string(v[i].journal_state));
			json_object_object_add(o, "actual", json_object_new_string(v[i].actual));
			json_object_object_add(o, "consistent", json_object_new_boolean(v[i].consistent));
			json_object_object_add(o, "applied_at", json_object_new_double(v[i].applied_at));
			json_object_object_add(o, "map_lo", json_object_new_int64((int64_t)v[i].map_lo));
			json_object_object_add(o, "map_hi", json_object_new_int64((int64_t)v[i].map_hi));
			for (int k = 0; k < v[i].nfuncs; k++)
				json_object_array_add(fa, json_object_new_string(v[i].funcs[k]));
			json_object_object_add(o, "funcs", fa);
			pg_json_emit(o);
		} else {
			pg_info(cli, "pid %d: %s  journal=%s actual=%s  since %s", pid, v[i].patch,
				v[i].journal_state, v[i].actual, when);
			for (int k = 0; k < v[i].nfuncs; k++)
				pg_info(cli, "  %s", v[i].funcs[k]);
		}
		if (!v[i].consistent)
			pg_warn(cli, "pid %d: JOURNAL AND MEMORY DISAGREE for %s: the journal says '%s', the "
				"target's bytes say '%s'%s", pid, v[i].patch, v[i].journal_state, v[i].actual,
				strcmp(v[i].actual, "foreign") ?
				" (an operation was interrupted: run apply or revert again to finish it)" :
				" (someone else wrote there)");
	}
	free(v);
	status_gate(cli, pid);
	return PG_EXIT_OK;
}

int ulp_status_main(struct pg_cli *cli, const struct pg_status_opts *o)
{
	const char *dir = state_dir(cli);
	struct dirent *de;
	DIR *d;

	if (o->pid)
		return status_one(cli, o->pid, false);
	d = opendir(dir);
	if (!d) {
		pg_info(cli, "no live patches (no %s)", dir);
		return PG_EXIT_OK;
	}
	int listed[1024], nlisted = 0;

	while ((de = readdir(d))) {
		int pid, end = 0;
		unsigned long long st;
		bool seen = false;

		/* journals ulp-PID-START.json, and gates in progress (gate-PID.json) */
		if (sscanf(de->d_name, "ulp-%d-%llu.json%n", &pid, &st, &end) != 2 || !end ||
		    de->d_name[end]) {
			end = 0;
			if (sscanf(de->d_name, "gate-%d.json%n", &pid, &end) != 1 || !end || de->d_name[end])
				continue;
		}
		for (int i = 0; i < nlisted; i++)
			seen |= listed[i] == pid;
		if (seen || kill(pid, 0))
			continue;	/* listed already, or a process gone since */
		if (nlisted < 1024)
			listed[nlisted++] = pid;
		status_one(cli, pid, true);
	}
	closedir(d);
	return PG_EXIT_OK;
}
