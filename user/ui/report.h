/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Printers for `watch` and `residency`, shared by the process (uprobe) and
 * kernel (fentry/kprobe) sides so that both give the same fields and JSON.
 */
#ifndef PG_UI_REPORT_H
#define PG_UI_REPORT_H

#include <stdbool.h>
#include <stdint.h>

struct pg_cli;

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
void report_interval_begin(const struct pg_cli *cli, double t_s);
/* Plain: one aligned table row.  JSON: {"type":"func",...,"t":t_s}. */
void report_func(const struct pg_cli *cli, const struct pg_func_report *r, double t_s);
/* Plain: a closing table.  JSON: {"type":"summary","duration_s":...,"funcs":[...],"reason":...}. */
void report_summary(const struct pg_cli *cli, const struct pg_func_report *r, int n,
		    double duration_s, const char *reason);

/* One thread or task inside a target function right now. */
struct pg_resident_report {
	int pid;
	int tid;
	const char *comm;
	const char *func;
	const char *state;	/* kernel: "R", "S", "D", ...; process: NULL */
	bool kthread;
	bool best_effort;	/* running task: its stack may be stale */
};

void report_resident(const struct pg_cli *cli, const struct pg_resident_report *r);
/* Plain: "N thread(s) inside"; JSON: {"type":"residency_summary","count":N}. */
void report_resident_end(const struct pg_cli *cli, int count);

#endif
