// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `patchgate report`'s pure parts: the cumulative distribution of a
 * histogram (core/hist.c), the histograms record and its reading back
 * (view/audit.c, view/gate_report.c), gates picked out of an interleaved
 * audit log, the format from the extension, and what goes into gnuplot's
 * script and the HTML page.  The view files need json-c and are not part of
 * libpgcore.a, so they are compiled into this test directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>
#include "core/hist.h"
#include "../../user/view/gate_report.c"
#include "../../user/view/audit.c"
#include "../../user/view/output.c"
#include "../../user/view/top_fmt.c"

/* ---- hist_cdf ---------------------------------------------------------- */

static void test_cdf_two_buckets(void **state)
{
	static struct pg_hist h;
	struct hist_cdf_point p[8];
	unsigned int n;

	(void)state;
	hist_reset(&h);
	hist_add(&h, 100, 10);
	hist_add(&h, 1000, 30);
	n = hist_cdf(&h, p, 8);
	assert_int_equal(n, 4);
	/* starts at 0 at the first bucket's lower bound */
	assert_true(p[0].x_ns == (double)hist_bucket_lo(hist_bucket(100)));
	assert_true(p[0].p == 0.0);
	assert_true(p[1].x_ns == (double)hist_bucket_hi(hist_bucket(100)));
	assert_true(fabs(p[1].p - 0.25) < 1e-12);
	/* flat across the empty buckets in between */
	assert_true(p[2].x_ns == (double)hist_bucket_lo(hist_bucket(1000)));
	assert_true(fabs(p[2].p - 0.25) < 1e-12);
	assert_true(p[3].x_ns == (double)hist_bucket_hi(hist_bucket(1000)));
	assert_true(p[3].p == 1.0);
}

static void test_cdf_adjacent_empty_truncated(void **state)
{
	static struct pg_hist h;
	struct hist_cdf_point p[HIST_CDF_MAX];
	unsigned int n;

	(void)state;
	hist_reset(&h);
	assert_int_equal(hist_cdf(&h, p, HIST_CDF_MAX), 0);
	/* two neighbouring buckets: no point repeated at the shared bound */
	hist_add(&h, 64, 1);
	hist_add(&h, 66, 3);
	assert_int_equal(hist_bucket(66), hist_bucket(64) + 1);
	n = hist_cdf(&h, p, HIST_CDF_MAX);
	assert_int_equal(n, 3);
	assert_true(p[1].x_ns == 66.0 && fabs(p[1].p - 0.25) < 1e-12);
	assert_true(p[2].x_ns == 68.0 && p[2].p == 1.0);
	/* never past @max */
	assert_int_equal(hist_cdf(&h, p, 2), 2);
}

static void test_cdf_monotone_matches_quantile(void **state)
{
	static struct pg_hist h;
	static struct hist_cdf_point p[HIST_CDF_MAX];
	unsigned int n;
	uint64_t v = 12345;

	(void)state;
	hist_reset(&h);
	for (int i = 0; i < 5000; i++) {
		v = v * 6364136223846793005ULL + 1442695040888963407ULL;
		hist_add(&h, 200 + (v >> 40) % 100000, 1);
	}
	n = hist_cdf(&h, p, HIST_CDF_MAX);
	assert_true(n > 10);
	for (unsigned int k = 1; k < n; k++) {
		assert_true(p[k].x_ns > p[k - 1].x_ns);
		assert_true(p[k].p >= p[k - 1].p);
	}
	assert_true(p[n - 1].p == 1.0);
	/* the curve crosses 0.5 within a bucket of hist_quantile's p50 */
	for (unsigned int k = 1; k < n; k++) {
		if (p[k].p >= 0.5) {
			double q = hist_quantile(&h, 0.5);

			assert_true(q >= p[k - 1].x_ns && q <= p[k].x_ns);
			break;
		}
	}
}

/* ---- the format --------------------------------------------------------- */

static void test_format_of(void **state)
{
	(void)state;
	assert_int_equal(rpt_format_of("a.png"), RPT_PNG);
	assert_int_equal(rpt_format_of("/x/y/A.PNG"), RPT_PNG);
	assert_int_equal(rpt_format_of("a.svg"), RPT_SVG);
	assert_int_equal(rpt_format_of("a.html"), RPT_HTML);
	assert_int_equal(rpt_format_of("a.htm"), RPT_HTML);
	assert_int_equal(rpt_format_of("a.pdf"), RPT_NONE);
	assert_int_equal(rpt_format_of("png"), RPT_NONE);
	assert_int_equal(rpt_format_of("dir.png/out"), RPT_NONE);
	assert_string_equal(rpt_format_name(RPT_SVG), "svg");
}

/* ---- reading an audit log ---------------------------------------------- */

/* One decision line of gate target @t, seq @seq, phase @to at @el s; @exit < 0: none. */
static void rec(char *buf, size_t len, int t, int seq, const char *to, double el, int exit,
		const char *extra)
{
	size_t n = strlen(buf);
	char ex[32] = "";

	if (exit >= 0)
		snprintf(ex, sizeof(ex), ",\"exit\":%d", exit);
	snprintf(buf + n, len - n, "{\"type\":\"decision\",\"v\":1,\"seq\":%d,\"target\":%d,"
		 "\"patch\":\"p%d.so\",\"kind\":\"ulp\",\"from\":\"BASELINE\",\"to\":\"%s\","
		 "\"reason\":\"started\",\"detail\":\"d <b>&\",\"elapsed_s\":%.1f%s%s,"
		 "\"functions\":[{\"name\":\"f\",\"verdict\":\"ok\",\"n_base\":100,\"n_post\":50,"
		 "\"p50_base_ns\":1000,\"p99_base_ns\":5000,\"p50_post_ns\":1100,\"p99_post_ns\":6000,"
		 "\"p90_base_ns\":3000,\"p90_post_ns\":3500,\"p50_ratio\":1.1,\"p99_ratio\":1.2,"
		 "\"rules\":[]}]}\n",
		 seq, t, t, to, el, ex, extra ? extra : "");
}

/* gate 1 on 10, gate 2 on 20 interleaved with it, then gate 3 on 10 again */
static char *three_gates(void)
{
	static char buf[16384];

	buf[0] = '\0';
	rec(buf, sizeof(buf), 10, 1, "BASELINE", 0, -1, NULL);
	rec(buf, sizeof(buf), 20, 1, "BASELINE", 0, -1, NULL);
	rec(buf, sizeof(buf), 10, 2, "BAKE", 2, -1, NULL);
	rec(buf, sizeof(buf), 20, 2, "BAKE", 3, -1, NULL);
	rec(buf, sizeof(buf), 10, 3, "COMMITTED", 6, 0, ",\"hist\":\"hist/10-1-3.json\"");
	rec(buf, sizeof(buf), 20, 3, "REVERTING", 7, -1, NULL);
	rec(buf, sizeof(buf), 20, 4, "REVERTED", 7.5, 2, NULL);
	strcat(buf, "\n");
	rec(buf, sizeof(buf), 10, 1, "BASELINE", 0, -1, NULL);
	rec(buf, sizeof(buf), 10, 2, "ABORTED", 1, 3, NULL);
	return buf;
}

static void test_parse_interleaved(void **state)
{
	struct rpt_gate g;
	char why[256];

	(void)state;
	assert_int_equal(rpt_parse(three_gates(), "a.log", 0, &g, why, sizeof(why)), 0);
	assert_int_equal(g.ngates, 3);
	assert_int_equal(g.index, 3);
	assert_int_equal(json_object_array_length(g.recs), 2);
	assert_string_equal(top_jstr(g.last, "to"), "ABORTED");
	assert_null(g.hist_ref);
	rpt_free(&g);

	assert_int_equal(rpt_parse(three_gates(), "a.log", 1, &g, why, sizeof(why)), 0);
	assert_int_equal(json_object_array_length(g.recs), 3);
	assert_string_equal(top_jstr(g.last, "to"), "COMMITTED");
	assert_string_equal(g.hist_ref, "hist/10-1-3.json");
	assert_int_equal(g.nfn, 1);
	assert_string_equal(g.fn[0].name, "f");
	rpt_free(&g);

	assert_int_equal(rpt_parse(three_gates(), "a.log", 2, &g, why, sizeof(why)), 0);
	assert_int_equal(json_object_array_length(g.recs), 4);
	for (size_t r = 0; r < 4; r++)
		assert_int_equal(top_jnum(json_object_array_get_idx(g.recs, r), "target"), 20);
	rpt_free(&g);

	assert_int_equal(rpt_parse(three_gates(), "a.log", 4, &g, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "3 gated applies"));
	assert_null(g.recs);
}

static void test_parse_bad(void **state)
{
	struct rpt_gate g;
	char why[256], buf[4096] = "";

	(void)state;
	assert_int_equal(rpt_parse("", "e.log", 0, &g, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "no gated apply"));
	rec(buf, sizeof(buf), 10, 1, "BASELINE", 0, -1, NULL);
	strcat(buf, "{\"type\":\"decision\",\"seq\":2, garbage\n");
	assert_int_equal(rpt_parse(buf, "g.log", 0, &g, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "g.log:2:"));
	assert_int_equal(rpt_parse("{\"type\":\"live\",\"v\":1}\n", "l.log", 0, &g, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "l.log:1: not an audit record (not a decision record)"));
	assert_int_equal(rpt_parse("\x89PNG\r\n", "b.png", 0, &g, why, sizeof(why)), -EINVAL);
	/* a gate whose start is not in the log is not a gate */
	buf[0] = '\0';
	rec(buf, sizeof(buf), 10, 5, "BAKE", 3, -1, NULL);
	assert_int_equal(rpt_parse(buf, "t.log", 0, &g, why, sizeof(why)), -ENOENT);
}

/* ---- the histograms record, written and read back ----------------------- */

static void test_hists_round_trip(void **state)
{
	static struct pg_hist base, post;
	static struct gate_audit a;
	const struct pg_hist *b[PG_MAX_FUNCS] = { &base }, *p[PG_MAX_FUNCS] = { &post };
	struct rpt_gate g;
	json_object *o;
	char why[256], key[64], *text, *bad;

	(void)state;
	hist_reset(&base);
	hist_reset(&post);
	for (uint64_t v = 5; v < 2000000; v = v * 11 / 10 + 1)
		hist_add(&base, v, v % 7 + 1);
	hist_add(&post, 3000, 40);
	hist_add(&post, 90000, 2);
	a.seq = 3;
	a.to = GATE_COMMITTED;
	a.nfuncs = 1;
	snprintf(a.fn[0].name, sizeof(a.fn[0].name), "f");
	o = audit_hists_to_json(&a, b, p);
	assert_non_null(o);
	json_object_object_add(o, "target", json_object_new_int(10));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);

	assert_int_equal(rpt_parse(three_gates(), "a.log", 1, &g, why, sizeof(why)), 0);
	assert_int_equal(rpt_load_hists(&g, text, why, sizeof(why)), 0);
	assert_true(g.hists);
	assert_non_null(g.fn[0].base);
	assert_memory_equal(g.fn[0].base, &base, sizeof(base));
	assert_memory_equal(g.fn[0].post, &post, sizeof(post));
	rpt_free(&g);

	/* another target's histograms are refused */
	assert_int_equal(rpt_parse(three_gates(), "a.log", 2, &g, why, sizeof(why)), 0);
	assert_int_equal(rpt_load_hists(&g, text, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "another target"));
	rpt_free(&g);

	/* a bucket that is not one of the layout's */
	snprintf(key, sizeof(key), "\"lo_ns\":%llu", (unsigned long long)hist_bucket_lo(hist_bucket(3000)));
	bad = strstr(text, key);
	assert_non_null(bad);
	bad[strlen(key) - 1]++;	/* 2944 -> 2945: inside the bucket, not its bound */
	assert_int_equal(rpt_parse(three_gates(), "a.log", 1, &g, why, sizeof(why)), 0);
	assert_int_equal(rpt_load_hists(&g, text, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a bucket"));
	rpt_free(&g);
	free(text);
}

/* ---- the script and the page --------------------------------------------- */

/* What @fn wrote into a memory stream, NUL-terminated (the caller frees). */
static char *captured(FILE *f, char **buf)
{
	fclose(f);
	return *buf;
}

static void test_script(void **state)
{
	struct rpt_files files = { .out = "picture.png" };
	struct rpt_gate g;
	char why[256], *buf = NULL;
	size_t len;
	FILE *f;

	(void)state;
	assert_int_equal(rpt_parse(three_gates(), "a.log", 1, &g, why, sizeof(why)), 0);
	/* no histograms: the recorded quantiles stand in, 3 points per side */
	f = open_memstream(&buf, &len);
	assert_int_equal(rpt_write_cdf(&g, 0, false, f), 3);
	assert_int_equal(rpt_write_marks(&g, 0, true, f), 2);
	captured(f, &buf);
	assert_non_null(strstr(buf, "1.000000e-06 0.500000"));
	assert_non_null(strstr(buf, "6.000000e-06 0.99"));
	free(buf);

	f = open_memstream(&buf, &len);
	files.phase_rows = rpt_write_phases(&g, f);
	captured(f, &buf);
	assert_int_equal(files.phase_rows, 3);
	assert_non_null(strstr(buf, "\"COMMITTED\" \"started\""));
	free(buf);

	files.cdf_rows[0][0] = 3;
	files.mark_rows[0][0] = files.mark_rows[0][1] = 2;
	f = open_memstream(&buf, &len);
	rpt_write_script(&g, RPT_PNG, &files, f);
	captured(f, &buf);
	assert_non_null(strstr(buf, "set terminal pngcairo size 1000,560"));
	assert_non_null(strstr(buf, "set output \"picture.png\""));
	assert_non_null(strstr(buf, "'f0_cdf0.dat'"));
	/* a side without rows is never named: gnuplot stops on an empty file */
	assert_null(strstr(buf, "'f0_cdf1.dat'"));
	assert_non_null(strstr(buf, "set label \"p99 6.0us\""));
	assert_non_null(strstr(buf, "gate 1 of 3: p10.so on pid 10: COMMITTED (started), exit 0"));
	free(buf);
	rpt_free(&g);
}

static void test_html(void **state)
{
	struct rpt_gate g;
	char why[256], *buf = NULL;
	size_t len;
	FILE *f;

	(void)state;
	assert_int_equal(rpt_parse(three_gates(), "a.log", 2, &g, why, sizeof(why)), 0);
	f = open_memstream(&buf, &len);
	rpt_write_html(&g, "<?xml version=\"1.0\"?>\n<!DOCTYPE svg>\n<svg width=\"1\"><text>x</text></svg>\n", f);
	captured(f, &buf);
	/* the prolog is dropped, the picture inline */
	assert_null(strstr(buf, "<?xml"));
	assert_non_null(strstr(buf, "<figure id=\"picture\">\n<svg width=\"1\">"));
	assert_non_null(strstr(buf, "<table id=\"functions\">"));
	assert_non_null(strstr(buf, "<table id=\"decisions\">"));
	/* strings from the log are escaped */
	assert_non_null(strstr(buf, "d &lt;b&gt;&amp;"));
	assert_null(strstr(buf, "d <b>"));
	assert_non_null(strstr(buf, "class=\"REVERTED\""));
	/* four decisions, one row each */
	{
		int rows = 0;

		for (char *p = strstr(buf, "<table id=\"decisions\">"); (p = strstr(p, "<tr><td class=\"num\">")); p++)
			rows++;
		assert_int_equal(rows, 4);
	}
	free(buf);
	rpt_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cdf_two_buckets),
		cmocka_unit_test(test_cdf_adjacent_empty_truncated),
		cmocka_unit_test(test_cdf_monotone_matches_quantile),
		cmocka_unit_test(test_format_of),
		cmocka_unit_test(test_parse_interleaved),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_hists_round_trip),
		cmocka_unit_test(test_script),
		cmocka_unit_test(test_html),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
