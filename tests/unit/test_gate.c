// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The gate state machine: every transition, the refusals, the audit
 * records, and whole gated runs on seeded synthetic latency.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>
#include "core/outcome.h"
#include "core/gate.h"
#include "core/hist.h"
#include "pg_rng.h"

#define MS	1000000ULL
#define SEC	1000000000ULL
#define MAXF	4

/* A controller stand-in: cumulative per-function data, a clock, the last output. */
struct fx {
	struct gate *g;
	struct pg_policy pol;
	unsigned int nf;
	struct pg_hist h[MAXF];
	struct gate_fn_sample s[MAXF];
	uint64_t now;
	struct gate_out out;
	struct pg_rng r;
	enum gate_backend backend;
};

static const char *const fnames[MAXF] = { "parse_request", "lookup", "fmt_reply", "log_line" };

static void fx_policy(struct pg_policy *p)
{
	policy_defaults(p);
	p->min_samples = 1000;
	p->max_wait_ns = 60 * SEC;
	p->dwell_ns = 1 * SEC;
	p->transition_timeout_ns = 30 * SEC;
	p->bake_ns = 60 * SEC;
	p->hang_timeout_ns = 5 * SEC;
	/* the tests below count on the bake ending at bake; min_post_calls has its own */
	p->min_post_calls = 0;
}

static struct fx *fx_new_opts(unsigned int nf, enum gate_backend be, const struct pg_policy *pol,
			      bool dry_run)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct gate_opts o = { .backend = be, .nfuncs = nf, .funcs = fnames, .dry_run = dry_run };

	assert_non_null(f);
	if (pol)
		f->pol = *pol;
	else
		fx_policy(&f->pol);
	o.policy = &f->pol;
	f->nf = nf;
	f->backend = be;
	f->now = 1000 * SEC;
	pg_rng_seed(&f->r, 42);
	for (unsigned int i = 0; i < nf; i++)
		f->s[i].hist = &f->h[i];
	f->g = gate__new(&o);
	assert_non_null(f->g);
	return f;
}

static struct fx *fx_new(unsigned int nf, enum gate_backend be)
{
	return fx_new_opts(nf, be, NULL, false);
}

static void fx_free(struct fx *f)
{
	gate__free(f->g);
	free(f);
}

static int fx_step(struct fx *f, struct gate_obs o)
{
	return gate_step(f->g, &o, f->now, &f->out);
}

static int has_action(const struct gate_out *o, enum gate_act_type t)
{
	for (unsigned int i = 0; i < o->nact; i++)
		if (o->act[i].type == t)
			return (int)i;
	return -1;
}

static int done_code(const struct gate_out *o)
{
	int i = has_action(o, GATE_ACT_DONE);

	return i < 0 ? -1 : o->act[i].exit_code;
}

/* New generation: the controller's counters start again. */
static void fx_bump(struct fx *f)
{
	for (unsigned int i = 0; i < f->nf; i++) {
		hist_reset(&f->h[i]);
		f->s[i].calls = f->s[i].exits = f->s[i].errors = 0;
	}
}

/* @n calls of function @i, lognormal(median, sigma) scaled by @slow; errors with prob @err. */
static void fx_calls(struct fx *f, unsigned int i, unsigned int n, double median, double sigma,
		     double slow, double err)
{
	for (unsigned int k = 0; k < n; k++) {
		double x = pg_rng_lognormal(&f->r, median, sigma) * slow;

		hist_add(&f->h[i], (uint64_t)llround(x), 1);
		f->s[i].calls++;
		f->s[i].exits++;
		if (err > 0.0 && pg_rng_unit(&f->r) < err)
			f->s[i].errors++;
	}
}

static int fx_samples(struct fx *f)
{
	struct gate_obs o = { .type = GATE_OBS_SAMPLES };

	o.samples.nfuncs = f->nf;
	o.samples.fn = f->s;
	return fx_step(f, o);
}

static int fx_simple(struct fx *f, enum gate_obs_type t)
{
	struct gate_obs o = { .type = t };

	return fx_step(f, o);
}

static int fx_window(struct fx *f, bool clear, unsigned int n, const struct pg_inside *b)
{
	struct gate_obs o = { .type = GATE_OBS_WINDOW };

	o.window.clear = clear;
	o.window.nblockers = n;
	o.window.blockers = b;
	return fx_step(f, o);
}

static int fx_applied(struct fx *f, int err, bool partial)
{
	struct gate_obs o = { .type = GATE_OBS_APPLIED };

	o.applied.err = err;
	o.applied.partial = partial;
	return fx_step(f, o);
}

static int fx_transition(struct fx *f, bool done, unsigned int n, const struct pg_inside *b)
{
	struct gate_obs o = { .type = GATE_OBS_TRANSITION };

	o.transition.done = done;
	o.transition.nstragglers = n;
	o.transition.stragglers = b;
	return fx_step(f, o);
}

static int fx_reverted(struct fx *f, int err)
{
	struct gate_obs o = { .type = GATE_OBS_REVERTED };

	o.reverted.err = err;
	return fx_step(f, o);
}

static int fx_taint(struct fx *f, uint64_t mask, unsigned int warns)
{
	struct gate_obs o = { .type = GATE_OBS_TAINT };

	o.taint.taint = mask;
	o.taint.new_warns = warns;
	return fx_step(f, o);
}

static void expect_decision(struct fx *f, enum gate_state from, enum gate_state to,
			    enum gate_reason why)
{
	assert_non_null(f->out.audit);
	if (f->out.audit->from != from || f->out.audit->to != to || f->out.audit->reason != why)
		fail_msg("decision %s -> %s (%s), wanted %s -> %s (%s): %s",
			 gate_state_name(f->out.audit->from), gate_state_name(f->out.audit->to),
			 gate_reason_name(f->out.audit->reason), gate_state_name(from),
			 gate_state_name(to), gate_reason_name(why), f->out.audit->detail);
	assert_int_equal(gate_state(f->g), to);
}

/* ---- driving a gate to a state ---------------------------------------- */

static void to_baseline(struct fx *f)
{
	assert_int_equal(fx_simple(f, GATE_OBS_START), 0);
	expect_decision(f, GATE_IDLE, GATE_BASELINE, GATE_R_STARTED);
}

static void to_wait_window(struct fx *f)
{
	to_baseline(f);
	for (unsigned int i = 0; i < f->nf; i++)
		fx_calls(f, i, 2000, 20000.0, 0.5, 1.0, 0.001);
	f->now += SEC;
	assert_int_equal(fx_samples(f), 0);
	expect_decision(f, GATE_BASELINE, GATE_WAIT_WINDOW, GATE_R_BASELINE_DONE);
}

static void to_applying(struct fx *f)
{
	to_wait_window(f);
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	f->now += f->pol.dwell_ns;
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	expect_decision(f, GATE_WAIT_WINDOW, GATE_APPLYING, GATE_R_WINDOW_CLEAR);
	assert_true(has_action(&f->out, GATE_ACT_APPLY) >= 0);
}

static void to_transition(struct fx *f)
{
	to_applying(f);
	assert_int_equal(fx_applied(f, 0, false), 0);
	expect_decision(f, GATE_APPLYING, GATE_TRANSITION, GATE_R_APPLIED);
}

static void to_bake(struct fx *f)
{
	if (f->backend == GATE_BACKEND_KLP) {
		to_transition(f);
		assert_int_equal(fx_transition(f, true, 0, NULL), 0);
		expect_decision(f, GATE_TRANSITION, GATE_BAKE, GATE_R_TRANSITION_DONE);
	} else {
		to_applying(f);
		assert_int_equal(fx_applied(f, 0, false), 0);
		expect_decision(f, GATE_APPLYING, GATE_BAKE, GATE_R_APPLIED);
	}
	assert_true(has_action(&f->out, GATE_ACT_BUMP_GENERATION) >= 0);
	fx_bump(f);
}

static void to_reverting(struct fx *f)
{
	to_bake(f);
	assert_int_equal(fx_simple(f, GATE_OBS_CANCEL), 0);
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_CANCELLED);
}

/*
 * Bake: every second @rate calls of each function (function 0 changed by
 * @slow/@err), until the gate decides or @secs pass.  Returns the state.
 */
static enum gate_state bake_run(struct fx *f, unsigned int rate, double slow, double err,
				unsigned int secs)
{
	for (unsigned int t = 0; t < secs && gate_state(f->g) == GATE_BAKE; t++) {
		for (unsigned int i = 0; i < f->nf; i++)
			fx_calls(f, i, rate, 20000.0, 0.5, i == 0 ? slow : 1.0, i == 0 ? err : 0.001);
		f->now += SEC;
		assert_int_equal(fx_samples(f), 0);
	}
	return gate_state(f->g);
}

/* ---- transitions -------------------------------------------------------- */

static void test_start_attaches_probes(void **state)
{
	struct fx *f = fx_new(2, GATE_BACKEND_ULP);

	(void)state;
	assert_int_equal(gate_state(f->g), GATE_IDLE);
	to_baseline(f);
	assert_int_equal(f->out.nact, 1);
	assert_int_equal(f->out.act[0].type, GATE_ACT_ATTACH_PROBES);
	assert_int_equal(f->out.audit->seq, 1);
	assert_int_equal(f->out.audit->exit_code, -1);
	assert_int_equal(f->out.audit->nfuncs, 2);
	assert_string_equal(f->out.audit->fn[1].name, "lookup");
	assert_false(gate_done(f->g));
	assert_int_equal(gate_exit_code(f->g), -1);
	fx_free(f);
}

static void test_baseline_needs_every_function(void **state)
{
	struct fx *f = fx_new(2, GATE_BACKEND_ULP);

	(void)state;
	to_baseline(f);
	fx_calls(f, 0, 5000, 20000.0, 0.5, 1.0, 0.0);
	fx_calls(f, 1, 999, 20000.0, 0.5, 1.0, 0.0);
	f->now += SEC;
	assert_int_equal(fx_samples(f), 0);
	assert_null(f->out.audit);
	assert_int_equal(gate_state(f->g), GATE_BASELINE);
	fx_calls(f, 1, 1, 20000.0, 0.5, 1.0, 0.0);
	f->now += SEC;
	assert_int_equal(fx_samples(f), 0);
	expect_decision(f, GATE_BASELINE, GATE_WAIT_WINDOW, GATE_R_BASELINE_DONE);
	assert_false(f->out.audit->baseline_short);
	assert_int_equal(f->out.audit->fn[1].v.n_base, 1000);
	fx_free(f);
}

static void test_baseline_short_at_max_wait(void **state)
{
	struct fx *f = fx_new(2, GATE_BACKEND_ULP);

	(void)state;
	to_baseline(f);
	fx_calls(f, 0, 5000, 20000.0, 0.5, 1.0, 0.0);
	fx_calls(f, 1, 300, 20000.0, 0.5, 1.0, 0.0);
	f->now += 30 * SEC;
	assert_int_equal(fx_samples(f), 0);
	assert_int_equal(gate_state(f->g), GATE_BASELINE);
	f->now += 30 * SEC - 1;
	assert_int_equal(fx_simple(f, GATE_OBS_TICK), 0);
	assert_int_equal(gate_state(f->g), GATE_BASELINE);
	f->now += 1;
	assert_int_equal(fx_simple(f, GATE_OBS_TICK), 0);
	expect_decision(f, GATE_BASELINE, GATE_WAIT_WINDOW, GATE_R_BASELINE_SHORT);
	assert_true(f->out.audit->baseline_short);
	assert_non_null(strstr(f->out.audit->detail, "lookup at 300 of 1000"));
	fx_free(f);
}

static void test_window_must_stay_clear_for_dwell(void **state)
{
	struct pg_inside b = { .pid = 77, .tid = 78, .comm = "worker", .func = "lookup",
				  .state = "S" };
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_wait_window(f);
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	f->now += 900 * MS;
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	assert_int_equal(gate_state(f->g), GATE_WAIT_WINDOW);
	/* a blocker resets the clock */
	f->now += 50 * MS;
	assert_int_equal(fx_window(f, false, 1, &b), 0);
	f->now += 50 * MS;
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	f->now += 999 * MS;
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	assert_int_equal(gate_state(f->g), GATE_WAIT_WINDOW);
	assert_null(f->out.audit);
	f->now += 1 * MS;
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	expect_decision(f, GATE_WAIT_WINDOW, GATE_APPLYING, GATE_R_WINDOW_CLEAR);
	assert_int_equal(f->out.act[0].type, GATE_ACT_APPLY);
	assert_int_equal(f->out.audit->nblockers, 0);
	fx_free(f);
}

static void test_blockers_reported_on_change(void **state)
{
	struct pg_inside b[2] = {
		{ .pid = 77, .tid = 78, .comm = "worker", .func = "lookup", .state = "S" },
		{ .pid = 77, .tid = 79, .comm = "worker", .func = "parse_request", .state = "D" },
	};
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_wait_window(f);
	assert_int_equal(fx_window(f, false, 1, b), 0);
	assert_true(has_action(&f->out, GATE_ACT_REPORT_BLOCKERS) >= 0);
	assert_int_equal(f->out.nblockers, 1);
	assert_int_equal(f->out.blockers[0].tid, 78);
	f->now += SEC;
	assert_int_equal(fx_window(f, false, 1, b), 0);
	assert_int_equal(has_action(&f->out, GATE_ACT_REPORT_BLOCKERS), -1);
	f->now += SEC;
	assert_int_equal(fx_window(f, false, 2, b), 0);
	assert_true(has_action(&f->out, GATE_ACT_REPORT_BLOCKERS) >= 0);
	assert_int_equal(f->out.nblockers_total, 2);
	assert_string_equal(f->out.blockers[1].func, "parse_request");
	fx_free(f);
}

static void test_no_window_aborts_exit3(void **state)
{
	struct pg_inside b[20];
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	memset(b, 0, sizeof(b));
	for (int i = 0; i < 20; i++) {
		b[i].pid = 500;
		b[i].tid = 500 + i;
		strcpy(b[i].comm, "busy");
		strcpy(b[i].func, "parse_request");
		strcpy(b[i].state, "running");
	}
	to_wait_window(f);
	for (int t = 0; t < 59; t++) {
		assert_int_equal(fx_window(f, false, 20, b), 0);
		assert_int_equal(gate_state(f->g), GATE_WAIT_WINDOW);
		f->now += SEC;
	}
	f->now += SEC;
	assert_int_equal(fx_window(f, false, 20, b), 0);
	expect_decision(f, GATE_WAIT_WINDOW, GATE_ABORTED, GATE_R_NO_WINDOW);
	assert_int_equal(done_code(&f->out), GATE_EXIT_NO_WINDOW);
	assert_int_equal(has_action(&f->out, GATE_ACT_APPLY), -1);
	assert_int_equal(f->out.audit->nblockers, GATE_MAX_BLOCKERS);
	assert_int_equal(f->out.audit->nblockers_total, 20);
	assert_non_null(strstr(f->out.audit->detail, "busy[500/500] in parse_request (running)"));
	assert_non_null(strstr(f->out.audit->detail, "and 17 more"));
	assert_true(gate_done(f->g));
	assert_int_equal(gate_exit_code(f->g), 3);
	fx_free(f);
}

/* max_wait is also enforced by TICK alone, when residency stops reporting. */
static void test_no_window_by_tick(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_KLP);

	(void)state;
	to_wait_window(f);
	f->now += 60 * SEC;
	assert_int_equal(fx_simple(f, GATE_OBS_TICK), 0);
	expect_decision(f, GATE_WAIT_WINDOW, GATE_ABORTED, GATE_R_NO_WINDOW);
	assert_int_equal(done_code(&f->out), 3);
	fx_free(f);
}

static void test_dry_run_stops_before_apply(void **state)
{
	struct fx *f = fx_new_opts(1, GATE_BACKEND_ULP, NULL, true);

	(void)state;
	to_wait_window(f);
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	f->now += SEC;
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	expect_decision(f, GATE_WAIT_WINDOW, GATE_ABORTED, GATE_R_DRY_RUN);
	assert_int_equal(has_action(&f->out, GATE_ACT_APPLY), -1);
	assert_int_equal(done_code(&f->out), 0);
	assert_true(f->out.audit->dry_run);
	fx_free(f);
}

static void test_ulp_apply_goes_straight_to_bake(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_applying(f);
	assert_int_equal(fx_applied(f, 0, false), 0);
	expect_decision(f, GATE_APPLYING, GATE_BAKE, GATE_R_APPLIED);
	assert_int_equal(f->out.nact, 1);
	assert_int_equal(f->out.act[0].type, GATE_ACT_BUMP_GENERATION);
	/* no TRANSITION for ulp */
	assert_int_equal(fx_transition(f, true, 0, NULL), -EINVAL);
	fx_free(f);
}

static void test_klp_transition_then_bake(void **state)
{
	struct pg_inside s = { .pid = 1, .tid = 123, .comm = "kworker/0:1", .func = "msleep",
				  .state = "D" };
	struct fx *f = fx_new(1, GATE_BACKEND_KLP);

	(void)state;
	to_transition(f);
	assert_int_equal(has_action(&f->out, GATE_ACT_BUMP_GENERATION), -1);
	f->now += 10 * SEC;
	assert_int_equal(fx_transition(f, false, 1, &s), 0);
	assert_null(f->out.audit);
	f->now += 10 * SEC;
	assert_int_equal(fx_transition(f, true, 0, NULL), 0);
	expect_decision(f, GATE_TRANSITION, GATE_BAKE, GATE_R_TRANSITION_DONE);
	assert_true(has_action(&f->out, GATE_ACT_BUMP_GENERATION) >= 0);
	assert_int_equal(f->out.audit->nblockers, 0);
	fx_free(f);
}

static void test_transition_timeout_reverts_exit4(void **state)
{
	struct pg_inside s = { .pid = 1, .tid = 123, .comm = "kworker/0:1", .func = "msleep",
				  .state = "D" };
	struct fx *f = fx_new(1, GATE_BACKEND_KLP);
	int i;

	(void)state;
	to_transition(f);
	f->now += 29 * SEC;
	assert_int_equal(fx_transition(f, false, 1, &s), 0);
	assert_int_equal(gate_state(f->g), GATE_TRANSITION);
	f->now += SEC;
	assert_int_equal(fx_simple(f, GATE_OBS_TICK), 0);
	expect_decision(f, GATE_TRANSITION, GATE_REVERTING, GATE_R_TRANSITION_TIMEOUT);
	i = has_action(&f->out, GATE_ACT_REVERT);
	assert_true(i >= 0);
	assert_int_equal(f->out.act[i].reason, GATE_R_TRANSITION_TIMEOUT);
	assert_non_null(strstr(f->out.audit->detail, "kworker/0:1[1/123] in msleep (D)"));
	assert_int_equal(f->out.audit->nblockers, 1);
	f->now += 2 * SEC;
	assert_int_equal(fx_reverted(f, 0), 0);
	expect_decision(f, GATE_REVERTING, GATE_REVERTED, GATE_R_REVERTED);
	assert_int_equal(done_code(&f->out), GATE_EXIT_TRANSITION);
	assert_int_equal(gate_exit_code(f->g), 4);
	fx_free(f);
}

static void test_apply_failed_aborts_exit5(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_KLP);

	(void)state;
	to_applying(f);
	assert_int_equal(fx_applied(f, -EPERM, false), 0);
	expect_decision(f, GATE_APPLYING, GATE_ABORTED, GATE_R_APPLY_FAILED);
	assert_int_equal(done_code(&f->out), GATE_EXIT_SYSTEM);
	assert_int_equal(has_action(&f->out, GATE_ACT_REVERT), -1);
	assert_non_null(strstr(f->out.audit->detail, "Operation not permitted"));
	fx_free(f);
}

static void test_apply_failed_partial_reverts(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_applying(f);
	assert_int_equal(fx_applied(f, -EIO, true), 0);
	expect_decision(f, GATE_APPLYING, GATE_REVERTING, GATE_R_APPLY_FAILED);
	assert_true(has_action(&f->out, GATE_ACT_REVERT) >= 0);
	assert_int_equal(fx_reverted(f, 0), 0);
	expect_decision(f, GATE_REVERTING, GATE_REVERTED, GATE_R_REVERTED);
	assert_int_equal(done_code(&f->out), GATE_EXIT_SYSTEM);
	fx_free(f);
}

static void test_good_patch_commits(void **state)
{
	struct fx *f = fx_new(2, GATE_BACKEND_KLP);

	(void)state;
	to_bake(f);
	assert_int_equal(bake_run(f, 100, 1.0, 0.001, 59), GATE_BAKE);
	assert_int_equal(bake_run(f, 100, 1.0, 0.001, 1), GATE_COMMITTED);
	expect_decision(f, GATE_BAKE, GATE_COMMITTED, GATE_R_BAKE_OK);
	assert_int_equal(done_code(&f->out), GATE_EXIT_COMMITTED);
	assert_true(f->out.audit->judged);
	assert_true(f->out.audit->fn[0].judged && f->out.audit->fn[1].judged);
	assert_int_equal(f->out.audit->fn[0].v.n_post, 6000);
	/* looks at 1000, 2000 and 4000 calls, then the final one */
	assert_int_equal(f->out.audit->fn[0].looks, 3);
	assert_true(f->out.audit->alpha_spent <= f->pol.alpha);
	fx_free(f);
}

static void test_slow_patch_reverts_within_bake(void **state)
{
	struct fx *f = fx_new(2, GATE_BACKEND_ULP);
	const struct gate_audit *a;

	(void)state;
	to_bake(f);
	/* every call of parse_request 1.3x slower: caught at a look, not at the end */
	assert_int_equal(bake_run(f, 100, 1.3, 0.001, 60), GATE_REVERTING);
	a = f->out.audit;
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_REGRESSED);
	assert_true(a->elapsed_ns > 0);
	assert_true(a->fn[0].judged);
	assert_int_equal(a->fn[0].v.outcome, STATS_REGRESSED);
	assert_true(a->fn[0].v.rules & STATS_RULE_P50);
	assert_true(a->fn[0].v.n_post <= 2000);
	assert_true(a->fn[1].v.outcome != STATS_REGRESSED);
	assert_true(a->look_alpha > 0.0 && a->fn[0].v.alpha == a->look_alpha);
	assert_true(has_action(&f->out, GATE_ACT_REVERT) >= 0);
	assert_non_null(strstr(a->detail, "parse_request regressed (p50"));
	assert_int_equal(fx_reverted(f, 0), 0);
	expect_decision(f, GATE_REVERTING, GATE_REVERTED, GATE_R_REVERTED);
	assert_int_equal(done_code(&f->out), GATE_EXIT_REGRESSED);
	fx_free(f);
}

static void test_erroring_patch_reverts(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_bake(f);
	assert_int_equal(bake_run(f, 100, 1.0, 0.05, 60), GATE_REVERTING);
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_REGRESSED);
	assert_int_equal(f->out.audit->fn[0].v.rules, STATS_RULE_ERRORS);
	assert_true(f->out.audit->fn[0].v.err_rate_post > 0.03);
	fx_free(f);
}

/* in-flight above the baseline's maximum and no call returning for hang_timeout */
static void test_hung_calls_revert(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_bake(f);
	assert_int_equal(bake_run(f, 100, 1.0, 0.001, 3), GATE_BAKE);
	for (int t = 0; t < 5; t++) {
		f->s[0].inflight = 4 + t;	/* threads pile up; exits stop */
		f->s[0].calls += 1;
		f->now += SEC;
		assert_int_equal(fx_samples(f), 0);
		assert_int_equal(gate_state(f->g), GATE_BAKE);
	}
	f->now += SEC;
	assert_int_equal(fx_simple(f, GATE_OBS_TICK), 0);
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_HUNG);
	assert_true(f->out.audit->fn[0].hung);
	assert_int_equal(f->out.audit->fn[0].inflight, 8);
	assert_non_null(strstr(f->out.audit->detail, "parse_request: calls stopped returning"));
	assert_int_equal(fx_reverted(f, 0), 0);
	assert_int_equal(done_code(&f->out), GATE_EXIT_REGRESSED);
	fx_free(f);
}

/*
 * Calls in flight at no more than the baseline's concurrency, but none
 * returning for hang_timeout: every thread that used to pass through is
 * now stuck (on a busy host the baseline saw all of them inside at once).
 */
static void test_stalled_at_baseline_level_is_a_hang(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_baseline(f);
	f->s[0].inflight = 4;
	fx_calls(f, 0, 2000, 20000.0, 0.5, 1.0, 0.001);
	f->now += SEC;
	assert_int_equal(fx_samples(f), 0);
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	f->now += SEC;
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	assert_int_equal(fx_applied(f, 0, false), 0);
	fx_bump(f);
	fx_calls(f, 0, 100, 20000.0, 0.5, 1.0, 0.001);
	f->now += SEC;
	assert_int_equal(fx_samples(f), 0);
	for (int t = 0; t < 8 && gate_state(f->g) == GATE_BAKE; t++) {
		f->s[0].inflight = 4;	/* all four threads inside; no call returns */
		f->s[0].calls += 1;
		f->now += SEC;
		assert_int_equal(fx_samples(f), 0);
	}
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_HUNG);
	assert_true(f->out.audit->fn[0].hung);
	fx_free(f);
}

/* Busy but returning, at the baseline's concurrency: no hang. */
static void test_inflight_at_baseline_level_is_not_a_hang(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_baseline(f);
	f->s[0].inflight = 6;
	fx_calls(f, 0, 2000, 20000.0, 0.5, 1.0, 0.001);
	f->now += SEC;
	assert_int_equal(fx_samples(f), 0);
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	f->now += SEC;
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	assert_int_equal(fx_applied(f, 0, false), 0);
	fx_bump(f);
	for (int t = 0; t < 60; t++) {
		f->s[0].inflight = 3 + t % 4;		/* 3..6, never above 6 */
		fx_calls(f, 0, 100, 20000.0, 0.5, 1.0, 0.001);
		f->now += SEC;
		assert_int_equal(fx_samples(f), 0);
	}
	expect_decision(f, GATE_BAKE, GATE_COMMITTED, GATE_R_BAKE_OK);
	assert_false(f->out.audit->fn[0].hung);
	assert_int_equal(f->out.audit->fn[0].inflight_base_max, 6);
	fx_free(f);
}

/* Calls still return, but in-flight only grows: the hang of a fraction of calls. */
static void test_growing_inflight_is_a_hang(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_bake(f);
	for (int t = 0; t < 10 && gate_state(f->g) == GATE_BAKE; t++) {
		f->s[0].inflight = 1 + t;
		fx_calls(f, 0, 50, 20000.0, 0.5, 1.0, 0.001);
		f->now += SEC;
		assert_int_equal(fx_samples(f), 0);
	}
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_HUNG);
	assert_non_null(strstr(f->out.audit->detail, "slowing while in-flight grows"));
	fx_free(f);
}

static void test_target_died_after_apply(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_bake(f);
	f->now += SEC;
	assert_int_equal(fx_simple(f, GATE_OBS_TARGET_DIED), 0);
	expect_decision(f, GATE_BAKE, GATE_REVERTED, GATE_R_TARGET_DIED);
	/* nothing to revert in a dead process */
	assert_int_equal(has_action(&f->out, GATE_ACT_REVERT), -1);
	assert_int_equal(done_code(&f->out), GATE_EXIT_REGRESSED);
	fx_free(f);
}

static void test_target_died_before_apply(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_baseline(f);
	assert_int_equal(fx_simple(f, GATE_OBS_TARGET_DIED), 0);
	expect_decision(f, GATE_BASELINE, GATE_ABORTED, GATE_R_TARGET_DIED);
	assert_int_equal(done_code(&f->out), GATE_EXIT_SYSTEM);
	fx_free(f);
}

static void test_target_died_while_applying_or_reverting(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_applying(f);
	assert_int_equal(fx_simple(f, GATE_OBS_TARGET_DIED), 0);
	expect_decision(f, GATE_APPLYING, GATE_REVERTED, GATE_R_TARGET_DIED);
	assert_int_equal(done_code(&f->out), GATE_EXIT_REGRESSED);
	fx_free(f);

	f = fx_new(1, GATE_BACKEND_ULP);
	to_reverting(f);
	assert_int_equal(fx_simple(f, GATE_OBS_TARGET_DIED), 0);
	expect_decision(f, GATE_REVERTING, GATE_REVERTED, GATE_R_TARGET_DIED);
	/* the exit code is the revert's reason's: cancelled */
	assert_int_equal(done_code(&f->out), GATE_EXIT_SYSTEM);
	fx_free(f);
}

static void test_new_taint_reverts(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_KLP);

	(void)state;
	to_baseline(f);
	/* taint from before the patch (W, bit 9) is the reference */
	assert_int_equal(fx_taint(f, 1ULL << 9, 0), 0);
	assert_null(f->out.audit);
	for (unsigned int i = 0; i < f->nf; i++)
		fx_calls(f, i, 2000, 20000.0, 0.5, 1.0, 0.001);
	assert_int_equal(fx_samples(f), 0);
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	f->now += SEC;
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	assert_int_equal(fx_applied(f, 0, false), 0);
	/* the livepatch's own O, E, K bits do not count */
	assert_int_equal(fx_taint(f, (1ULL << 9) | GATE_TAINT_IGNORED, 0), 0);
	assert_int_equal(gate_state(f->g), GATE_TRANSITION);
	assert_int_equal(fx_transition(f, true, 0, NULL), 0);
	f->now += SEC;
	/* D (die/oops, bit 7) is new */
	assert_int_equal(fx_taint(f, (1ULL << 9) | (1ULL << 7) | GATE_TAINT_IGNORED, 0), 0);
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_TAINT);
	assert_non_null(strstr(f->out.audit->detail, "0x80"));
	assert_int_equal(fx_reverted(f, 0), 0);
	assert_int_equal(done_code(&f->out), GATE_EXIT_REGRESSED);
	fx_free(f);
}

static void test_new_warn_reverts(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_KLP);

	(void)state;
	to_transition(f);
	assert_int_equal(fx_taint(f, 0, 1), 0);
	expect_decision(f, GATE_TRANSITION, GATE_REVERTING, GATE_R_TAINT);
	assert_non_null(strstr(f->out.audit->detail, "1 new WARN"));
	fx_free(f);
}

/* Too few calls at the end of BAKE, on_inconclusive=extend: once more, then revert. */
static void test_inconclusive_extend_then_revert(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_bake(f);
	assert_int_equal(bake_run(f, 5, 1.0, 0.0, 60), GATE_BAKE);
	expect_decision(f, GATE_BAKE, GATE_BAKE, GATE_R_BAKE_EXTENDED);
	assert_true(f->out.audit->extended);
	assert_int_equal(f->out.nact, 0);
	assert_int_equal(bake_run(f, 5, 1.0, 0.0, 59), GATE_BAKE);
	assert_int_equal(bake_run(f, 5, 1.0, 0.0, 1), GATE_REVERTING);
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_INCONCLUSIVE);
	assert_false(f->out.audit->judged);
	assert_non_null(strstr(f->out.audit->detail, "600 post"));
	assert_int_equal(fx_reverted(f, 0), 0);
	assert_int_equal(done_code(&f->out), GATE_EXIT_REGRESSED);
	fx_free(f);
}

static void test_inconclusive_extend_then_commit(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_bake(f);
	assert_int_equal(bake_run(f, 10, 1.0, 0.001, 60), GATE_BAKE);
	expect_decision(f, GATE_BAKE, GATE_BAKE, GATE_R_BAKE_EXTENDED);
	assert_int_equal(bake_run(f, 10, 1.0, 0.001, 60), GATE_COMMITTED);
	expect_decision(f, GATE_BAKE, GATE_COMMITTED, GATE_R_BAKE_OK);
	assert_true(f->out.audit->extended);
	fx_free(f);
}

static void test_inconclusive_hold_commits_unjudged(void **state)
{
	struct pg_policy pol;
	struct fx *f;

	(void)state;
	fx_policy(&pol);
	pol.on_inconclusive = PG_INCONCLUSIVE_HOLD;
	f = fx_new_opts(1, GATE_BACKEND_ULP, &pol, false);
	to_bake(f);
	assert_int_equal(bake_run(f, 5, 1.0, 0.0, 60), GATE_COMMITTED);
	expect_decision(f, GATE_BAKE, GATE_COMMITTED, GATE_R_HELD);
	assert_false(f->out.audit->judged);
	assert_int_equal(done_code(&f->out), GATE_EXIT_COMMITTED);
	assert_int_equal(f->out.audit->policy.on_inconclusive, PG_INCONCLUSIVE_HOLD);
	fx_free(f);
}

static void test_inconclusive_revert(void **state)
{
	struct pg_policy pol;
	struct fx *f;

	(void)state;
	fx_policy(&pol);
	pol.on_inconclusive = PG_INCONCLUSIVE_REVERT;
	f = fx_new_opts(1, GATE_BACKEND_ULP, &pol, false);
	to_bake(f);
	assert_int_equal(bake_run(f, 5, 1.0, 0.0, 60), GATE_REVERTING);
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_INCONCLUSIVE);
	fx_free(f);
}

/* From START, @step calls of lognormal(20 us, @sigma) a tick until the baseline is done; returns the calls. */
static unsigned int baseline_until_ready(struct fx *f, unsigned int step, double sigma)
{
	unsigned int n = 0;

	to_baseline(f);
	while (gate_state(f->g) == GATE_BASELINE && n < 20000) {
		fx_calls(f, 0, step, 20000.0, sigma, 1.0, 0.001);
		n += step;
		f->now += SEC / 10;
		assert_int_equal(fx_samples(f), 0);
	}
	return n;
}

/*
 * tail_calls: a heavy tail (sigma 1.0, four times a sigma 0.5's width
 * squared) keeps the baseline going past min_samples until it has about
 * 4 x tail_calls calls, and the bake past bake until it has as many post
 * calls; a sigma 0.5 tail needs about tail_calls.
 */
static void test_tail_calls_scale_with_the_tail(void **state)
{
	struct pg_policy pol;
	struct fx *f;
	unsigned int n, extended = 0;

	(void)state;
	fx_policy(&pol);
	pol.tail_calls = 2000;
	pol.max_bake_ns = 600 * SEC;
	f = fx_new_opts(1, GATE_BACKEND_ULP, &pol, false);
	n = baseline_until_ready(f, 500, 1.0);
	/* 4 x 2000 = 8000 give or take the width's noise; min_samples alone: 1000 */
	assert_int_equal(gate_state(f->g), GATE_WAIT_WINDOW);
	print_message("sigma 1.0 baseline: %u calls\n", n);
	assert_true(n >= 5000 && n <= 12000);
	assert_non_null(strstr(f->out.audit->detail, "tail_calls"));
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	f->now += f->pol.dwell_ns;
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	assert_int_equal(fx_applied(f, 0, false), 0);
	fx_bump(f);
	/* 100 calls/s of the same law: 6000 at the end of the 60 s bake, short of its need */
	while (gate_state(f->g) == GATE_BAKE && f->s[0].calls < 30000) {
		fx_calls(f, 0, 100, 20000.0, 1.0, 1.0, 0.001);
		f->now += SEC;
		assert_int_equal(fx_samples(f), 0);
		if (f->out.audit && f->out.audit->reason == GATE_R_BAKE_EXTENDED) {
			assert_non_null(strstr(f->out.audit->detail, "tail_calls"));
			extended++;
		}
	}
	assert_int_equal(extended, 1);
	assert_int_equal(gate_state(f->g), GATE_COMMITTED);
	assert_true(f->out.audit->fn[0].v.n_post >= 6500);
	fx_free(f);

	/* sigma 0.5: its width is the reference, so about tail_calls */
	f = fx_new_opts(1, GATE_BACKEND_ULP, &pol, false);
	n = baseline_until_ready(f, 250, 0.5);
	assert_int_equal(gate_state(f->g), GATE_WAIT_WINDOW);
	assert_true(n >= 1250 && n <= 3500);
	fx_free(f);
}

/*
 * min_post_calls: at the end of bake with fewer post calls than it asks
 * for, the bake goes on (one BAKE_EXTENDED record) and commits once they
 * are there, before max_bake.
 */
static void test_bake_waits_for_min_post_calls(void **state)
{
	struct pg_policy pol;
	struct fx *f;

	(void)state;
	fx_policy(&pol);
	pol.min_post_calls = 4000;
	pol.max_bake_ns = 120 * SEC;
	f = fx_new_opts(1, GATE_BACKEND_ULP, &pol, false);
	to_bake(f);
	/* 50 calls/s: 3000 at the end of bake (60 s) */
	assert_int_equal(bake_run(f, 50, 1.0, 0.001, 60), GATE_BAKE);
	expect_decision(f, GATE_BAKE, GATE_BAKE, GATE_R_BAKE_EXTENDED);
	assert_non_null(strstr(f->out.audit->detail, "min_post_calls"));
	assert_true(f->out.audit->extended);
	/* no second record while it waits */
	assert_int_equal(bake_run(f, 50, 1.0, 0.001, 5), GATE_BAKE);
	assert_null(f->out.audit);
	/* 4000 calls at 80 s: committed, well before max_bake */
	assert_int_equal(bake_run(f, 50, 1.0, 0.001, 30), GATE_COMMITTED);
	expect_decision(f, GATE_BAKE, GATE_COMMITTED, GATE_R_BAKE_OK);
	assert_true(f->out.audit->fn[0].v.n_post >= 4000);
	assert_true(f->out.audit->fn[0].v.n_post < 4200);
	assert_null(strstr(f->out.audit->detail, "max_bake"));
	fx_free(f);
}

/*
 * max_bake bounds the wait: the calls still short of min_post_calls but
 * past min_samples, the verdict is taken on what there is, and the record
 * says so.  max_bake = 0 is twice bake.
 */
static void test_max_bake_bounds_the_wait(void **state)
{
	struct pg_policy pol;
	struct fx *f;

	(void)state;
	fx_policy(&pol);
	pol.min_post_calls = 100000;
	pol.max_bake_ns = 90 * SEC;
	f = fx_new_opts(1, GATE_BACKEND_ULP, &pol, false);
	to_bake(f);
	assert_int_equal(bake_run(f, 20, 1.0, 0.001, 60), GATE_BAKE);
	expect_decision(f, GATE_BAKE, GATE_BAKE, GATE_R_BAKE_EXTENDED);
	assert_int_equal(bake_run(f, 20, 1.0, 0.001, 40), GATE_COMMITTED);
	expect_decision(f, GATE_BAKE, GATE_COMMITTED, GATE_R_BAKE_OK);
	assert_non_null(strstr(f->out.audit->detail, "max_bake reached"));
	assert_true(f->out.audit->fn[0].v.n_post <= 91 * 20);
	assert_true(f->out.audit->judged);
	fx_free(f);

	pol.max_bake_ns = 0;
	assert_int_equal(policy_max_bake_ns(&pol), 2 * pol.bake_ns);
	assert_int_equal(policy_post_calls(&pol), 100000);
	pol.min_post_calls = 500;
	assert_int_equal(policy_post_calls(&pol), pol.min_samples);
	pol.min_post_calls = 0;
	assert_int_equal(policy_post_calls(&pol), 0);
}

/* A regression found while the bake waits for min_post_calls is reverted then. */
static void test_regression_while_waiting_for_calls(void **state)
{
	struct pg_policy pol;
	struct fx *f;

	(void)state;
	fx_policy(&pol);
	pol.min_samples = 2000;
	pol.min_post_calls = 8000;
	f = fx_new_opts(1, GATE_BACKEND_ULP, &pol, false);
	to_bake(f);
	/* 30 calls/s: 1800 post calls at 60 s, below min_samples: no look yet */
	assert_int_equal(bake_run(f, 30, 2.0, 0.001, 60), GATE_BAKE);
	expect_decision(f, GATE_BAKE, GATE_BAKE, GATE_R_BAKE_EXTENDED);
	/* the first look at 2000 calls, during the wait, sees it */
	assert_int_equal(bake_run(f, 30, 2.0, 0.001, 20), GATE_REVERTING);
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_REGRESSED);
	fx_free(f);
}

/* A gate on function 0 with function 1 as its control (SAMPLES carry both). */
static struct fx *fx_new_ctl(void)
{
	struct fx *f = fx_new(2, GATE_BACKEND_ULP);

	gate__free(f->g);
	f->g = gate__new(&(struct gate_opts){ .policy = &f->pol, .backend = GATE_BACKEND_ULP,
					       .nfuncs = 1, .funcs = fnames, .ncontrols = 1,
					       .controls = &fnames[1] });
	assert_non_null(f->g);
	return f;
}

/*
 * The baseline waits for the controls' min_samples too (a sibling's probes
 * may start later than the target's); max_wait bounds that wait, and a
 * control still short then is left out, the baseline not marked short.
 */
static void test_baseline_waits_for_controls(void **state)
{
	struct fx *f = fx_new_ctl();

	(void)state;
	to_baseline(f);
	fx_calls(f, 0, 1500, 20000.0, 0.5, 1.0, 0.0);
	fx_calls(f, 1, 300, 30000.0, 0.5, 1.0, 0.0);
	f->now += SEC;
	assert_int_equal(fx_samples(f), 0);
	assert_int_equal(gate_state(f->g), GATE_BASELINE);
	for (int t = 0; t < 3; t++) {
		fx_calls(f, 0, 1500, 20000.0, 0.5, 1.0, 0.0);
		fx_calls(f, 1, 300, 30000.0, 0.5, 1.0, 0.0);
		f->now += SEC;
		assert_int_equal(fx_samples(f), 0);
	}
	expect_decision(f, GATE_BASELINE, GATE_WAIT_WINDOW, GATE_R_BASELINE_DONE);
	assert_int_equal(f->out.audit->ctl[0].n_base, 1200);
	fx_free(f);

	f = fx_new_ctl();
	to_baseline(f);
	for (int t = 0; t < 61 && gate_state(f->g) == GATE_BASELINE; t++) {
		fx_calls(f, 0, 100, 20000.0, 0.5, 1.0, 0.0);
		fx_calls(f, 1, 5, 30000.0, 0.5, 1.0, 0.0);
		f->now += SEC;
		assert_int_equal(fx_samples(f), 0);
	}
	expect_decision(f, GATE_BASELINE, GATE_WAIT_WINDOW, GATE_R_BASELINE_DONE);
	assert_non_null(strstr(f->out.audit->detail, "left out"));
	assert_false(f->out.audit->baseline_short);
	fx_free(f);
}

/*
 * Controls the controller chose (control = auto) are optional: the
 * baseline ends when the replaced function has min_samples, whatever the
 * control has; a cold control (short baseline) cannot join any look, so
 * the looks do not wait for it and a regression is still caught, before
 * with after.
 */
static void test_chosen_controls_do_not_hold_the_gate(void **state)
{
	struct fx *f = fx_new(2, GATE_BACKEND_ULP);

	(void)state;
	gate__free(f->g);
	f->g = gate__new(&(struct gate_opts){ .policy = &f->pol, .backend = GATE_BACKEND_ULP,
					       .nfuncs = 1, .funcs = fnames, .ncontrols = 1,
					       .controls = &fnames[1], .controls_optional = true });
	assert_non_null(f->g);
	to_baseline(f);
	fx_calls(f, 0, 2500, 20000.0, 0.5, 1.0, 0.0);
	fx_calls(f, 1, 5, 30000.0, 0.5, 1.0, 0.0);
	f->now += SEC;
	assert_int_equal(fx_samples(f), 0);
	expect_decision(f, GATE_BASELINE, GATE_WAIT_WINDOW, GATE_R_BASELINE_DONE);
	assert_false(f->out.audit->baseline_short);
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	f->now += 2 * SEC;
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	assert_int_equal(fx_applied(f, 0, false), 0);
	fx_bump(f);
	/* p50 x2 on the replaced function, the control still cold: reverted at a look */
	assert_int_equal(bake_run(f, 2500, 2.0, 0.0, 30), GATE_REVERTING);
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_REGRESSED);
	fx_free(f);
}

/* A short baseline cannot be fixed by baking longer: no extension. */
static void test_short_baseline_is_not_extended(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_baseline(f);
	fx_calls(f, 0, 200, 20000.0, 0.5, 1.0, 0.0);
	f->now += 60 * SEC;
	assert_int_equal(fx_samples(f), 0);
	expect_decision(f, GATE_BASELINE, GATE_WAIT_WINDOW, GATE_R_BASELINE_SHORT);
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	f->now += SEC;
	assert_int_equal(fx_window(f, true, 0, NULL), 0);
	assert_int_equal(fx_applied(f, 0, false), 0);
	fx_bump(f);
	assert_int_equal(bake_run(f, 100, 1.0, 0.0, 60), GATE_REVERTING);
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_INCONCLUSIVE);
	assert_true(f->out.audit->baseline_short);
	assert_non_null(strstr(f->out.audit->detail, "200 baseline"));
	fx_free(f);
}

static void test_cancel_before_apply_aborts(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_wait_window(f);
	assert_int_equal(fx_simple(f, GATE_OBS_CANCEL), 0);
	expect_decision(f, GATE_WAIT_WINDOW, GATE_ABORTED, GATE_R_CANCELLED);
	assert_int_equal(done_code(&f->out), GATE_EXIT_SYSTEM);
	fx_free(f);
	f = fx_new(1, GATE_BACKEND_ULP);
	assert_int_equal(fx_simple(f, GATE_OBS_CANCEL), 0);
	expect_decision(f, GATE_IDLE, GATE_ABORTED, GATE_R_CANCELLED);
	fx_free(f);
}

static void test_cancel_in_bake_reverts(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_reverting(f);
	assert_true(has_action(&f->out, GATE_ACT_REVERT) >= 0);
	/* a second Ctrl-C does not interrupt the revert */
	assert_int_equal(fx_simple(f, GATE_OBS_CANCEL), 0);
	assert_null(f->out.audit);
	assert_int_equal(gate_state(f->g), GATE_REVERTING);
	assert_int_equal(fx_reverted(f, 0), 0);
	expect_decision(f, GATE_REVERTING, GATE_REVERTED, GATE_R_REVERTED);
	assert_int_equal(done_code(&f->out), GATE_EXIT_SYSTEM);
	fx_free(f);
}

static void test_cancel_while_applying(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_KLP);

	(void)state;
	to_applying(f);
	assert_int_equal(fx_simple(f, GATE_OBS_CANCEL), 0);
	assert_int_equal(gate_state(f->g), GATE_APPLYING);
	assert_int_equal(fx_applied(f, 0, false), 0);
	expect_decision(f, GATE_APPLYING, GATE_REVERTING, GATE_R_CANCELLED);
	assert_true(has_action(&f->out, GATE_ACT_REVERT) >= 0);
	fx_free(f);
}

static void test_revert_failure_retries_then_gives_up(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_KLP);

	(void)state;
	to_reverting(f);
	assert_int_equal(fx_reverted(f, -EBUSY), 0);
	expect_decision(f, GATE_REVERTING, GATE_REVERTING, GATE_R_REVERT_FAILED);
	assert_true(has_action(&f->out, GATE_ACT_REVERT) >= 0);
	assert_int_equal(fx_reverted(f, -EBUSY), 0);
	assert_true(has_action(&f->out, GATE_ACT_REVERT) >= 0);
	assert_false(gate_done(f->g));
	assert_int_equal(fx_reverted(f, -EBUSY), 0);
	expect_decision(f, GATE_REVERTING, GATE_REVERTING, GATE_R_REVERT_FAILED);
	assert_int_equal(has_action(&f->out, GATE_ACT_REVERT), -1);
	assert_int_equal(done_code(&f->out), GATE_EXIT_SYSTEM);
	assert_true(gate_done(f->g));
	assert_non_null(strstr(f->out.audit->detail, "may still be applied"));
	assert_int_equal(fx_reverted(f, 0), -EINVAL);
	fx_free(f);
}

/* ---- refusals ----------------------------------------------------------- */

typedef void (*driver)(struct fx *f);

static void drive_idle(struct fx *f) { (void)f; }

static void drive_committed(struct fx *f)
{
	to_bake(f);
	bake_run(f, 100, 1.0, 0.001, 60);
	assert_int_equal(gate_state(f->g), GATE_COMMITTED);
}

static void drive_reverted(struct fx *f)
{
	to_reverting(f);
	assert_int_equal(fx_reverted(f, 0), 0);
}

static void drive_aborted(struct fx *f)
{
	to_wait_window(f);
	assert_int_equal(fx_simple(f, GATE_OBS_CANCEL), 0);
}

/* Observations each state takes; everything else must be refused unchanged. */
static void test_unexpected_observations_refused(void **state)
{
	static const struct {
		enum gate_state st;
		driver drive;
		unsigned int ok;
	} cases[] = {
		{ GATE_IDLE, drive_idle, 1u << GATE_OBS_START | 1u << GATE_OBS_CANCEL |
		  1u << GATE_OBS_OPERATOR },
		{ GATE_BASELINE, to_baseline, 1u << GATE_OBS_SAMPLES | 1u << GATE_OBS_TICK |
		  1u << GATE_OBS_TAINT | 1u << GATE_OBS_TARGET_DIED | 1u << GATE_OBS_CANCEL |
		  1u << GATE_OBS_OPERATOR },
		{ GATE_WAIT_WINDOW, to_wait_window, 1u << GATE_OBS_SAMPLES | 1u << GATE_OBS_TICK |
		  1u << GATE_OBS_WINDOW | 1u << GATE_OBS_TAINT | 1u << GATE_OBS_TARGET_DIED |
		  1u << GATE_OBS_CANCEL |
		  1u << GATE_OBS_OPERATOR },
		{ GATE_APPLYING, to_applying, 1u << GATE_OBS_APPLIED | 1u << GATE_OBS_SAMPLES |
		  1u << GATE_OBS_TICK | 1u << GATE_OBS_TAINT | 1u << GATE_OBS_TARGET_DIED |
		  1u << GATE_OBS_CANCEL |
		  1u << GATE_OBS_OPERATOR },
		{ GATE_TRANSITION, to_transition, 1u << GATE_OBS_TRANSITION | 1u << GATE_OBS_SAMPLES |
		  1u << GATE_OBS_TICK | 1u << GATE_OBS_TAINT | 1u << GATE_OBS_TARGET_DIED |
		  1u << GATE_OBS_CANCEL |
		  1u << GATE_OBS_OPERATOR },
		{ GATE_BAKE, to_bake, 1u << GATE_OBS_SAMPLES | 1u << GATE_OBS_TICK |
		  1u << GATE_OBS_TAINT | 1u << GATE_OBS_TARGET_DIED | 1u << GATE_OBS_CANCEL |
		  1u << GATE_OBS_OPERATOR },
		{ GATE_REVERTING, to_reverting, 1u << GATE_OBS_REVERTED | 1u << GATE_OBS_SAMPLES |
		  1u << GATE_OBS_TICK | 1u << GATE_OBS_TAINT | 1u << GATE_OBS_TARGET_DIED |
		  1u << GATE_OBS_CANCEL |
		  1u << GATE_OBS_OPERATOR },
		{ GATE_COMMITTED, drive_committed, 0 },
		{ GATE_REVERTED, drive_reverted, 0 },
		{ GATE_ABORTED, drive_aborted, 0 },
	};
	unsigned int refused = 0, expected = 0;

	(void)state;
	for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		for (int t = 0; t < GATE_NOBS; t++) {
			struct fx *f = fx_new(1, GATE_BACKEND_KLP);
			struct gate_obs o = { .type = t };
			const struct gate_audit *snap;
			uint64_t seq;
			int r;

			cases[c].drive(f);
			assert_int_equal(gate_state(f->g), cases[c].st);
			seq = f->out.audit ? f->out.audit->seq : 0;
			/* a well-formed observation of type t */
			if (t == GATE_OBS_SAMPLES) {
				o.samples.nfuncs = 1;
				o.samples.fn = f->s;
			}
			f->now += 1;
			r = gate_step(f->g, &o, f->now, &f->out);
			if (cases[c].ok & (1u << t)) {
				if (r)
					fail_msg("%s refused %s", gate_state_name(cases[c].st),
						 gate_obs_name(t));
			} else {
				if (r != -EINVAL)
					fail_msg("%s accepted %s", gate_state_name(cases[c].st),
						 gate_obs_name(t));
				/* nothing changed: same state, no action, no new decision */
				assert_int_equal(gate_state(f->g), cases[c].st);
				assert_int_equal(f->out.nact, 0);
				assert_null(f->out.audit);
				snap = gate_snapshot(f->g, f->now);
				assert_int_equal(snap->to, cases[c].st);
				(void)seq;
				refused++;
			}
			fx_free(f);
		}
	}
	for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		expected += GATE_NOBS - (unsigned int)__builtin_popcount(cases[c].ok);
	assert_int_equal(refused, expected);
	/* every state is covered */
	assert_int_equal(sizeof(cases) / sizeof(cases[0]), GATE_NSTATES);
}

static void test_malformed_observations_refused(void **state)
{
	struct fx *f = fx_new(2, GATE_BACKEND_ULP);
	struct gate_obs o = { .type = GATE_OBS_SAMPLES };

	(void)state;
	to_baseline(f);
	o.samples.nfuncs = 1;			/* gate has 2 */
	o.samples.fn = f->s;
	assert_int_equal(gate_step(f->g, &o, f->now, &f->out), -EINVAL);
	o.samples.nfuncs = 2;
	o.samples.fn = NULL;
	assert_int_equal(gate_step(f->g, &o, f->now, &f->out), -EINVAL);
	o.samples.fn = f->s;
	f->s[1].hist = NULL;
	assert_int_equal(gate_step(f->g, &o, f->now, &f->out), -EINVAL);
	f->s[1].hist = &f->h[1];
	f->s[1].exits = 3;
	f->s[1].errors = 4;
	assert_int_equal(gate_step(f->g, &o, f->now, &f->out), -EINVAL);
	f->s[1].errors = 0;
	f->s[1].inflight = -1;
	assert_int_equal(gate_step(f->g, &o, f->now, &f->out), -EINVAL);
	f->s[1].inflight = 0;
	assert_int_equal(gate_step(f->g, &o, f->now, &f->out), 0);
	/* time going backwards */
	f->now -= 1;
	assert_int_equal(fx_simple(f, GATE_OBS_TICK), -EINVAL);
	f->now += 1;
	assert_int_equal(fx_simple(f, GATE_OBS_TICK), 0);
	/* an unknown observation type */
	{
		struct gate_obs bad = { .type = GATE_NOBS };

		assert_int_equal(gate_step(f->g, &bad, f->now, &f->out), -EINVAL);
		assert_int_equal(gate_step(NULL, &bad, f->now, &f->out), -EINVAL);
	}
	fx_free(f);

	f = fx_new(1, GATE_BACKEND_KLP);
	to_wait_window(f);
	assert_int_equal(fx_window(f, false, 2, NULL), -EINVAL);
	fx_free(f);
	f = fx_new(1, GATE_BACKEND_KLP);
	to_applying(f);
	assert_int_equal(fx_applied(f, 5, false), -EINVAL);	/* errno must be negative */
	assert_int_equal(fx_applied(f, 0, true), -EINVAL);	/* partial without failure */
	assert_int_equal(fx_applied(f, 0, false), 0);
	assert_int_equal(fx_transition(f, false, 3, NULL), -EINVAL);
	fx_free(f);
}

static void test_new_rejects_bad_options(void **state)
{
	struct gate_opts o = { .backend = GATE_BACKEND_ULP, .nfuncs = 0, .funcs = fnames };

	(void)state;
	errno = 0;
	assert_null(gate__new(&o));	/* a process patch always has functions */
	assert_int_equal(errno, EINVAL);
	o.nfuncs = PG_MAX_FUNCS + 1;
	assert_null(gate__new(&o));
	o.nfuncs = 1;
	o.funcs = NULL;
	assert_null(gate__new(&o));
	o.funcs = fnames;
	o.backend = (enum gate_backend)7;
	assert_null(gate__new(&o));
	assert_null(gate__new(NULL));
	gate__free(NULL);
}

/*
 * A kernel patch with nothing to observe (no function, or only functions of
 * modules not loaded): through every phase on the kernel's health alone,
 * the note and "nothing to observe" in the records; a new WARN still
 * reverts it.
 */
static void test_klp_nothing_to_observe(void **state)
{
	struct pg_policy pol;
	struct gate_opts o = { .backend = GATE_BACKEND_KLP, .nfuncs = 0, .policy = &pol,
			       .note = "mod is not loaded" };
	struct fx *f;

	(void)state;
	fx_policy(&pol);
	f = fx_new_opts(0, GATE_BACKEND_KLP, NULL, false);
	to_baseline(f);
	assert_non_null(strstr(f->out.audit->detail, "nothing to observe"));
	fx_free(f);

	f = fx_new_opts(0, GATE_BACKEND_KLP, NULL, false);
	to_bake(f);
	f->now += f->pol.bake_ns;
	assert_int_equal(fx_samples(f), 0);
	expect_decision(f, GATE_BAKE, GATE_COMMITTED, GATE_R_BAKE_OK);
	assert_int_equal(done_code(&f->out), GATE_EXIT_COMMITTED);
	assert_non_null(strstr(f->out.audit->detail, "nothing to observe"));
	assert_int_equal(f->out.audit->nfuncs, 0);
	fx_free(f);

	f = fx_new_opts(0, GATE_BACKEND_KLP, NULL, false);
	to_bake(f);
	f->now += SEC;
	assert_int_equal(fx_taint(f, 0, 1), 0);
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_TAINT);
	fx_free(f);

	/* the note goes into the first record */
	{
		struct gate *g = gate__new(&o);
		struct gate_obs obs = { .type = GATE_OBS_START };
		struct gate_out out;

		assert_non_null(g);
		assert_int_equal(gate_step(g, &obs, 1, &out), 0);
		assert_non_null(out.audit);
		assert_non_null(strstr(out.audit->detail, "klp gate on 0 function(s); mod is not loaded"));
		gate__free(g);
	}
}

/* ---- audit, alpha, names ------------------------------------------------- */

static void test_audit_carries_policy_and_evidence(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);
	const struct gate_audit *a;
	uint64_t seq;

	(void)state;
	to_bake(f);
	seq = f->out.audit->seq;
	bake_run(f, 200, 2.0, 0.001, 60);
	a = f->out.audit;
	assert_int_equal(a->seq, seq + 1);
	assert_int_equal(a->time_ns, f->now);
	assert_int_equal(a->policy.min_samples, 1000);
	assert_true(a->policy.p99_ratio_max == f->pol.p99_ratio_max);
	assert_int_equal(a->policy.bake_ns, 60 * SEC);
	assert_int_equal(a->backend, GATE_BACKEND_ULP);
	assert_int_equal(a->fn[0].v.n_base, 2000);
	assert_true(a->fn[0].v.n_post >= 1000);
	assert_true(a->fn[0].v.p50_ratio > 1.8 && a->fn[0].v.p50_ratio < 2.2);
	assert_true(a->fn[0].v.p50_base > 15000.0 && a->fn[0].v.p50_base < 25000.0);
	assert_true(a->fn[0].v.mw_p < 1e-6);
	assert_int_equal(a->fn[0].calls_base, 2000);
	assert_int_equal(a->fn[0].looks, 1);
	assert_true(fabs(a->look_alpha - gate_look_alpha(0.01, 1, 1)) < 1e-15);
	fx_free(f);
}

static void test_snapshot_takes_no_decision(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);
	const struct gate_audit *s;

	(void)state;
	to_bake(f);
	bake_run(f, 100, 1.0, 0.001, 5);
	s = gate_snapshot(f->g, f->now);
	assert_int_equal(s->from, GATE_BAKE);
	assert_int_equal(s->to, GATE_BAKE);
	assert_int_equal(s->reason, GATE_R_NONE);
	assert_int_equal(s->fn[0].v.n_post, 500);
	assert_int_equal(gate_state(f->g), GATE_BAKE);
	assert_int_equal(bake_run(f, 100, 1.0, 0.001, 1), GATE_BAKE);
	fx_free(f);
}

static void test_alpha_spending_bound(void **state)
{
	(void)state;
	for (unsigned int nf = 1; nf <= PG_MAX_FUNCS; nf *= 4) {
		double sum = gate_look_alpha(0.01, nf, 0);

		for (unsigned int j = 1; j < 200; j++) {
			if (j > 1 && j < 60)
				assert_true(gate_look_alpha(0.01, nf, j) < gate_look_alpha(0.01, nf, j - 1));
			sum += gate_look_alpha(0.01, nf, j);
		}
		/* per function alpha/F, so at most alpha over all F functions */
		assert_true(sum * nf <= 0.01 * (1 + 1e-12));
		assert_true(sum * nf >= 0.0099);
	}
	assert_true(gate_look_alpha(0.01, 1, 1) == 0.00375);
	assert_true(gate_look_alpha(0.01, 1, 2) == 0.000625);
	assert_true(gate_look_alpha(0.01, 1, 0) == 0.005);
}

/*
 * Whole gated runs of a harmless patch: baseline 2000 calls, 60 s of bake
 * at 100 calls/s with every look.  False reverts stay within alpha.
 */
static void test_false_reverts_over_null_runs(void **state)
{
	const int runs = 300;
	unsigned int reverted = 0;

	(void)state;
	for (int k = 0; k < runs; k++) {
		struct fx *f = fx_new(1, GATE_BACKEND_ULP);

		pg_rng_seed(&f->r, 5000 + k);
		to_bake(f);
		bake_run(f, 100, 1.0, 0.001, 61);
		if (gate_state(f->g) != GATE_COMMITTED)
			reverted++;
		fx_free(f);
	}
	print_message("  harmless patch: %u of %d gated runs reverted\n", reverted, runs);
	assert_true(reverted * 100 <= (unsigned int)runs);
}

/* Gated runs of a patch making the slowest 3% of calls 1.5x slower: caught within the bake. */
static void test_tail_regression_caught_in_bake(void **state)
{
	const int runs = 100;
	unsigned int caught = 0, calls = 0;
	/* lognormal(20us, 0.5): the 97th percentile */
	const double q97 = 20000.0 * exp(0.5 * 1.880794);

	(void)state;
	for (int k = 0; k < runs; k++) {
		struct fx *f = fx_new(1, GATE_BACKEND_ULP);

		pg_rng_seed(&f->r, 9000 + k);
		to_bake(f);
		for (int t = 0; t < 60 && gate_state(f->g) == GATE_BAKE; t++) {
			for (int c = 0; c < 100; c++) {
				double x = pg_rng_lognormal(&f->r, 20000.0, 0.5);

				hist_add(&f->h[0], (uint64_t)(x > q97 ? 1.5 * x : x), 1);
				f->s[0].calls++;
				f->s[0].exits++;
			}
			f->now += SEC;
			assert_int_equal(fx_samples(f), 0);
		}
		if (gate_state(f->g) == GATE_REVERTING &&
		    f->out.audit->reason == GATE_R_REGRESSED) {
			caught++;
			calls += (unsigned int)f->out.audit->fn[0].v.n_post;
		}
		fx_free(f);
	}
	print_message("  slowest 3%% 1.5x: %u of %d gated runs reverted, after %.0f calls "
		      "on average\n", caught, runs, caught ? (double)calls / caught : 0.0);
	assert_true(caught * 100 >= (unsigned int)runs * 95);
}

/*
 * The goal under the default policy: a tail-only 25% p99 shift
 * (slowest 3% of calls 1.25x slower) caught within 2000 post-patch calls,
 * here at 1000 calls/s after a baseline of exactly 2000 calls (86.75% of
 * 400 with the block rule, 87.75% before; bench/detection, whose baselines
 * are 2100-3000 calls, measures 88.5-93.5%).  That is below the goal's 95% for the reasons in
 * docs/statistics.md ("What limits power at 2000 calls"); this test guards
 * what was reached.
 */
static void test_tail_25pct_within_2000_calls_by_default(void **state)
{
	const int runs = 400;
	const double q97 = 20000.0 * exp(0.5 * 1.880794);
	unsigned int caught = 0;
	struct pg_policy pol;

	(void)state;
	policy_defaults(&pol);
	assert_int_equal(pol.min_samples, 2000);
	for (int k = 0; k < runs; k++) {
		struct fx *f = fx_new_opts(1, GATE_BACKEND_ULP, &pol, false);

		pg_rng_seed(&f->r, 12000 + k);
		to_bake(f);
		for (int t = 0; t < 2 && gate_state(f->g) == GATE_BAKE; t++) {
			for (int c = 0; c < 1000; c++) {
				double x = pg_rng_lognormal(&f->r, 20000.0, 0.5);

				hist_add(&f->h[0], (uint64_t)(x > q97 ? 1.25 * x : x), 1);
				f->s[0].calls++;
				f->s[0].exits++;
			}
			f->now += SEC;
			assert_int_equal(fx_samples(f), 0);
		}
		if (gate_state(f->g) == GATE_REVERTING &&
		    f->out.audit->reason == GATE_R_REGRESSED) {
			assert_true(f->out.audit->fn[0].v.n_post <= 2000);
			assert_true(f->out.audit->fn[0].v.rules & STATS_RULE_P99);
			caught++;
		}
		fx_free(f);
	}
	print_message("  slowest 3%% 1.25x (p99 +25%%), default policy: %u of %d caught within "
		      "2000 post-patch calls\n", caught, runs);
	assert_true(caught * 100 >= (unsigned int)runs * 80);
}

/* ---- load shifts: bursts of contention vs persistent regressions ------- */

/*
 * One bake second of @n calls of function 0: lognormal(20 us, 0.5) times
 * @slow for the slowest 3% (q97 and up), and a share @burst of all calls
 * preempted, i.e. delayed by an exponential of mean 2 ms.
 */
static void load_second(struct fx *f, unsigned int n, double slow, double burst)
{
	const double q97 = 20000.0 * exp(0.5 * 1.880794);

	for (unsigned int c = 0; c < n; c++) {
		double x = pg_rng_lognormal(&f->r, 20000.0, 0.5);

		if (x > q97)
			x *= slow;
		if (burst > 0.0 && pg_rng_unit(&f->r) < burst)
			x -= 2e6 * log(pg_rng_unit(&f->r));
		hist_add(&f->h[0], (uint64_t)llround(x), 1);
		f->s[0].calls++;
		f->s[0].exits++;
	}
	f->now += SEC;
	assert_int_equal(fx_samples(f), 0);
}

/*
 * A burst of CPU contention in the bake alone (the first second: 10% of
 * calls preempted) is a tail regression by the plain test -- the cumulative
 * data fail it at the first look -- but it shows in one block of 60: the
 * patch is committed, and the record says why.
 */
static void test_load_burst_in_bake_not_reverted(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);
	const struct gate_audit *a;

	(void)state;
	to_bake(f);
	load_second(f, 1000, 1.0, 0.10);
	assert_int_equal(gate_state(f->g), GATE_BAKE);
	{
		/* the first look: significant and past p99_ratio_max, set aside */
		const struct gate_audit *s = gate_snapshot(f->g, f->now);

		assert_true(s->fn[0].judged);
		assert_int_equal(s->fn[0].v.rules, 0);
		assert_int_equal(s->fn[0].blocks, 1);
		assert_int_equal(s->fn[0].blocks_over, 1);
		assert_true(s->fn[0].v.significant & STATS_RULE_P99);
		assert_true(s->fn[0].v.p99_ratio > f->pol.p99_ratio_max);
	}
	for (int t = 1; t < 60 && gate_state(f->g) == GATE_BAKE; t++)
		load_second(f, 1000, 1.0, 0.0);
	assert_int_equal(gate_state(f->g), GATE_COMMITTED);
	a = f->out.audit;
	assert_non_null(a);
	assert_int_equal(a->reason, GATE_R_BAKE_OK);
	assert_int_equal(a->fn[0].blocks, 60);
	/* the burst's block, and clean ones by chance (1 in 10) */
	assert_true(a->fn[0].blocks_over >= 1 && a->fn[0].blocks_over < 30);
	fx_free(f);
}

/*
 * Bursts in 3 seconds of a 10 s bake: over the whole bake the tail is
 * significant and far past p99_ratio_max, yet shows in a minority of the
 * blocks: committed, and the record says it was read as load.
 */
static void test_load_bursts_set_aside_at_final_look(void **state)
{
	struct pg_policy pol;
	const struct gate_audit *a;
	struct fx *f;

	(void)state;
	fx_policy(&pol);
	pol.bake_ns = 10 * SEC;
	f = fx_new_opts(1, GATE_BACKEND_ULP, &pol, false);
	to_bake(f);
	for (int t = 1; t <= 10 && gate_state(f->g) == GATE_BAKE; t++)
		load_second(f, 1000, 1.0, t == 5 || t == 7 || t == 9 ? 0.10 : 0.0);
	assert_int_equal(gate_state(f->g), GATE_COMMITTED);
	a = f->out.audit;
	assert_int_equal(a->reason, GATE_R_BAKE_OK);
	assert_int_equal(a->fn[0].blocks, 10);
	assert_true(a->fn[0].blocks_over >= 3 && a->fn[0].blocks_over <= 5);
	assert_true(a->fn[0].v.significant & STATS_RULE_P99);
	assert_true(a->fn[0].v.p99_ratio > pol.p99_ratio_max);
	assert_int_equal(a->fn[0].v.rules, 0);
	assert_int_equal(a->fn[0].v.outcome, STATS_OK);
	assert_non_null(strstr(a->detail, "read as load"));
	fx_free(f);
}

/* A burst two seconds long straddling the first look is not reverted either. */
static void test_load_burst_at_first_look_not_reverted(void **state)
{
	unsigned int committed = 0;
	const int runs = 50;

	(void)state;
	for (int k = 0; k < runs; k++) {
		struct fx *f = fx_new(1, GATE_BACKEND_ULP);

		pg_rng_seed(&f->r, 31000 + k);
		to_bake(f);
		load_second(f, 1000, 1.0, 0.0);
		load_second(f, 1000, 1.0, 0.10);	/* 2 blocks, 1 over: waits */
		load_second(f, 1000, 1.0, 0.10);	/* 3 blocks, 2 over */
		for (int t = 3; t < 60 && gate_state(f->g) == GATE_BAKE; t++)
			load_second(f, 1000, 1.0, 0.0);
		committed += gate_state(f->g) == GATE_COMMITTED;
		fx_free(f);
	}
	print_message("  2 s burst (10%% of calls +2 ms) at 1-3 s into a 60 s bake: %u of %d "
		      "committed\n", committed, runs);
	/*
	 * Looks at 2000 (1 of 2 blocks over) and 4000 calls (2 of 4): set
	 * aside.  A clean block is over by chance 1 time in 10 (GATE_BLOCK_P),
	 * which makes 3 of 4 now and then.
	 */
	assert_true(committed * 100 >= (unsigned int)runs * 80);
}

/*
 * A persistent tail regression (slowest 3% 1.5x) is present in every
 * block: reverted by the tail rule alone, at the second look (2 blocks),
 * with every block over.
 */
static void test_persistent_tail_still_reverted(void **state)
{
	unsigned int caught = 0, most = 0;
	const int runs = 100;

	(void)state;
	for (int k = 0; k < runs; k++) {
		struct fx *f = fx_new(1, GATE_BACKEND_ULP);

		pg_rng_seed(&f->r, 32000 + k);
		to_bake(f);
		for (int t = 0; t < 60 && gate_state(f->g) == GATE_BAKE; t++)
			load_second(f, 1000, 1.5, 0.0);
		if (gate_state(f->g) == GATE_REVERTING &&
		    f->out.audit->reason == GATE_R_REGRESSED) {
			const struct gate_fn_evidence *e = &f->out.audit->fn[0];

			assert_int_equal(e->v.rules, STATS_RULE_P99);
			assert_true(2 * e->blocks_over > e->blocks);
			caught++;
			most += e->v.n_post <= 2000;
		}
		fx_free(f);
	}
	print_message("  persistent tail 1.5x: %u of %d reverted, %u within 2000 calls\n",
		      caught, runs, most);
	assert_int_equal(caught, runs);
	assert_true(most * 100 >= (unsigned int)runs * 95);
}

/*
 * Every call 1.5x slower is a bulk (p50) regression: reverted at the first
 * look, on one block, where a tail-only verdict would wait for a second.
 */
static void test_p50_regression_reverted_at_first_look(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);
	const struct gate_fn_evidence *e;

	(void)state;
	to_bake(f);
	assert_int_equal(bake_run(f, 1000, 1.5, 0.001, 1), GATE_REVERTING);
	assert_int_equal(f->out.audit->reason, GATE_R_REGRESSED);
	e = &f->out.audit->fn[0];
	assert_true(e->v.rules & STATS_RULE_P50);
	assert_int_equal(e->looks, 1);
	assert_int_equal(e->blocks, 1);
	assert_int_equal(e->v.n_post, 1000);
	fx_free(f);
}

/*
 * A persistent tail regression at a rate so low that the bake closes one
 * block only: the final look cannot tell it from load, and lets it stand.
 */
static void test_tail_final_look_single_block_stands(void **state)
{
	struct pg_policy pol;
	struct fx *f;

	(void)state;
	fx_policy(&pol);
	pol.bake_ns = 2 * SEC;
	pol.hang_timeout_ns = 1 * SEC;
	f = fx_new_opts(1, GATE_BACKEND_ULP, &pol, false);
	to_bake(f);
	f->now += SEC / 2;		/* a short first tick: no block closes */
	assert_int_equal(fx_samples(f), 0);
	load_second(f, 3000, 3.0, 0.0);	/* 1.5 s in: one block */
	load_second(f, 0, 1.0, 0.0);	/* 2.5 s: bake ends, no calls, no new block */
	assert_int_equal(gate_state(f->g), GATE_REVERTING);
	assert_int_equal(f->out.audit->fn[0].blocks, 1);
	assert_int_equal(f->out.audit->fn[0].v.rules, STATS_RULE_P99);
	fx_free(f);
}


/* ---- operator actions ---------------------------------------------------- */

static int fx_op(struct fx *f, enum gate_op op, int64_t uid)
{
	struct gate_obs o = { .type = GATE_OBS_OPERATOR };

	o.op.op = op;
	o.op.uid = uid;
	return fx_step(f, o);
}

static void test_op_promote_commits_in_bake(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	/* before the bake there is nothing to commit: refused, nothing recorded */
	to_wait_window(f);
	assert_int_equal(fx_op(f, GATE_OP_PROMOTE, 1000), 0);
	assert_int_equal(f->out.op_err, -EBUSY);
	assert_non_null(f->out.op_why);
	assert_null(f->out.audit);
	assert_int_equal(f->out.nact, 0);
	assert_int_equal(gate_state(f->g), GATE_WAIT_WINDOW);
	fx_free(f);

	f = fx_new(1, GATE_BACKEND_ULP);
	to_bake(f);
	assert_int_equal(bake_run(f, 500, 1.0, 0.001, 3), GATE_BAKE);
	assert_int_equal(fx_op(f, GATE_OP_PROMOTE, 1000), 0);
	assert_int_equal(f->out.op_err, 0);
	expect_decision(f, GATE_BAKE, GATE_COMMITTED, GATE_R_OP_PROMOTE);
	assert_int_equal(f->out.audit->operator_uid, 1000);
	assert_false(f->out.audit->judged);
	assert_int_equal(done_code(&f->out), GATE_EXIT_COMMITTED);
	assert_true(gate_done(f->g));
	/* a finished gate takes nothing more */
	assert_int_equal(fx_op(f, GATE_OP_ABORT, 0), -EINVAL);
	fx_free(f);
}

static void test_op_abort_before_apply_exit6(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_baseline(f);
	f->now += SEC;
	assert_int_equal(fx_op(f, GATE_OP_ABORT, 0), 0);
	expect_decision(f, GATE_BASELINE, GATE_ABORTED, GATE_R_OP_ABORT);
	assert_int_equal(f->out.audit->operator_uid, 0);
	assert_int_equal(f->out.audit->exit_code, GATE_EXIT_OPERATOR);
	assert_int_equal(done_code(&f->out), GATE_EXIT_OPERATOR);
	assert_int_equal(has_action(&f->out, GATE_ACT_REVERT), -1);
	fx_free(f);
}

static void test_op_abort_in_bake_reverts_exit6(void **state)
{
	struct fx *f = fx_new(2, GATE_BACKEND_KLP);

	(void)state;
	to_bake(f);
	assert_int_equal(bake_run(f, 500, 1.0, 0.001, 2), GATE_BAKE);
	assert_int_equal(fx_op(f, GATE_OP_ABORT, 4242), 0);
	expect_decision(f, GATE_BAKE, GATE_REVERTING, GATE_R_OP_ABORT);
	assert_int_equal(f->out.audit->operator_uid, 4242);
	assert_true(has_action(&f->out, GATE_ACT_REVERT) >= 0);
	/* a second abort while reverting is refused */
	assert_int_equal(fx_op(f, GATE_OP_ABORT, 4242), 0);
	assert_int_equal(f->out.op_err, -EBUSY);
	assert_null(f->out.audit);
	assert_int_equal(fx_reverted(f, 0), 0);
	expect_decision(f, GATE_REVERTING, GATE_REVERTED, GATE_R_REVERTED);
	assert_int_equal(f->out.audit->operator_uid, -1);
	assert_int_equal(done_code(&f->out), GATE_EXIT_OPERATOR);
	assert_int_equal(gate_exit_code(f->g), 6);
	fx_free(f);
}

static void test_op_abort_while_applying(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);

	(void)state;
	to_applying(f);
	assert_int_equal(fx_op(f, GATE_OP_ABORT, 7), 0);
	assert_int_equal(f->out.op_err, 0);
	assert_null(f->out.audit);
	assert_int_equal(fx_op(f, GATE_OP_ABORT, 7), 0);
	assert_int_equal(f->out.op_err, -EALREADY);
	assert_int_equal(fx_applied(f, 0, false), 0);
	expect_decision(f, GATE_APPLYING, GATE_REVERTING, GATE_R_OP_ABORT);
	assert_int_equal(f->out.audit->operator_uid, 7);
	assert_int_equal(fx_reverted(f, 0), 0);
	assert_int_equal(done_code(&f->out), GATE_EXIT_OPERATOR);
	fx_free(f);
}

static void test_op_hold_extends_bake_until_resume(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);
	uint64_t left;

	(void)state;
	to_bake(f);
	/* resume without a hold, hold outside BAKE: refused */
	assert_int_equal(fx_op(f, GATE_OP_RESUME, 0), 0);
	assert_int_equal(f->out.op_err, -EBUSY);
	assert_int_equal(bake_run(f, 500, 1.0, 0.001, 10), GATE_BAKE);
	assert_int_equal(fx_op(f, GATE_OP_HOLD, 1000), 0);
	expect_decision(f, GATE_BAKE, GATE_BAKE, GATE_R_OP_HOLD);
	assert_int_equal(f->out.audit->operator_uid, 1000);
	assert_true(f->out.audit->held);
	left = f->out.audit->bake_left_ns;
	assert_true(left > 45 * SEC && left <= 50 * SEC);
	assert_int_equal(fx_op(f, GATE_OP_HOLD, 1000), 0);
	assert_int_equal(f->out.op_err, -EALREADY);
	/* twice the whole bake, even slow: no look, no verdict, no end */
	assert_int_equal(bake_run(f, 500, 1.6, 0.001, 120), GATE_BAKE);
	assert_true(gate_snapshot(f->g, f->now)->held);
	assert_int_equal(gate_snapshot(f->g, f->now)->bake_left_ns, left);
	assert_int_equal(fx_op(f, GATE_OP_RESUME, 1000), 0);
	expect_decision(f, GATE_BAKE, GATE_BAKE, GATE_R_OP_RESUME);
	assert_false(f->out.audit->held);
	/* looks again: the slow calls are judged and reverted */
	assert_int_equal(bake_run(f, 500, 1.6, 0.001, 50), GATE_REVERTING);
	assert_int_equal(f->out.audit->reason, GATE_R_REGRESSED);
	fx_free(f);
}

static void test_op_hold_then_bake_ends_after_resume(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);
	uint64_t t_resume;
	unsigned int secs = 0;

	(void)state;
	to_bake(f);
	assert_int_equal(bake_run(f, 500, 1.0, 0.001, 20), GATE_BAKE);
	assert_int_equal(fx_op(f, GATE_OP_HOLD, 0), 0);
	assert_int_equal(bake_run(f, 500, 1.0, 0.001, 100), GATE_BAKE);
	/* the hang rule still applies while held: only the verdict waits */
	assert_int_equal(fx_op(f, GATE_OP_RESUME, 0), 0);
	t_resume = f->now;
	while (gate_state(f->g) == GATE_BAKE && secs++ < 200)
		bake_run(f, 500, 1.0, 0.001, 1);
	assert_int_equal(gate_state(f->g), GATE_COMMITTED);
	/* 40 s of bake were left at the hold, and run after the resume */
	assert_true(f->now - t_resume >= 39 * SEC && f->now - t_resume <= 42 * SEC);
	fx_free(f);
}

static void test_op_snapshot_time_in_state(void **state)
{
	struct fx *f = fx_new(1, GATE_BACKEND_ULP);
	const struct gate_audit *a;

	(void)state;
	to_bake(f);
	bake_run(f, 500, 1.0, 0.001, 5);
	a = gate_snapshot(f->g, f->now);
	assert_int_equal(a->state_ns, 5 * SEC);
	assert_int_equal(a->bake_left_ns, 55 * SEC);
	assert_int_equal(a->operator_uid, -1);
	fx_free(f);
}

static void test_exit_codes_match_cli_contract(void **state)
{
	(void)state;
	assert_int_equal(GATE_EXIT_COMMITTED, PG_EXIT_OK);
	assert_int_equal(GATE_EXIT_REGRESSED, PG_EXIT_REGRESSED);
	assert_int_equal(GATE_EXIT_NO_WINDOW, PG_EXIT_NO_WINDOW);
	assert_int_equal(GATE_EXIT_TRANSITION, PG_EXIT_TRANSITION);
	assert_int_equal(GATE_EXIT_SYSTEM, PG_EXIT_SYSTEM);
	assert_int_equal(GATE_EXIT_OPERATOR, PG_EXIT_OPERATOR);
	assert_int_not_equal(GATE_EXIT_OPERATOR, GATE_EXIT_REGRESSED);
}

static void test_names(void **state)
{
	(void)state;
	for (int i = 0; i < GATE_NSTATES; i++)
		for (int j = 0; j < i; j++)
			assert_string_not_equal(gate_state_name(i), gate_state_name(j));
	assert_string_equal(gate_state_name(GATE_WAIT_WINDOW), "WAIT_WINDOW");
	assert_string_equal(gate_state_name(GATE_NSTATES), "?");
	for (int i = 0; i < GATE_NREASONS; i++)
		assert_string_not_equal(gate_reason_name(i), "?");
	for (int i = 0; i < GATE_NOBS; i++)
		assert_string_not_equal(gate_obs_name(i), "?");
	assert_string_equal(gate_action_name(GATE_ACT_BUMP_GENERATION), "bump_generation");
	assert_string_equal(gate_reason_name(GATE_R_TRANSITION_TIMEOUT), "transition_timeout");
	assert_string_equal(gate_backend_name(GATE_BACKEND_KLP), "klp");
	for (int i = 0; i < GATE_NOPS; i++)
		assert_int_equal(gate_op_parse(gate_op_name(i)), i);
	assert_int_equal(gate_op_parse("commit"), -1);
	assert_int_equal(gate_op_parse(NULL), -1);
	assert_string_equal(gate_reason_name(GATE_R_OP_ABORT), "operator_abort");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_attaches_probes),
		cmocka_unit_test(test_baseline_needs_every_function),
		cmocka_unit_test(test_baseline_short_at_max_wait),
		cmocka_unit_test(test_window_must_stay_clear_for_dwell),
		cmocka_unit_test(test_blockers_reported_on_change),
		cmocka_unit_test(test_no_window_aborts_exit3),
		cmocka_unit_test(test_no_window_by_tick),
		cmocka_unit_test(test_dry_run_stops_before_apply),
		cmocka_unit_test(test_ulp_apply_goes_straight_to_bake),
		cmocka_unit_test(test_klp_transition_then_bake),
		cmocka_unit_test(test_transition_timeout_reverts_exit4),
		cmocka_unit_test(test_apply_failed_aborts_exit5),
		cmocka_unit_test(test_apply_failed_partial_reverts),
		cmocka_unit_test(test_good_patch_commits),
		cmocka_unit_test(test_slow_patch_reverts_within_bake),
		cmocka_unit_test(test_erroring_patch_reverts),
		cmocka_unit_test(test_hung_calls_revert),
		cmocka_unit_test(test_inflight_at_baseline_level_is_not_a_hang),
		cmocka_unit_test(test_stalled_at_baseline_level_is_a_hang),
		cmocka_unit_test(test_growing_inflight_is_a_hang),
		cmocka_unit_test(test_target_died_after_apply),
		cmocka_unit_test(test_target_died_before_apply),
		cmocka_unit_test(test_target_died_while_applying_or_reverting),
		cmocka_unit_test(test_new_taint_reverts),
		cmocka_unit_test(test_new_warn_reverts),
		cmocka_unit_test(test_inconclusive_extend_then_revert),
		cmocka_unit_test(test_inconclusive_extend_then_commit),
		cmocka_unit_test(test_inconclusive_hold_commits_unjudged),
		cmocka_unit_test(test_inconclusive_revert),
		cmocka_unit_test(test_tail_calls_scale_with_the_tail),
		cmocka_unit_test(test_bake_waits_for_min_post_calls),
		cmocka_unit_test(test_baseline_waits_for_controls),
		cmocka_unit_test(test_chosen_controls_do_not_hold_the_gate),
		cmocka_unit_test(test_max_bake_bounds_the_wait),
		cmocka_unit_test(test_regression_while_waiting_for_calls),
		cmocka_unit_test(test_short_baseline_is_not_extended),
		cmocka_unit_test(test_cancel_before_apply_aborts),
		cmocka_unit_test(test_cancel_in_bake_reverts),
		cmocka_unit_test(test_cancel_while_applying),
		cmocka_unit_test(test_revert_failure_retries_then_gives_up),
		cmocka_unit_test(test_unexpected_observations_refused),
		cmocka_unit_test(test_malformed_observations_refused),
		cmocka_unit_test(test_new_rejects_bad_options),
		cmocka_unit_test(test_klp_nothing_to_observe),
		cmocka_unit_test(test_audit_carries_policy_and_evidence),
		cmocka_unit_test(test_snapshot_takes_no_decision),
		cmocka_unit_test(test_alpha_spending_bound),
		cmocka_unit_test(test_false_reverts_over_null_runs),
		cmocka_unit_test(test_tail_regression_caught_in_bake),
		cmocka_unit_test(test_load_burst_in_bake_not_reverted),
		cmocka_unit_test(test_load_burst_at_first_look_not_reverted),
		cmocka_unit_test(test_load_bursts_set_aside_at_final_look),
		cmocka_unit_test(test_persistent_tail_still_reverted),
		cmocka_unit_test(test_p50_regression_reverted_at_first_look),
		cmocka_unit_test(test_tail_final_look_single_block_stands),
		cmocka_unit_test(test_tail_25pct_within_2000_calls_by_default),
		cmocka_unit_test(test_op_promote_commits_in_bake),
		cmocka_unit_test(test_op_abort_before_apply_exit6),
		cmocka_unit_test(test_op_abort_in_bake_reverts_exit6),
		cmocka_unit_test(test_op_abort_while_applying),
		cmocka_unit_test(test_op_hold_extends_bake_until_resume),
		cmocka_unit_test(test_op_hold_then_bake_ends_after_resume),
		cmocka_unit_test(test_op_snapshot_time_in_state),
		cmocka_unit_test(test_exit_codes_match_cli_contract),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("gate", tests, NULL, NULL);
}
