// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Policy: defaults, every key, every bad-value path, messages with file:line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "core/policy.h"

#define S (1000000000ULL)

#define ERRLEN 512

/* Parse @text over the defaults; the message, if any, lands in @err (ERRLEN bytes). */
static int parse(char *err, struct pg_policy *p, const char *text)
{
	policy_defaults(p);
	err[0] = '\0';
	return policy_parse_string(p, text, "t.ini", err, ERRLEN);
}

static void test_defaults(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	policy_defaults(&p);
	assert_int_equal(p.min_samples, POLICY_DEF_MIN_SAMPLES);
	assert_int_equal(p.max_wait_ns, 300 * S);
	assert_int_equal(p.dwell_ns, 1 * S);
	assert_int_equal(p.transition_timeout_ns, 60 * S);
	assert_int_equal(p.bake_ns, 300 * S);
	assert_int_equal(p.hang_timeout_ns, 10 * S);
	assert_true(p.p50_ratio_max == 1.10);
	assert_true(p.p99_ratio_max == 1.15);
	assert_true(p.error_rate_delta_max == 0.005);
	assert_true(p.alpha == 0.01);
	assert_int_equal(p.on_inconclusive, PG_INCONCLUSIVE_EXTEND);
	assert_int_equal(policy_validate(&p, err, sizeof(err)), 0);
	/* an empty file is the defaults */
	assert_int_equal(parse(err, &p, ""), 0);
	assert_int_equal(p.min_samples, POLICY_DEF_MIN_SAMPLES);
}

static void test_every_key(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	assert_int_equal(parse(err, &p,
		"[gate]\n"
		"min_samples = 2500\n"
		"max_wait = 90\n"
		"dwell = 250ms\n"
		"transition_timeout = 2m\n"
		"bake = 1h\n"
		"min_post_calls = 8000\n"
		"max_bake = 2h\n"
		"tail_calls = 8000\n"
		"hang_timeout = 7.5s\n"
		"p50_ratio_max = 1.07\n"
		"p99_ratio_max = 1.3\n"
		"error_rate_delta_max = 0.02\n"
		"alpha = 0.001\n"
		"on_inconclusive = hold\n"
		"control = parse_request, libc.so.6:malloc\n"), 0);
	assert_int_equal(p.min_samples, 2500);
	assert_int_equal(p.max_wait_ns, 90 * S);
	assert_int_equal(p.dwell_ns, 250000000ULL);
	assert_int_equal(p.transition_timeout_ns, 120 * S);
	assert_int_equal(p.bake_ns, 3600 * S);
	assert_int_equal(p.min_post_calls, 8000);
	assert_int_equal(p.max_bake_ns, 7200 * S);
	assert_int_equal(p.tail_calls, 8000);
	assert_int_equal(p.hang_timeout_ns, 7500000000ULL);
	assert_true(p.p50_ratio_max == 1.07);
	assert_true(p.p99_ratio_max == 1.3);
	assert_true(p.error_rate_delta_max == 0.02);
	assert_true(p.alpha == 0.001);
	assert_int_equal(p.on_inconclusive, PG_INCONCLUSIVE_HOLD);
	assert_int_equal(p.control.n, 2);
	assert_string_equal(p.control.name[0], "parse_request");
	assert_string_equal(p.control.name[1], "libc.so.6:malloc");
	assert_int_equal(policy_nkeys(), 17);
}

/* control: a list of names; bad ones refused and nothing changes; empty clears it. */
static void test_control_list(void **state)
{
	char err[ERRLEN], buf[600];
	struct pg_policy p;

	(void)state;
	policy_defaults(&p);
	assert_int_equal(p.control.n, 0);
	assert_int_equal(policy_set(&p, "control", "a b,c", err, sizeof(err)), 0);
	assert_int_equal(p.control.n, 3);
	assert_int_equal(policy_get(&p, "control", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a b c");
	assert_int_equal(policy_set(&p, "control", "a;rm", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad value 'a;rm' for key 'control': expected function names "
			    "separated by spaces or commas");
	assert_int_equal(p.control.n, 3);
	assert_int_equal(policy_set(&p, "control", "1 2 3 4 5 6 7 8 9", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "at most 8 functions"));
	memset(buf, 'x', 64);
	buf[64] = '\0';
	assert_int_equal(policy_set(&p, "control", buf, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than 63"));
	assert_int_equal(policy_set(&p, "control", "", err, sizeof(err)), 0);
	assert_int_equal(p.control.n, 0);
}

static void test_on_inconclusive_values(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	assert_int_equal(parse(err, &p, "on_inconclusive = revert\n"), 0);
	assert_int_equal(p.on_inconclusive, PG_INCONCLUSIVE_REVERT);
	assert_int_equal(parse(err, &p, "on_inconclusive = extend\n"), 0);
	assert_int_equal(p.on_inconclusive, PG_INCONCLUSIVE_EXTEND);
	assert_int_equal(parse(err, &p, "on_inconclusive = hold\n"), 0);
	assert_int_equal(p.on_inconclusive, PG_INCONCLUSIVE_HOLD);
	assert_int_equal(parse(err, &p, "[gate]\non_inconclusive = ignore\n"), -EINVAL);
	assert_string_equal(err, "t.ini:2: bad value 'ignore' for key 'on_inconclusive': "
			    "expected extend, revert or hold");
}

/* Keys before any section are the [gate] keys. */
static void test_no_section_is_accepted(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	assert_int_equal(parse(err, &p, "bake = 10m\n[gate]\ndwell = 2s\n"), 0);
	assert_int_equal(p.bake_ns, 600 * S);
	assert_int_equal(p.dwell_ns, 2 * S);
}

static void test_unknown_key_suggests(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	policy_defaults(&p);
	assert_int_equal(policy_parse_string(&p,
		"; strict\n[gate]\nmin_samples = 3000\n\nbake = 10m\n# tail\n"
		"p99_ration_max = 1.1\n", "strict.ini", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "strict.ini:7: unknown key 'p99_ration_max' "
			    "(did you mean p99_ratio_max?)");
	/* nothing was applied, not even the good lines before */
	assert_int_equal(p.min_samples, POLICY_DEF_MIN_SAMPLES);
	assert_int_equal(p.bake_ns, 300 * S);
}

static void test_unknown_key_without_suggestion(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	assert_int_equal(parse(err, &p, "[gate]\ncolour = blue\n"), -EINVAL);
	assert_non_null(strstr(err, "t.ini:2: unknown key 'colour'"));
	assert_null(strstr(err, "did you mean"));
}

static void test_unknown_section(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	assert_int_equal(parse(err, &p, "[gaet]\nbake = 1m\n"), -EINVAL);
	assert_string_equal(err, "t.ini:2: unknown section [gaet] (did you mean [gate]?)");
	assert_int_equal(parse(err, &p, "[gate]\nbake = 1m\n[probes]\nrate = 5\n"), -EINVAL);
	assert_non_null(strstr(err, "t.ini:4: unknown section [probes]"));
}

static void test_syntax_error_line(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	assert_int_equal(parse(err, &p, "[gate]\nbake = 1m\nthis is not a pair\n"), -EINVAL);
	assert_string_equal(err, "t.ini:3: syntax error: expected 'key = value' or '[gate]'");
	/* a syntax error before a bad key is the one reported */
	assert_int_equal(parse(err, &p, "[gate\nbake = never\n"), -EINVAL);
	assert_non_null(strstr(err, "t.ini:1: syntax error"));
}

static void test_duplicate_key(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	assert_int_equal(parse(err, &p, "[gate]\nbake = 1m\ndwell = 1s\nbake = 2m\n"), -EINVAL);
	assert_string_equal(err, "t.ini:4: duplicate key 'bake' (first set on line 2)");
}

/* Comments, blank lines, indentation and CRLF: indented lines are keys, not continuations. */
static void test_layout_tolerated(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	assert_int_equal(parse(err, &p,
		"# comment\r\n"
		"; comment\r\n"
		"\r\n"
		"[gate]\r\n"
		"  bake = 2m   ; inline\r\n"
		"\tdwell=3s\r\n"
		"  p99_ratio_max   =   1.5\r\n"), 0);
	assert_int_equal(p.bake_ns, 120 * S);
	assert_int_equal(p.dwell_ns, 3 * S);
	assert_true(p.p99_ratio_max == 1.5);
}

static void test_line_too_long(void **state)
{
	char err[ERRLEN];
	char text[400];
	struct pg_policy p;

	(void)state;
	snprintf(text, sizeof(text), "[gate]\n; %0300d\nbake = 1m\n", 0);
	assert_int_equal(parse(err, &p, text), -EINVAL);
	assert_non_null(strstr(err, "t.ini:2: line too long"));
}

struct bad { const char *key, *value, *why; };

/* Every bad-value path of every kind of key, with the message naming file, line and key. */
static void test_bad_values(void **state)
{
	char err[ERRLEN];
	static const struct bad bads[] = {
		{ "min_samples", "lots", "whole number" },
		{ "min_samples", "-5", "whole number" },
		{ "min_samples", "99", "between 100" },
		{ "min_samples", "1000000000", "between 100" },
		{ "min_samples", "1e3", "whole number" },
		{ "max_wait", "soon", "duration" },
		{ "max_wait", "0", "greater than 0" },
		{ "max_wait", "-1s", "duration" },
		{ "max_wait", "5d", "duration" },
		{ "max_wait", "25h", "24h" },
		{ "dwell", "1 s", "duration" },
		{ "dwell", "inf", "duration" },
		{ "transition_timeout", "nan", "duration" },
		{ "transition_timeout", "0x10", "duration" },
		{ "bake", "0ms", "greater than 0" },
		{ "bake", "", "duration" },
		{ "hang_timeout", "s", "duration" },
		{ "p50_ratio_max", "0.9", "between 1.0" },
		{ "p50_ratio_max", "fast", "ratio" },
		{ "p99_ratio_max", "101", "between 1.0" },
		{ "p99_ratio_max", "1.2x", "ratio" },
		{ "error_rate_delta_max", "5%", "fraction" },
		{ "error_rate_delta_max", "1.5", "not a percentage" },
		{ "error_rate_delta_max", "-0.1", "fraction" },
		{ "alpha", "0", "greater than 0" },
		{ "alpha", "0.05", "at most 0.01" },
		{ "alpha", "0.011", "at most 0.01" },
		{ "alpha", "often", "probability" },
		{ "on_inconclusive", "Extend", "extend, revert or hold" },
	};
	char text[256], want[256];
	struct pg_policy p;

	(void)state;
	for (unsigned int i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		snprintf(text, sizeof(text), "[gate]\n\n%s = %s\n", bads[i].key, bads[i].value);
		assert_int_equal(parse(err, &p, text), -EINVAL);
		snprintf(want, sizeof(want), "t.ini:3: bad value '%s' for key '%s': ",
			 bads[i].value, bads[i].key);
		if (strncmp(err, want, strlen(want)) || !strstr(err, bads[i].why))
			fail_msg("%s = '%s': got \"%s\"", bads[i].key, bads[i].value, err);
	}
}

/* Limits are inclusive where documented. */
static void test_boundary_values(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	assert_int_equal(parse(err, &p, "min_samples = 100\nalpha = 0.01\ndwell = 0\n"
			       "p50_ratio_max = 1.0\nerror_rate_delta_max = 0\n"), 0);
	assert_int_equal(p.min_samples, 100);
	assert_true(p.alpha == 0.01);
	assert_int_equal(p.dwell_ns, 0);
	assert_true(p.p50_ratio_max == 1.0);
	assert_true(p.error_rate_delta_max == 0.0);
	assert_int_equal(parse(err, &p, "max_wait = 24h\nbake = 0.5s\nhang_timeout = 0.25s\n"), 0);
	assert_int_equal(p.max_wait_ns, 86400 * S);
	assert_int_equal(p.bake_ns, S / 2);
}

static void test_cross_key_rules(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	assert_int_equal(parse(err, &p, "[gate]\nmax_wait = 30s\ndwell = 30s\n"), -EINVAL);
	assert_string_equal(err, "t.ini: dwell (30s) must be shorter than max_wait (30s), "
			    "or no window could ever qualify");
	assert_int_equal(parse(err, &p, "[gate]\nbake = 5s\n"), -EINVAL);
	assert_non_null(strstr(err, "hang_timeout (10s) must not exceed bake (5s)"));
	assert_int_equal(parse(err, &p, "[gate]\nbake = 5s\nhang_timeout = 5s\n"), 0);
	/* max_bake: 0 is twice bake; below bake is refused */
	assert_int_equal(parse(err, &p, "[gate]\nbake = 5m\nmax_bake = 1m\n"), -EINVAL);
	assert_string_equal(err, "t.ini: max_bake (60s) must not be shorter than bake (300s): bake is "
			    "the least the gate watches, max_bake the most");
	assert_int_equal(parse(err, &p, "[gate]\nbake = 5m\nmax_bake = 5m\n"), 0);
	assert_int_equal(policy_max_bake_ns(&p), 300 * S);
	assert_int_equal(parse(err, &p, "[gate]\nbake = 5m\nmax_bake = 0\n"), 0);
	assert_int_equal(policy_max_bake_ns(&p), 600 * S);
	/* min_post_calls: 0 turns the wait off; otherwise as min_samples */
	assert_int_equal(parse(err, &p, "[gate]\nmin_post_calls = 0\n"), 0);
	assert_int_equal(policy_post_calls(&p), 0);
	assert_int_equal(parse(err, &p, "[gate]\nmin_post_calls = 50\n"), -EINVAL);
	assert_int_equal(parse(err, &p, "[gate]\nmin_post_calls = 1000\n"), 0);
	assert_int_equal(policy_post_calls(&p), POLICY_DEF_MIN_SAMPLES);
	assert_int_equal(POLICY_DEF_MIN_POST_CALLS, 4000);
}

/* --set overrides: same checks, no file or line, policy untouched on error. */
static void test_set_overrides(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	policy_defaults(&p);
	assert_int_equal(policy_set(&p, "bake", "45s", err, sizeof(err)), 0);
	assert_int_equal(p.bake_ns, 45 * S);
	assert_int_equal(policy_set(&p, "p99_ratio_max", "1.15", err, sizeof(err)), 0);
	assert_true(p.p99_ratio_max == 1.15);
	assert_int_equal(policy_set(&p, "alpha", "0.5", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad value '0.5' for key 'alpha': must be greater than 0 "
			    "and at most 0.01");
	assert_true(p.alpha == 0.01);
	assert_int_equal(policy_set(&p, "min_sample", "10", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "unknown key 'min_sample' (did you mean min_samples?)");
	assert_int_equal(policy_set(&p, "bake", NULL, err, sizeof(err)), -EINVAL);
	/* a file, then overrides on top */
	assert_int_equal(parse(err, &p, "[gate]\nbake = 10m\ndwell = 5s\n"), 0);
	assert_int_equal(policy_set(&p, "dwell", "1s", err, sizeof(err)), 0);
	assert_int_equal(p.bake_ns, 600 * S);
	assert_int_equal(p.dwell_ns, 1 * S);
}

/* signature and signing_key: the names, an absolute key, and no signature policy without a key. */
static void test_signature_keys(void **state)
{
	char err[ERRLEN];
	struct pg_policy p;

	(void)state;
	policy_defaults(&p);
	assert_int_equal(p.signature, PG_SIGNATURE_OFF);
	assert_string_equal(p.signing_key, "");
	assert_int_equal(parse(err, &p, "signature = required\nsigning_key = /etc/patchgate/key.pem\n"), 0);
	assert_int_equal(p.signature, PG_SIGNATURE_REQUIRED);
	assert_string_equal(p.signing_key, "/etc/patchgate/key.pem");
	assert_int_equal(parse(err, &p, "signature = optional\nsigning_key = /k.pem\n"), 0);
	assert_int_equal(p.signature, PG_SIGNATURE_OPTIONAL);
	assert_int_equal(parse(err, &p, "signature = required\n"), -EINVAL);
	assert_non_null(strstr(err, "needs signing_key"));
	assert_int_equal(parse(err, &p, "signature = always\nsigning_key = /k.pem\n"), -EINVAL);
	assert_non_null(strstr(err, "expected off, optional or required"));
	assert_int_equal(parse(err, &p, "signature = optional\nsigning_key = key.pem\n"), -EINVAL);
	assert_non_null(strstr(err, "expected an absolute path"));
}

/* policy_get prints a value that policy_set reads back to the same policy. */
static void test_get_set_round_trip(void **state)
{
	char err[ERRLEN];
	struct pg_policy a, b;
	char buf[64];

	(void)state;
	assert_int_equal(parse(err, &a, "dwell = 250ms\nbake = 7m\nalpha = 0.002\n"
			       "on_inconclusive = revert\nerror_rate_delta_max = 0.0125\n"), 0);
	policy_defaults(&b);
	for (unsigned int i = 0; i < policy_nkeys(); i++) {
		const char *k = policy_key_name(i);

		assert_int_equal(policy_get(&a, k, buf, sizeof(buf)), 0);
		assert_int_equal(policy_set(&b, k, buf, err, sizeof(err)), 0);
	}
	assert_memory_equal(&a, &b, sizeof(a));
	assert_null(policy_key_name(policy_nkeys()));
	assert_int_equal(policy_get(&a, "nope", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(policy_get(&a, "dwell", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "250ms");
}

static void test_parse_file_stream(void **state)
{
	char err[ERRLEN];
	static char text[] = "[gate]\nbake = 3m\n\nalpha = 0.02\n";
	struct pg_policy p;
	FILE *f;

	(void)state;
	f = fmemopen(text, strlen(text), "r");
	assert_non_null(f);
	policy_defaults(&p);
	assert_int_equal(policy_parse_file(&p, f, "/etc/patchgate/x.ini", err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "/etc/patchgate/x.ini:4: bad value '0.02' for key 'alpha': "
			    "must be greater than 0 and at most 0.01");
	assert_int_equal(p.bake_ns, 300 * S);
	rewind(f);
	text[strlen(text) - 2] = '1';		/* alpha = 0.01 */
	assert_int_equal(policy_parse_file(&p, f, "x.ini", err, sizeof(err)), 0);
	assert_int_equal(p.bake_ns, 180 * S);
	fclose(f);
}

/* The shipped examples parse and differ from the defaults the way their comments say. */
static void test_example_policies(void **state)
{
	char err[ERRLEN];
	static const char *names[] = { "default", "strict", "lenient", "latency-critical" };
	struct pg_policy p[4], def;
	char path[512], dir[256];
	const char *slash;

	(void)state;
	/* examples/policies relative to this source file (tests/unit/) */
	slash = strrchr(__FILE__, '/');
	snprintf(dir, sizeof(dir), "%.*s/../../examples/policies",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	policy_defaults(&def);
	for (int i = 0; i < 4; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s.ini", dir, names[i]);
		f = fopen(path, "r");
		if (!f)
			fail_msg("cannot open %s: %s", path, strerror(errno));
		policy_defaults(&p[i]);
		if (policy_parse_file(&p[i], f, path, err, sizeof(err)))
			fail_msg("%s", err);
		fclose(f);
	}
	assert_memory_equal(&p[0], &def, sizeof(def));
	/* strict reverts on less, lenient on more; latency-critical watches the tail closely */
	assert_true(p[1].p99_ratio_max < def.p99_ratio_max);
	assert_int_equal(p[1].on_inconclusive, PG_INCONCLUSIVE_REVERT);
	assert_true(p[2].p99_ratio_max > def.p99_ratio_max);
	assert_int_equal(p[2].on_inconclusive, PG_INCONCLUSIVE_HOLD);
	assert_true(p[3].min_samples > def.min_samples);
	assert_true(p[3].p99_ratio_max < def.p99_ratio_max);
	assert_true(p[3].hang_timeout_ns < def.hang_timeout_ns);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_on_inconclusive_values),
		cmocka_unit_test(test_control_list),
		cmocka_unit_test(test_no_section_is_accepted),
		cmocka_unit_test(test_unknown_key_suggests),
		cmocka_unit_test(test_unknown_key_without_suggestion),
		cmocka_unit_test(test_unknown_section),
		cmocka_unit_test(test_syntax_error_line),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_layout_tolerated),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_boundary_values),
		cmocka_unit_test(test_cross_key_rules),
		cmocka_unit_test(test_set_overrides),
		cmocka_unit_test(test_signature_keys),
		cmocka_unit_test(test_get_set_round_trip),
		cmocka_unit_test(test_parse_file_stream),
		cmocka_unit_test(test_example_policies),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
