// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The one duration grammar (core/duration.h): options and policy keys alike. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "core/duration.h"
#include "core/policy.h"

static void test_units(void **state)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} good[] = {
		{ "0", 0 },
		{ "1", 1000000000ULL },
		{ "1.5", 1500000000ULL },
		{ ".25", 250000000ULL },
		{ "250us", 250000ULL },
		{ "500ms", 500000000ULL },
		{ "30s", 30000000000ULL },
		{ "5m", 300000000000ULL },
		{ "1h", 3600000000000ULL },
		{ "24h", 86400000000000ULL },
		{ "2e3ms", 2000000000ULL },
	};
	uint64_t ns;
	double s;

	(void)state;
	for (unsigned int i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ns = 7;
		if (pg_duration_parse(good[i].s, &ns) || ns != good[i].ns)
			fail_msg("'%s': got %llu ns", good[i].s, (unsigned long long)ns);
	}
	assert_int_equal(pg_duration_parse_s("1h", &s), 0);
	assert_true(s == 3600.0);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "s", "-1", "-1s", "+1s", " 1s", "1 s", "1s ", "5d", "1hr", "inf", "nan",
		"0x10", "1e", "ms5", "1.5.2s",
	};
	uint64_t ns = 42;

	(void)state;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pg_duration_parse(bad[i], &ns) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(ns, 42);
	assert_int_equal(pg_duration_parse("25h", &ns), -ERANGE);
	assert_int_equal(pg_duration_parse("86401", &ns), -ERANGE);
	assert_int_equal(ns, 42);
	assert_int_equal(pg_duration_parse(NULL, &ns), -EINVAL);
}

/* What the grammar prints, it reads back. */
static void test_round_trip(void **state)
{
	static const uint64_t vals[] = { 1000ULL, 250000ULL, 1500000ULL, 500000000ULL,
					 1000000000ULL, 3600000000000ULL };
	char buf[64];
	uint64_t ns;

	(void)state;
	for (unsigned int i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		pg_duration_format(vals[i], buf, sizeof(buf));
		assert_int_equal(pg_duration_parse(buf, &ns), 0);
		assert_int_equal(ns, vals[i]);
	}
}

/* A policy key takes exactly what an option takes (one grammar). */
static void test_policy_uses_grammar(void **state)
{
	static const char *const vals[] = { "1h", "250us", "90", "2.5m" };
	struct pg_policy p;
	char err[256];
	uint64_t ns;

	(void)state;
	for (unsigned int i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		policy_defaults(&p);
		assert_int_equal(pg_duration_parse(vals[i], &ns), 0);
		if (policy_set(&p, "bake", vals[i], err, sizeof(err)))
			fail_msg("bake = %s: %s", vals[i], err);
		assert_int_equal(p.bake_ns, ns);
	}
	policy_defaults(&p);
	assert_int_not_equal(policy_set(&p, "bake", "0x10", err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_policy_uses_grammar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
