// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The ungated commands, for both kinds of patch through pg_backend_ops:
 * apply --no-gate (open, apply, wait for the transition, revert what a
 * failed or timed-out apply left), revert, and status (each backend's
 * patches, then the phase of each gate from its state file).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend/backend.h"
#include "gate/gate_run.h"
#include "gate/live.h"
#include "gate/policy_load.h"
#include "gate/preflight.h"
#include "gate/rollout.h"
#include "view/output.h"
#include "view/live.h"
#include "view/patch.h"
#include "lib/clock.h"

#define PLAIN_POLL_US		100000
#define PLAIN_STRAGGLER_AFTER_S	2.5	/* the kernel retries sleeping tasks once a second */
#define PLAIN_STRAGGLER_EVERY_S	0.5	/* scanning /proc is not free */

/* What differs between the kinds for the CLI: the backend and its default waits. */
struct plain_kind {
	const struct pg_backend_ops *ops;
	double transition_wait_s;	/* apply: the transition, when --max-wait is not given */
	double revert_wait_s;		/* revert: a clear scan (ulp), the reverse transition (klp) */
};

static const struct plain_kind plain_ulp = { &pg_ulp_ops, 0.0, 10.0 };
static const struct plain_kind plain_klp = { &pg_klp_ops, 60.0, 60.0 };

static const char *state_dir(const struct pg_ctx *ctx)
{
	return ctx->state_dir ? ctx->state_dir : PG_STATE_DIR_DEFAULT;
}

/*
 * Wait for the transition after apply until @deadline, naming stragglers
 * as they change.  0 when it completed; else r is set.
 */
static int wait_transition(struct pg_ctx *ctx, const struct pg_backend_ops *ops, struct pg_backend *b,
			   const char *name, double deadline, struct pg_be_result *r)
{
	double t0 = pg_mono_s(), next = t0 + PLAIN_STRAGGLER_AFTER_S;
	struct pg_inside s[PG_BE_MAX_INSIDE];
	char last[4096] = "";
	struct pg_progress p;
	int e;

	for (;;) {
		bool name_them = pg_mono_s() >= next;

		e = ops->transition(b, &p, s, name_them ? PG_BE_MAX_INSIDE : 0, r);
		if (e)
			return e;
		if (p.done)
			return 0;
		if (name_them) {
			view_stragglers(ctx, ops->name, name, p.enabled, s, p.n, p.total, last, sizeof(last));
			next = pg_mono_s() + PLAIN_STRAGGLER_EVERY_S;
		}
		if (pg_mono_s() >= deadline) {
			r->fail = PG_BE_TIMEOUT;
			snprintf(r->msg, sizeof(r->msg), "%.256s: transition did not complete in %.1fs; reverting",
				 name, deadline - t0);
			return -ETIMEDOUT;
		}
		usleep(PLAIN_POLL_US);
	}
}

int plain_apply_main(struct pg_ctx *ctx, const struct pg_apply_opts *o)
{
	const struct plain_kind *k = o->klp ? &plain_klp : &plain_ulp;
	const struct pg_backend_ops *ops = k->ops;
	struct pg_backend_opts bo = {
		.pid = o->pid, .patch = o->patch_path, .state_dir = state_dir(ctx),
		.max_wait_s = o->max_wait_s, .params = o->klp_params, .previous = o->previous,
	};
	double wait_s = o->max_wait_s >= 0 ? o->max_wait_s : k->transition_wait_s, t0;
	struct pg_be_result res, revert_res, *r = &res, *rr = &revert_res;
	struct pg_backend *b = NULL;
	struct pg_apply_opts po;
	struct pg_policy pol;
	char err[1024];
	int e, code;

	code = gate_preflight(ctx, "apply", o->klp ? GATE_NEED_MODULE :
			      GATE_NEED_PTRACE | GATE_NEED_MEM | GATE_NEED_STATEDIR, o->pid);
	if (code)
		return code;
	/*
	 * No gate, but the policy's signature keys still hold.  --max-wait is
	 * the window's wait here, not the policy's max_wait (whose cross-key
	 * rules would refuse a short one against the default dwell).
	 */
	po = *o;
	po.max_wait_s = -1.0;
	if (policy_load_apply(&pol, &po, err, sizeof(err))) {
		pg_err(ctx, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	bo.trust = policy_trust_opts(&pol);
	e = ops->open(&bo, &b, r);
	if (e) {
		code = gate_be_exit(r->fail);
		pg_err(ctx, code, "apply: %s; nothing applied", r->msg);
		goto cleanup;
	}
	if (r->note[0])
		pg_warn(ctx, "%s", r->note);
	e = ops->apply(b, r);
	if (e) {
		code = gate_be_exit(r->fail);
		if (r->partial && ops->revert(b, k->revert_wait_s, rr))
			pg_warn(ctx, "cannot revert what the failed apply left: %s", rr->msg);
		view_patch_result(ctx, "apply", ops->name, o->pid, o->patch_path, r, code);
		goto cleanup;
	}
	t0 = pg_mono_s();
	e = wait_transition(ctx, ops, b, r->name, t0 + wait_s, r);
	r->transition_s = pg_mono_s() - t0;
	if (e) {
		code = PG_EXIT_TRANSITION;
		pg_err(ctx, code, "apply: %s", r->msg);
		/*
		 * The reverse transition gets the revert's own wait, not what was
		 * left of --max-wait: on 6.12 reversing a stalled transition took
		 * more than the 3 s that 6.1 needed, and a short --max-wait must
		 * not leave the patch disabled but loaded.
		 */
		if (r->fail == PG_BE_TIMEOUT && ops->revert(b, wait_s > k->revert_wait_s ? wait_s :
							    k->revert_wait_s, rr))
			pg_warn(ctx, "%s", rr->msg);
		goto cleanup;
	}
	view_patch_result(ctx, "apply", ops->name, o->pid, o->patch_path, r, code);
	if (r->note[0])
		pg_warn(ctx, "%s", r->note);
cleanup:
	ops->close(b);
	return code;
}

int plain_revert_main(struct pg_ctx *ctx, const struct pg_revert_opts *o)
{
	const struct plain_kind *k = o->klp_name ? &plain_klp : &plain_ulp;
	const struct pg_backend_ops *ops = k->ops;
	struct pg_backend_opts bo = {
		.pid = o->pid, .patch = o->klp_name ? o->klp_name : o->patch_path, .for_revert = true,
		.state_dir = state_dir(ctx), .force = o->force_transition,
	};
	struct pg_be_result res, *r = &res;
	struct pg_backend *b = NULL;
	int code;

	code = gate_preflight(ctx, "revert", o->klp_name ? GATE_NEED_MODULE :
			      GATE_NEED_PTRACE | GATE_NEED_MEM | GATE_NEED_STATEDIR, o->pid);
	if (code)
		return code;
	if (ops->open(&bo, &b, r)) {
		code = gate_be_exit(r->fail);
		pg_err(ctx, code, "revert: %s", r->msg);
		goto cleanup;
	}
	if (ops->revert(b, k->revert_wait_s, r))
		code = gate_be_exit(r->fail);
	view_patch_result(ctx, "revert", ops->name, o->pid, NULL, r, code);
cleanup:
	ops->close(b);
	return code;
}

/* One gate state file (written by gate_run.c at every decision) as a record. */
static void gate_phase_file(struct pg_ctx *ctx, const char *kind, int pid, const char *path)
{
	const char *patch = "", *to = "", *reason = "";
	json_object *o = json_object_from_file(path), *v;
	int64_t wall = 0;

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
	view_gate_phase(ctx, kind, pid, patch, to, reason, wall);
	json_object_put(o);
}

/*
 * The gates' phases: the current phase of a gated apply in progress, or
 * how the last one ended.  Kernel: every gate-kernel-PATCH.json; process:
 * gate-PID.json of @pid, or of every live process with @pid 0.
 */
static void gate_phases(struct pg_ctx *ctx, const char *kind, int pid)
{
	bool klp = !strcmp(kind, "klp");
	char path[4400];
	struct dirent *de;
	DIR *d;

	if (!klp && pid) {
		snprintf(path, sizeof(path), "%s/gate-%d.json", state_dir(ctx), pid);
		gate_phase_file(ctx, kind, pid, path);
		return;
	}
	d = opendir(state_dir(ctx));
	if (!d)
		return;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		int p = 0, end = 0;

		if (n < 6 || strcmp(de->d_name + n - 5, ".json"))
			continue;
		if (klp ? strncmp(de->d_name, "gate-kernel-", 12) :
			  sscanf(de->d_name, "gate-%d.json%n", &p, &end) != 1 || de->d_name[end] || kill(p, 0))
			continue;
		snprintf(path, sizeof(path), "%s/%s", state_dir(ctx), de->d_name);
		gate_phase_file(ctx, kind, p, path);
	}
	closedir(d);
}

static int status_kind(struct pg_ctx *ctx, const struct pg_backend_ops *ops, int pid)
{
	struct pg_backend_opts bo = { .pid = pid, .state_dir = state_dir(ctx) };
	struct pg_patch_status *v = NULL;
	struct pg_be_result r;
	int n = 0, e;

	e = gate_preflight(ctx, "status", ops->kind == PG_BE_ULP ?
			   GATE_NEED_PTRACE | GATE_NEED_MEM | GATE_NEED_STATEDIR_RO : 0, pid);
	if (e)
		return e;
	if (ops->status(&bo, &v, &n, &r)) {
		pg_err(ctx, gate_be_exit(r.fail), "status: %s", r.msg);
		return gate_be_exit(r.fail);
	}
	if (!n && pid)
		pg_info(ctx, "no live patches (%s, pid %d)", ops->name, pid);
	else if (!n)
		pg_info(ctx, "no live patches (%s)", ops->name);
	for (int i = 0; i < n; i++)
		view_patch_status(ctx, ops->name, &v[i]);
	gate_phases(ctx, ops->name, pid);
	free(v);
	return PG_EXIT_OK;
}

/* The live records of running (and finished, and gone) gates, through the same model top reads. */
static void status_live(struct pg_ctx *ctx, const struct pg_status_opts *o)
{
	struct live_entry *v;
	int n, e;

	e = live_read_all(state_dir(ctx), &v, &n);
	if (e) {
		if (e != -EACCES)
			pg_warn(ctx, "cannot read the live gates in %s/%s: %s", state_dir(ctx), LIVE_DIR,
				strerror(-e));
		return;
	}
	for (int i = 0; i < n; i++) {
		bool kernel = !strncmp(v[i].name, "kernel-", 7);

		if ((o->kernel && !kernel) || (o->pid && (kernel || atoi(v[i].name) != o->pid)))
			continue;
		live_print_status(ctx, v[i].rec, live_health_name(v[i].health));
	}
	live_entries_free(v, n);
}

int plain_status_main(struct pg_ctx *ctx, const struct pg_status_opts *o)
{
	int code;

	if (o->kernel) {
		code = status_kind(ctx, &pg_klp_ops, 0);
	} else {
		code = status_kind(ctx, &pg_ulp_ops, o->pid);
		/* with neither flag: processes known to the journal, then the kernel's patches */
		if (!code && !o->pid && !access("/sys/kernel/livepatch", F_OK))
			code = status_kind(ctx, &pg_klp_ops, 0);
	}
	if (!code)
		status_live(ctx, o);
	if (!code && !o->kernel)
		rollout_status_show(ctx);
	return code;
}
