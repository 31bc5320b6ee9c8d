// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include "view/output.h"
#include "view/report.h"

static json_object *func_json(const struct pg_func_report *r, const char *type)
{
	json_object *o = type ? pg_json_record(type) : json_object_new_object();

	json_object_object_add(o, "func", json_object_new_string(r->func));
	json_object_object_add(o, "object", json_object_new_string(r->object ? r->object : ""));
	json_object_object_add(o, "calls", json_object_new_uint64(r->calls));
	json_object_object_add(o, "calls_per_s", json_object_new_double(r->calls_per_s));
	json_object_object_add(o, "inflight", json_object_new_int64(r->inflight));
	json_object_object_add(o, "inflight_max", json_object_new_int64(r->inflight_max));
	json_object_object_add(o, "p50_ns", json_object_new_int64((int64_t)(r->p50_ns + 0.5)));
	json_object_object_add(o, "p90_ns", json_object_new_int64((int64_t)(r->p90_ns + 0.5)));
	json_object_object_add(o, "p99_ns", json_object_new_int64((int64_t)(r->p99_ns + 0.5)));
	json_object_object_add(o, "max_ns", json_object_new_uint64(r->max_ns));
	json_object_object_add(o, "errors", r->errors_on ? json_object_new_uint64(r->errors) : NULL);
	json_object_object_add(o, "error_rate", r->errors_on ? json_object_new_double(r->error_rate) : NULL);
	json_object_object_add(o, "probe", json_object_new_string(r->probe ? r->probe : ""));
	json_object_object_add(o, "overflow", json_object_new_uint64(r->overflow));
	return o;
}

/* Human-friendly latency: 950ns, 12.3us, 1.02ms, 2.5s. */
static const char *fmt_ns(char *buf, size_t n, double ns)
{
	if (ns < 1000)
		snprintf(buf, n, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, n, "%.1fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, n, "%.2fms", ns / 1e6);
	else
		snprintf(buf, n, "%.2fs", ns / 1e9);
	return buf;
}

void report_interval_begin(const struct pg_ctx *ctx, double t_s)
{
	if (ctx->json)
		return;
	printf("\n%-8s %-24s %10s %9s %5s %5s %9s %9s %9s %9s %8s %s\n",
	       "t", "FUNC", "CALLS", "CALLS/s", "INFL", "MAX", "P50", "P90", "P99", "MAX_LAT", "ERR%", "PROBE");
	(void)t_s;
}

void report_func(const struct pg_ctx *ctx, const struct pg_func_report *r, double t_s)
{
	char a[16], b[16], c[16], d[16], e[16];

	if (ctx->json) {
		json_object *o = func_json(r, "func");

		json_object_object_add(o, "t", json_object_new_double(t_s));
		pg_json_emit(o);
		return;
	}
	if (r->errors_on)
		snprintf(e, sizeof(e), "%.2f", r->error_rate * 100.0);
	else
		snprintf(e, sizeof(e), "-");
	printf("%-8.1f %-24.24s %10llu %9.0f %5lld %5lld %9s %9s %9s %9s %8s %s\n",
	       t_s, r->func, (unsigned long long)r->calls, r->calls_per_s,
	       (long long)r->inflight, (long long)r->inflight_max,
	       fmt_ns(a, sizeof(a), r->p50_ns), fmt_ns(b, sizeof(b), r->p90_ns),
	       fmt_ns(c, sizeof(c), r->p99_ns), fmt_ns(d, sizeof(d), (double)r->max_ns), e,
	       r->probe ? r->probe : "");
	fflush(stdout);
}

void report_summary(const struct pg_ctx *ctx, const struct pg_func_report *r, int n,
		    double duration_s, const char *reason)
{
	if (ctx->json) {
		json_object *o = pg_json_record("summary");
		json_object *arr = json_object_new_array();

		json_object_object_add(o, "duration_s", json_object_new_double(duration_s));
		json_object_object_add(o, "reason", json_object_new_string(reason ? reason : "done"));
		for (int i = 0; i < n; i++)
			json_object_array_add(arr, func_json(&r[i], NULL));
		json_object_object_add(o, "funcs", arr);
		pg_json_emit(o);
		return;
	}
	printf("\nsummary after %.1fs (%s):\n", duration_s, reason ? reason : "done");
	report_interval_begin(ctx, duration_s);
	for (int i = 0; i < n; i++)
		report_func(ctx, &r[i], duration_s);
}

void report_attached(const struct pg_ctx *ctx, int pid, const struct pg_attach_report *f, int n)
{
	json_object *a, *arr;

	if (!ctx->json) {
		if (pid)
			pg_info(ctx, "Tracing %d function(s) in pid %d... Ctrl-C to end.", n, pid);
		else
			pg_info(ctx, "Tracing %d kernel function(s) with %s... Ctrl-C to end.", n,
				n && !strcmp(f[0].probe, "fentry") ? "fentry/fexit" : "kprobe/kretprobe");
		return;
	}
	a = pg_json_record("attached");
	arr = json_object_new_array();
	if (pid)
		json_object_object_add(a, "pid", json_object_new_int(pid));
	else
		json_object_object_add(a, "kernel", json_object_new_boolean(true));
	for (int i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "func", json_object_new_string(f[i].func));
		json_object_object_add(o, "object", json_object_new_string(f[i].object));
		json_object_object_add(o, "probe", json_object_new_string(f[i].probe));
		if (f[i].addr)
			json_object_object_add(o, "addr", json_object_new_uint64(f[i].addr));
		json_object_array_add(arr, o);
	}
	json_object_object_add(a, "funcs", arr);
	pg_json_emit(a);
}

void report_resident(const struct pg_ctx *ctx, const struct pg_inside *r)
{
	bool kthread = r->flags & PG_INSIDE_KTHREAD, best_effort = r->flags & PG_INSIDE_BEST_EFFORT;

	if (ctx->json) {
		json_object *o = pg_json_record("resident");

		json_object_object_add(o, "pid", json_object_new_int(r->pid));
		json_object_object_add(o, "tid", json_object_new_int(r->tid));
		json_object_object_add(o, "comm", json_object_new_string(r->comm));
		json_object_object_add(o, "func", json_object_new_string(r->func));
		if (r->state[0])
			json_object_object_add(o, "state", json_object_new_string(r->state));
		json_object_object_add(o, "kthread", json_object_new_boolean(kthread));
		json_object_object_add(o, "best_effort", json_object_new_boolean(best_effort));
		pg_json_emit(o);
		return;
	}
	printf("%7d %7d %-16s %-28s %s%s%s\n", r->pid, r->tid, r->comm, r->func, r->state,
	       kthread ? " kthread" : "", best_effort ? " (running: best-effort)" : "");
}

void report_resident_end(const struct pg_ctx *ctx, int count)
{
	if (ctx->json) {
		json_object *o = pg_json_record("residency_summary");

		json_object_object_add(o, "count", json_object_new_int(count));
		pg_json_emit(o);
		return;
	}
	printf("%d thread(s) inside\n", count);
}
