// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * top's text for the ad-hoc watch mode (user/view/top_fmt.c): the table
 * fits the terminal from 60 columns up, long names are cut rather than
 * pushing the figures off the line, and the sort keys order as the help
 * says.  The source is compiled in directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../../user/view/top_fmt.c"

static struct pg_func_report row(const char *name, double cps, int64_t infl, double p99)
{
	return (struct pg_func_report){
		.func = name, .object = "/usr/sbin/demo", .probe = "nop5", .calls = 12345,
		.calls_per_s = cps, .inflight = infl, .p50_ns = 52100, .p90_ns = 64800,
		.p99_ns = p99, .max_ns = 310600,
	};
}

static void rows_fit_every_width(void **state)
{
	struct pg_func_report r = row("a_function_with_a_name_longer_than_any_column_gives_it", 437,
				      3, 165100);
	char hdr[512], line[512];

	(void)state;
	for (int w = 60; w <= 200; w++) {
		top_fmt_watch_header(hdr, sizeof(hdr), w);
		top_fmt_watch_row(&r, line, sizeof(line), w);
		assert_true(strlen(hdr) <= (size_t)w || w < 78);	/* 16-column names need 78 */
		assert_int_equal(strlen(line), strlen(hdr));
	}
	top_fmt_watch_row(&r, line, sizeof(line), 80);
	assert_true(strlen(line) < 80);
	/* the figures survive a cut name */
	assert_non_null(strstr(line, "165us"));
	assert_non_null(strstr(line, "437"));
	assert_non_null(strstr(line, "nop5"));
}

static void latencies_keep_to_their_columns(void **state)
{
	static const struct { double ns; const char *s; } c[] = {
		{ 0, "-" }, { 812, "812ns" }, { 999.4, "999ns" }, { 999.6, "1.00us" },
		{ 52149, "52.1us" }, { 137950000, "138ms" }, { 4150000, "4.15ms" },
		{ 2.5e9, "2.50s" }, { 3.6e12, "3600s" },
	};
	char b[16];

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		watch_ns(c[i].ns, b, sizeof(b));
		assert_string_equal(b, c[i].s);
		assert_true(strlen(b) <= 7);
	}
}

static void errors_only_when_counted(void **state)
{
	struct pg_func_report r = row("f", 1, 0, 1000);
	char line[512];

	(void)state;
	top_fmt_watch_row(&r, line, sizeof(line), 80);
	assert_string_equal(line + strlen(line) - 1, "-");
	r.errors_on = true;
	r.error_rate = 0.125;
	top_fmt_watch_row(&r, line, sizeof(line), 80);
	assert_non_null(strstr(line, "12.5"));
}

static void sort_keys(void **state)
{
	struct pg_func_report a = row("a", 10, 5, 900), b = row("b", 20, 1, 100);

	(void)state;
	assert_int_equal(top_watch_cmp(&a, &b, 0), 0);		/* as given */
	assert_true(top_watch_cmp(&a, &b, 1) > 0);		/* calls/s, highest first */
	assert_true(top_watch_cmp(&a, &b, 2) < 0);		/* p99, highest first */
	assert_true(top_watch_cmp(&a, &b, 3) < 0);		/* in flight, highest first */
	assert_string_equal(top_watch_sort_name(2), "p99");
	assert_string_equal(top_watch_sort_name(TOP_WATCH_NSORTS), "?");
}

/* A rollout's overview row: its state, processes done of all, its ring; first in any sort. */
static void rollout_row(void **state)
{
	static struct ro_run ro;
	struct top_row r = { .kind = "set", .rollout = &ro, .health = "running" };
	struct top_row gate = { .rec = json_object_new_object(), .health = "running" };
	char line[512], hdr[512], name[64];

	(void)state;
	snprintf(ro.patch, sizeof(ro.patch), "/srv/fixes/good.so");
	ro.state = RO_RUNNING;
	ro.ring = 2;
	ro.nrings = 3;
	ro.n = 8;
	ro.m[0].state = RO_M_COMMITTED;
	ro.m[1].state = RO_M_EXITED;
	ro.m[2].state = RO_M_RUNNING;
	top_fmt_header(hdr, sizeof(hdr), 80);
	top_fmt_row(&r, line, sizeof(line), 80);
	assert_int_equal(strlen(line), strlen(hdr));
	assert_non_null(strstr(line, "rollout"));
	assert_non_null(strstr(line, "good.so"));
	assert_non_null(strstr(line, " set "));
	assert_non_null(strstr(line, "RUNNING"));
	assert_non_null(strstr(line, " 2/8 "));	/* committed and exited are done; running is not */
	assert_non_null(strstr(line, "ring 2/3"));
	assert_string_equal(top_row_name(&r, name, sizeof(name)), "rollout");
	assert_int_equal(top_row_tone(&r), TOP_TONE_BUSY);
	ro.state = RO_REVERTED;
	r.health = "finished";
	assert_int_equal(top_row_tone(&r), TOP_TONE_BAD);
	ro.state = RO_COMMITTED;
	assert_int_equal(top_row_tone(&r), TOP_TONE_GOOD);
	ro.state = RO_RUNNING;
	r.health = "gone";		/* its driver died */
	assert_int_equal(top_row_tone(&r), TOP_TONE_OFF);
	top_fmt_row(&r, line, sizeof(line), 80);
	assert_non_null(strstr(line, "gone"));
	for (int sort = 0; sort < 4; sort++) {
		assert_true(top_row_cmp(&r, &gate, sort) < 0);
		assert_true(top_row_cmp(&gate, &r, sort) > 0);
	}
	json_object_put(gate.rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rows_fit_every_width),
		cmocka_unit_test(latencies_keep_to_their_columns),
		cmocka_unit_test(errors_only_when_counted),
		cmocka_unit_test(sort_keys),
		cmocka_unit_test(rollout_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
