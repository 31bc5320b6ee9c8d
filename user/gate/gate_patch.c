// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The gated apply's patch operations: open, apply, transition, revert and
 * health through the kind's pg_backend_ops (backend/backend.h), with the
 * observation's hooks around apply and revert.  Errors are printed here,
 * once, from the backend's one-line message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gate/gate_observe.h"
#include "gate/gate_run.h"
#include "gate/policy_load.h"
#include "view/output.h"

#define GATE_APPLY_WAIT_MAX_S	30.0	/* ulp apply: longest stop-the-world retry */

/* The outcome of a failed backend operation (also for gate/plain.c). */
int gate_be_exit(enum pg_be_fail f)
{
	switch (f) {
	case PG_BE_OK:
		return PG_EXIT_OK;
	case PG_BE_INPUT:
	case PG_BE_GONE:
		return PG_EXIT_USAGE;
	case PG_BE_NO_WINDOW:
		return PG_EXIT_NO_WINDOW;
	case PG_BE_TIMEOUT:
		return PG_EXIT_TRANSITION;
	default:
		return PG_EXIT_SYSTEM;
	}
}

/*
 * Open the patch (validates it and the target, changes nothing) and fill
 * g->nfuncs / g->fname.  Returns a PG_EXIT_* code, 0 to go on.
 */
int gate_patch_open(struct gr *g)
{
	/*
	 * The window was clear of residents; threads passing through a busy
	 * function can still be inside at any instant, and ulp_apply retries
	 * its stop-the-world check until none is: up to max_wait, at most 30 s.
	 */
	double wait_s = (double)g->pol.max_wait_ns / 1e9;
	struct pg_backend_opts bo = {
		.pid = g->o->pid, .patch = g->o->patch_path, .state_dir = g->ctx->state_dir,
		.max_wait_s = wait_s < GATE_APPLY_WAIT_MAX_S ? wait_s : GATE_APPLY_WAIT_MAX_S,
		.trust = policy_trust_opts(&g->pol),
		.params = g->o->klp_params, .previous = g->o->previous, .restore_replaced = true,
	};
	struct pg_patch_func f[PG_MAX_FUNCS];
	struct pg_be_result r;
	int n;

	if (g->be->ops->open(&bo, &g->pb, &r)) {
		pg_err(g->ctx, gate_be_exit(r.fail), "apply: %s", r.msg);
		return gate_be_exit(r.fail);
	}
	if (r.note[0])
		pg_warn(g->ctx, "%s", r.note);
	snprintf(g->sha256, sizeof(g->sha256), "%s", r.sha256);
	snprintf(g->build_id, sizeof(g->build_id), "%s", r.build_id);
	n = g->be->ops->functions(g->pb, f, PG_MAX_FUNCS);
	g->nfuncs = n > 0 ? (unsigned int)n : 0;
	for (unsigned int i = 0; i < g->nfuncs; i++)
		snprintf(g->fname[i], sizeof(g->fname[i]), "%.*s", GATE_NAME_LEN - 1, f[i].func);
	return 0;
}

/* Apply.  0 or a negative errno; *partial when something may be left applied. */
int gate_patch_apply(struct gr *g, bool *partial)
{
	struct pg_be_result res, *r = &res;
	int e;

	*partial = false;
	gate_observe_before_apply(g);
	e = g->be->ops->apply(g->pb, r);
	if (e) {
		pg_warn(g->ctx, "apply failed: %s", r->msg);
		*partial = r->partial;
		if (r->fail == PG_BE_NO_WINDOW)
			g->no_window = true;
	} else if (!g->ctx->json && r->nthreads) {
		printf("  applied in %.2f ms, all %d threads stopped for %.0f us (%d round%s)\n",
		       (double)r->total_ns / 1e6, r->nthreads, (double)r->pause_ns / 1e3,
		       r->rounds, r->rounds == 1 ? "" : "s");
	}
	/* a new generation that cannot begin stops the gate (g->observe_failed) */
	if (gate_observe_after_apply(g, e))
		g->observe_failed = true;
	return e;
}

/* Transition progress: stragglers into @b (up to GATE_MAX_BLOCKERS), all counted in *total. */
int gate_patch_transition(struct gr *g, bool *done, struct pg_inside *b, unsigned int *total)
{
	struct pg_be_result r;
	struct pg_progress p;
	int e;

	e = g->be->ops->transition(g->pb, &p, b, GATE_MAX_BLOCKERS, &r);
	if (e)
		pg_err(g->ctx, PG_EXIT_SYSTEM, "%s", r.msg);
	*done = p.done;
	*total = p.total;
	return e;
}

/*
 * Revert, waiting up to the policy's transition_timeout: the reverse
 * transition of a kernel patch, a clear stack scan of a process.  A
 * stalled reverse transition is left to complete (the gate never forces).
 */
int gate_patch_revert(struct gr *g)
{
	struct pg_be_result res, *r = &res;
	int e;

	gate_observe_before_revert(g);
	e = g->be->ops->revert(g->pb, (double)g->pol.transition_timeout_ns / 1e9, r);
	if (e)
		pg_warn(g->ctx, "revert failed: %s", r->msg);
	else if (r->note[0])
		pg_info(g->ctx, "%s", r->note);
	if (!e && !g->ctx->json && r->nthreads)
		printf("  reverted in %.2f ms (%d round%s)%s\n", (double)r->total_ns / 1e6, r->rounds,
		       r->rounds == 1 ? "" : "s",
		       r->kept_mapped ? "; the patch stays mapped while a thread still refers to it" : "");
	return e;
}

int gate_patch_health(struct gr *g, struct pg_health *h)
{
	return g->be->ops->health(g->pb, h);
}

void gate_patch_close(struct gr *g)
{
	g->be->ops->close(g->pb);
	g->pb = NULL;
}
