/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Printers for `watch` and `residency`, shared by the process (uprobe) and
 * kernel (fentry/kprobe) sides so that both give the same fields and JSON.
 */
#ifndef PG_UI_REPORT_H
#define PG_UI_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include "core/inside.h"

struct pg_ctx;

/* One function over one interval (counters are totals since attach). */
struct pg_func_report {
	const char *func;
	const char *object;	/* file or "vmlinux" / module name */
	const char *probe;	/* "nop5", "trap", "fentry", "kprobe" */
	uint64_t calls;
	double calls_per_s;	/* over the last interval */
	int64_t inflight;
	int64_t inflight_max;
	double p50_ns, p90_ns, p99_ns;
	uint64_t max_ns;
	bool errors_on;		/* error counting enabled */
	uint64_t errors;
	double error_rate;	/* errors / exits, 0 when no exits */
	uint64_t overflow;	/* calls deeper than the nesting cap (not timed) */
};

/* Plain: a header line before each interval's rows.  JSON: nothing. */
void report_interval_begin(const struct pg_ctx *ctx, double t_s);
/* Plain: one aligned table row.  JSON: {"type":"func",...,"t":t_s}. */
void report_func(const struct pg_ctx *ctx, const struct pg_func_report *r, double t_s);
/* Plain: a closing table.  JSON: {"type":"summary","duration_s":...,"funcs":[...],"reason":...}. */
void report_summary(const struct pg_ctx *ctx, const struct pg_func_report *r, int n,
		    double duration_s, const char *reason);

/* One probed function, as `watch` attached it. */
struct pg_attach_report {
	const char *func;
	const char *object;
	const char *probe;	/* "nop5", "trap", "fentry", "kprobe" */
	uint64_t addr;		/* runtime address; 0 when not known (not shown) */
};

/*
 * Plain: "Tracing N function(s) in pid P..." (@pid > 0) or "Tracing N
 * kernel function(s) with fentry/fexit...".  JSON: {"type":"attached",
 * "pid":P or "kernel":true,"funcs":[...]}.
 */
void report_attached(const struct pg_ctx *ctx, int pid, const struct pg_attach_report *f, int n);

/* One thread or task inside a target function right now (state shown when known). */
void report_resident(const struct pg_ctx *ctx, const struct pg_inside *r);
/* Plain: "N thread(s) inside"; JSON: {"type":"residency_summary","count":N}. */
void report_resident_end(const struct pg_ctx *ctx, int count);

#endif
