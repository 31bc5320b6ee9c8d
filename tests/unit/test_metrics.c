// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* view/metrics.c: content negotiation, both formats' metadata, label escaping, the histogram. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "../../user/view/metrics.c"

static void test_negotiate(void **state)
{
	(void)state;
	assert_int_equal(metrics_negotiate(NULL), METRICS_PROM);
	assert_int_equal(metrics_negotiate("*/*"), METRICS_PROM);
	assert_int_equal(metrics_negotiate("text/plain;version=0.0.4"), METRICS_PROM);
	assert_int_equal(metrics_negotiate("application/openmetrics-text"), METRICS_OPENMETRICS);
	/* what Prometheus 2.x sends */
	assert_int_equal(metrics_negotiate("application/openmetrics-text;version=1.0.0,application/"
					   "openmetrics-text;version=0.0.1;q=0.75,text/plain;version="
					   "0.0.4;q=0.5,*/*;q=0.1"), METRICS_OPENMETRICS);
	assert_int_equal(metrics_negotiate("text/plain, application/openmetrics-text;q=0.5"),
			 METRICS_PROM);
	assert_int_equal(metrics_negotiate("application/openmetrics-text;q=0"), METRICS_PROM);
	assert_int_equal(metrics_negotiate(" Application/OpenMetrics-Text; version=1.0.0"),
			 METRICS_OPENMETRICS);
}

static json_object *record(void)
{
	const char *s =
		"{\"type\":\"live\",\"target\":42,\"patch\":\"a\\\"b\\\\c\\nd.so\",\"kind\":\"ulp\","
		"\"patch_path\":\"/p/x.so\",\"build_id\":\"ab12\",\"phase\":\"BAKE\",\"held\":false,"
		"\"phase_s\":1.5,\"bake_left_s\":3,\"blockers_total\":2,"
		"\"decisions_total\":{\"started\":1,\"applied\":1},"
		"\"functions\":[{\"name\":\"f\",\"verdict\":\"ok\",\"inflight\":3,\"calls_base\":10,"
		"\"calls_post\":5,\"errors_base\":1,\"errors_post\":2,\"p50_ratio\":1.1,"
		"\"p90_ratio\":1.2,\"p99_ratio\":1.3,\"latency\":{\"count\":14,\"sum_ns\":2000000000,"
		"\"le\":[0,0,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,14]}}]}";

	return json_tokener_parse(s);
}

static void test_render_both_formats(void **state)
{
	json_object *rec = record();
	struct metrics_gate g = { .rec = rec, .health = "running" };
	size_t len;
	char *p, *om;

	(void)state;
	assert_non_null(rec);
	p = metrics_render(&g, 1, METRICS_PROM, &len);
	om = metrics_render(&g, 1, METRICS_OPENMETRICS, &len);
	assert_non_null(p);
	assert_non_null(om);
	assert_int_equal(strlen(om), len);
	/* the text format: counters and the info gauge carry their suffix in TYPE */
	assert_non_null(strstr(p, "# TYPE patchgate_function_calls_total counter\n"));
	assert_non_null(strstr(p, "# TYPE patchgate_patch_info gauge\n"));
	assert_non_null(strstr(p, "# TYPE patchgate_gate_phase gauge\n"));
	assert_null(strstr(p, "# EOF"));
	/* OpenMetrics: families without suffix, stateset, info, units, EOF last */
	assert_non_null(strstr(om, "# TYPE patchgate_function_calls counter\n"));
	assert_non_null(strstr(om, "# TYPE patchgate_patch info\n"));
	assert_non_null(strstr(om, "# TYPE patchgate_gate_phase stateset\n"));
	assert_non_null(strstr(om, "# UNIT patchgate_function_latency_seconds seconds\n"));
	assert_string_equal(om + strlen(om) - 6, "# EOF\n");
	/* the same samples in both; the label value escaped */
	assert_non_null(strstr(p, "patchgate_function_calls_total{target=\"42\",patch=\"a\\\"b\\\\c\\nd.so\","
				  "kind=\"ulp\",function=\"f\"} 15\n"));
	assert_non_null(strstr(om, "patchgate_function_errors_total{target=\"42\",patch=\"a\\\"b\\\\c\\nd.so\","
				   "kind=\"ulp\",function=\"f\"} 3\n"));
	assert_non_null(strstr(p, "patchgate_gate_phase=\"BAKE\"} 1\n"));
	assert_non_null(strstr(p, "patchgate_gate_phase=\"COMMITTED\"} 0\n"));
	assert_non_null(strstr(p, "patchgate_window_blockers{target=\"42\",patch=\"a\\\"b\\\\c\\nd.so\","
				  "kind=\"ulp\"} 0\n"));
	assert_non_null(strstr(p, ",outcome=\"applied\"} 1\n"));
	/* the histogram: 2^10 ns = 1.024 us holds 1, +Inf and count 14, sum in seconds */
	assert_non_null(strstr(p, ",le=\"1.024e-06\"} 1\n"));
	assert_non_null(strstr(p, ",le=\"2.56e-07\"} 0\n"));
	assert_non_null(strstr(p, ",le=\"17.179869184\"} 14\n"));
	assert_non_null(strstr(p, ",le=\"+Inf\"} 14\n"));
	assert_non_null(strstr(p, "patchgate_function_latency_seconds_sum{target=\"42\",patch=\"a\\\"b\\\\c"
				  "\\nd.so\",kind=\"ulp\",function=\"f\"} 2\n"));
	assert_non_null(strstr(p, "build_id=\"ab12\",path=\"/p/x.so\"} 1\n"));
	free(p);
	free(om);
	json_object_put(rec);
}

/* A text larger than the first buffer (a 200 KB path) comes out whole. */
static void test_render_grows(void **state)
{
	json_object *rec = record();
	struct metrics_gate g = { .rec = rec, .health = "gone" };
	char *path = malloc(200001), *p;
	size_t len;

	(void)state;
	memset(path, 'x', 200000);
	path[200000] = '\0';
	json_object_object_add(rec, "patch_path", json_object_new_string(path));
	p = metrics_render(&g, 1, METRICS_OPENMETRICS, &len);
	assert_non_null(p);
	assert_int_equal(strlen(p), len);
	assert_true(len > 200000);
	assert_non_null(strstr(p, path));
	assert_string_equal(p + len - 6, "# EOF\n");
	assert_non_null(strstr(p, "patchgate_gate_running{target=\"42\""));
	free(p);
	free(path);
	json_object_put(rec);
}

static void test_render_nothing(void **state)
{
	size_t len;
	char *p = metrics_render(NULL, 0, METRICS_OPENMETRICS, &len);

	(void)state;
	assert_non_null(p);
	assert_non_null(strstr(p, "patchgate_exporter_gates 0\n"));
	assert_null(strstr(p, "patchgate_function"));
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_render_both_formats),
		cmocka_unit_test(test_render_grows),
		cmocka_unit_test(test_render_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
