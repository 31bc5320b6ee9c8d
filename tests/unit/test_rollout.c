// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Rollouts' pure part (core/rollout.h): the ring grammar, the plan, the [rollout] keys, the verdict. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "core/outcome.h"
#include "core/rollout.h"

static unsigned int plan(const char *spec, unsigned int n, unsigned int *ends)
{
	struct ro_rings r;
	char err[256];

	assert_int_equal(ro_rings_parse(spec, &r, err, sizeof(err)), 0);
	return ro_rings_plan(&r, n, ends);
}

static void test_plan(void **state)
{
	unsigned int e[RO_MAX_RINGS];

	(void)state;
	assert_int_equal(plan("1, 25%, 100%", 8, e), 3);
	assert_int_equal(e[0], 1);
	assert_int_equal(e[1], 2);
	assert_int_equal(e[2], 8);
	/* 25% of 4 is 1: that ring adds nobody and is dropped */
	assert_int_equal(plan("1,25%,100%", 4, e), 2);
	assert_int_equal(e[1], 4);
	/* a list that stops short: the last ring reaches everyone */
	assert_int_equal(plan("2, 50%", 10, e), 3);
	assert_int_equal(e[1], 5);
	assert_int_equal(e[2], 10);
	/* more asked than there are */
	assert_int_equal(plan("5, 100%", 3, e), 1);
	assert_int_equal(e[0], 3);
	assert_int_equal(plan("1", 0, e), 0);
	assert_int_equal(plan("33%, 100%", 3, e), 2);
	assert_int_equal(e[0], 1);
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = { "", "0", "1,0%", "101%", "1.5", "x", "1,,2", "50%,25%",
					   "3,2", "-1", "1%%", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" };
	struct ro_rings r;
	char err[256], buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(ro_rings_parse(bad[i], &r, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(ro_rings_parse(" 1 , 25% ,100%", &r, err, sizeof(err)), 0);
	ro_rings_format(&r, buf, sizeof(buf));
	assert_string_equal(buf, "1,25%,100%");
}

static void test_policy(void **state)
{
	struct ro_policy p;
	char err[256];

	(void)state;
	ro_policy_defaults(&p);
	assert_int_equal(p.rings.n, 3);
	assert_int_equal(p.on_regression, RO_REVERT_RING);
	assert_int_equal(ro_policy_set(&p, "on_regression", "revert_all", err, sizeof(err)), 0);
	assert_int_equal(p.on_regression, RO_REVERT_ALL);
	assert_int_equal(ro_policy_set(&p, "on_no_window", "retry", err, sizeof(err)), 0);
	assert_int_equal(ro_policy_set(&p, "new_processes", "report", err, sizeof(err)), 0);
	assert_int_equal(p.new_processes, RO_NEW_REPORT);
	assert_int_equal(ro_policy_set(&p, "on_no_window", "later", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "skip, retry or abort"));
	assert_int_equal(ro_policy_set(&p, "ringz", "1", err, sizeof(err)), -ENOENT);
	assert_int_equal(ro_policy_set(&p, "retries", "11", err, sizeof(err)), -EINVAL);
	assert_int_equal(p.on_no_window, RO_NW_RETRY);
	for (int s = 0; s < RO_M__COUNT; s++)
		assert_int_equal(ro_mstate_parse(ro_mstate_name((enum ro_mstate)s)), s);
	for (int s = 0; s < RO__COUNT; s++)
		assert_int_equal(ro_state_parse(ro_state_name((enum ro_state)s)), s);
}

static void test_verdict(void **state)
{
	struct ro_policy p;
	struct ro_ring_tally t = { .members = 6, .committed = 5, .exited = 1 };
	int code;

	(void)state;
	ro_policy_defaults(&p);
	assert_int_equal(ro_ring_verdict(&t, &p, &code), RO_V_GO);
	assert_int_equal(code, PG_EXIT_OK);
	/* most of a ring dying in its gates is the patch's doing */
	t = (struct ro_ring_tally){ .members = 2, .committed = 0, .exited = 2 };
	assert_int_equal(ro_ring_verdict(&t, &p, &code), RO_V_REGRESSED);
	assert_int_equal(code, PG_EXIT_REGRESSED);
	t = (struct ro_ring_tally){ .members = 3, .committed = 2, .reverted = 1, .regress_exit = 4 };
	assert_int_equal(ro_ring_verdict(&t, &p, &code), RO_V_REGRESSED);
	assert_int_equal(code, PG_EXIT_TRANSITION);
	t = (struct ro_ring_tally){ .members = 3, .committed = 2, .no_window = 1, .retry = 1 };
	assert_int_equal(ro_ring_verdict(&t, &p, &code), RO_V_GO);	/* skip */
	p.on_no_window = RO_NW_RETRY;
	assert_int_equal(ro_ring_verdict(&t, &p, &code), RO_V_RETRY);
	t.retry = 0;	/* retries spent: skipped */
	assert_int_equal(ro_ring_verdict(&t, &p, &code), RO_V_GO);
	p.on_no_window = RO_NW_ABORT;
	assert_int_equal(ro_ring_verdict(&t, &p, &code), RO_V_NO_WINDOW);
	assert_int_equal(code, PG_EXIT_NO_WINDOW);
	t = (struct ro_ring_tally){ .members = 3, .committed = 2, .failed = 1, .fail_exit = 5 };
	assert_int_equal(ro_ring_verdict(&t, &p, &code), RO_V_FAILED);
	assert_int_equal(code, PG_EXIT_SYSTEM);
	assert_int_equal(ro_member_outcome(0, true), RO_M_COMMITTED);
	assert_int_equal(ro_member_outcome(0, false), RO_M_EXITED);
	assert_int_equal(ro_member_outcome(2, true), RO_M_REVERTED);
	assert_int_equal(ro_member_outcome(3, true), RO_M_NO_WINDOW);
	assert_int_equal(ro_member_outcome(5, true), RO_M_FAILED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
