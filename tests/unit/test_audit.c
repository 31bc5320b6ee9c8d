// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Audit records as JSON lines: what the UI prints for each gate decision
 * parses back and carries the evidence.  user/view/audit.c and output.c are
 * not part of libpgcore.a (they need json-c), so they are compiled into this
 * test directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>
#include "core/gate.h"
#include "core/hist.h"
#include "../../user/view/audit.c"
#include "../../user/view/output.c"
#include "pg_rng.h"

#define SEC 1000000000ULL

struct run {
	struct gate *g;
	struct pg_hist h;
	struct gate_fn_sample s;
	struct gate_out out;
	uint64_t now;
	struct pg_rng r;
};

static const char *const names[] = { "parse_request" };

static void run_init(struct run *x, bool dry_run)
{
	struct pg_policy pol;
	struct gate_opts o = { .policy = &pol, .backend = GATE_BACKEND_ULP, .nfuncs = 1,
			       .funcs = names, .dry_run = dry_run };

	memset(x, 0, sizeof(*x));
	policy_defaults(&pol);
	pol.bake_ns = 60 * SEC;
	pol.max_wait_ns = 30 * SEC;
	x->g = gate__new(&o);
	assert_non_null(x->g);
	x->s.hist = &x->h;
	x->now = 5 * SEC;
	pg_rng_seed(&x->r, 7);
}

static void step(struct run *x, struct gate_obs o)
{
	assert_int_equal(gate_step(x->g, &o, x->now, &x->out), 0);
}

static void calls(struct run *x, int n, double slow)
{
	for (int i = 0; i < n; i++) {
		hist_add(&x->h, (uint64_t)(pg_rng_lognormal(&x->r, 30000.0, 0.5) * slow), 1);
		x->s.calls++;
		x->s.exits++;
	}
}

static void samples(struct run *x)
{
	struct gate_obs o = { .type = GATE_OBS_SAMPLES };

	o.samples.nfuncs = 1;
	o.samples.fn = &x->s;
	step(x, o);
}

static void to_wait_window(struct run *x)
{
	step(x, (struct gate_obs){ .type = GATE_OBS_START });
	calls(x, 2000, 1.0);
	x->now += SEC;
	samples(x);
	assert_int_equal(gate_state(x->g), GATE_WAIT_WINDOW);
}

/* Serialise as the audit log would, parse back. */
static json_object *round_trip(const struct gate_audit *a, const char *type)
{
	json_object *o = audit_to_json(a, type), *back;
	const char *text;

	assert_non_null(o);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	assert_null(strchr(text, '\n'));	/* one line */
	back = json_tokener_parse(text);
	assert_non_null(back);
	json_object_put(o);
	return back;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no key '%s'", key);
	return v;
}

static void test_regressed_decision_json(void **state)
{
	struct run x;
	json_object *j, *fn, *pol;
	char line[512];

	(void)state;
	run_init(&x, false);
	to_wait_window(&x);
	step(&x, (struct gate_obs){ .type = GATE_OBS_WINDOW, .window = { .clear = true } });
	x.now += 2 * SEC;
	step(&x, (struct gate_obs){ .type = GATE_OBS_WINDOW, .window = { .clear = true } });
	step(&x, (struct gate_obs){ .type = GATE_OBS_APPLIED });
	hist_reset(&x.h);
	x.s.calls = x.s.exits = 0;
	for (int t = 0; t < 30 && gate_state(x.g) == GATE_BAKE; t++) {
		calls(&x, 200, 1.5);
		x.now += SEC;
		samples(&x);
	}
	assert_int_equal(gate_state(x.g), GATE_REVERTING);
	j = round_trip(x.out.audit, "decision");
	assert_string_equal(json_object_get_string(get(j, "type")), "decision");
	assert_int_equal(json_object_get_int(get(j, "v")), PG_JSON_VERSION);
	assert_string_equal(json_object_get_string(get(j, "kind")), "ulp");
	assert_string_equal(json_object_get_string(get(j, "from")), "BAKE");
	assert_string_equal(json_object_get_string(get(j, "to")), "REVERTING");
	assert_string_equal(json_object_get_string(get(j, "reason")), "regressed");
	assert_true(json_object_get_boolean(get(j, "judged")));
	assert_int_equal(json_object_get_int64(get(j, "seq")), x.out.audit->seq);
	assert_false(json_object_object_get_ex(j, "exit", NULL));	/* not final yet */
	pol = get(j, "policy");
	assert_true(json_object_get_double(get(pol, "p99_ratio_max")) == POLICY_DEF_P99_RATIO_MAX);
	assert_true(json_object_get_double(get(pol, "bake_s")) == 60.0);
	assert_string_equal(json_object_get_string(get(pol, "on_inconclusive")), "extend");
	assert_int_equal(json_object_array_length(get(j, "functions")), 1);
	fn = json_object_array_get_idx(get(j, "functions"), 0);
	assert_string_equal(json_object_get_string(get(fn, "name")), "parse_request");
	assert_string_equal(json_object_get_string(get(fn, "verdict")), "regressed");
	assert_int_equal(json_object_get_int64(get(fn, "n_base")), 2000);
	assert_true(json_object_get_int64(get(fn, "n_post")) >= 1000);
	assert_true(fabs(json_object_get_double(get(fn, "p50_ratio")) -
			 x.out.audit->fn[0].v.p50_ratio) < 1e-9);
	assert_true(json_object_get_double(get(fn, "p50_ratio")) > 1.3);
	assert_true(json_object_get_double(get(fn, "mw_p")) < 1e-6);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(get(fn, "rules"), 0)),
			    "p50");
	json_object_put(j);

	audit_format(x.out.audit, line, sizeof(line));
	assert_non_null(strstr(line, "BAKE -> REVERTING (regressed): parse_request regressed"));

	/* the final record carries the exit code */
	step(&x, (struct gate_obs){ .type = GATE_OBS_REVERTED });
	j = round_trip(x.out.audit, "decision");
	assert_int_equal(json_object_get_int(get(j, "exit")), 2);
	assert_string_equal(json_object_get_string(get(j, "to")), "REVERTED");
	json_object_put(j);
	gate__free(x.g);
}

static void test_no_window_names_blockers(void **state)
{
	struct pg_inside b = { .pid = 4242, .tid = 4250, .comm = "demo-worker",
				  .func = "parse_request", .state = "running" };
	struct gate_obs blocked = { .type = GATE_OBS_WINDOW };
	json_object *j, *bj;
	struct run x;

	(void)state;
	blocked.window.nblockers = 1;
	blocked.window.blockers = &b;
	run_init(&x, false);
	to_wait_window(&x);
	step(&x, blocked);
	x.now += 30 * SEC;
	step(&x, blocked);
	assert_int_equal(gate_state(x.g), GATE_ABORTED);
	j = round_trip(x.out.audit, NULL);
	assert_string_equal(json_object_get_string(get(j, "type")), "decision");
	assert_string_equal(json_object_get_string(get(j, "reason")), "no_window");
	assert_int_equal(json_object_get_int(get(j, "exit")), 3);
	assert_int_equal(json_object_array_length(get(j, "blockers")), 1);
	bj = json_object_array_get_idx(get(j, "blockers"), 0);
	assert_int_equal(json_object_get_int(get(bj, "pid")), 4242);
	assert_int_equal(json_object_get_int(get(bj, "tid")), 4250);
	assert_string_equal(json_object_get_string(get(bj, "comm")), "demo-worker");
	assert_string_equal(json_object_get_string(get(bj, "func")), "parse_request");
	json_object_put(j);
	gate__free(x.g);
}

static void test_progress_line_and_snapshot_json(void **state)
{
	const struct gate_audit *s;
	char line[512], want[128];
	json_object *j;
	struct run x;

	(void)state;
	run_init(&x, false);
	step(&x, (struct gate_obs){ .type = GATE_OBS_START });
	calls(&x, 400, 1.0);
	x.now += 3 * SEC;
	samples(&x);
	s = gate_snapshot(x.g, x.now);
	audit_progress_line(s, line, sizeof(line));
	snprintf(want, sizeof(want), "BASELINE 3s  parse_request 400/%d calls",
		 POLICY_DEF_MIN_SAMPLES);
	assert_string_equal(line, want);
	j = round_trip(s, "progress");
	assert_string_equal(json_object_get_string(get(j, "type")), "progress");
	assert_string_equal(json_object_get_string(get(j, "reason")), "none");
	json_object_put(j);
	gate__free(x.g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regressed_decision_json),
		cmocka_unit_test(test_no_window_names_blockers),
		cmocka_unit_test(test_progress_line_and_snapshot_json),
	};

	return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
