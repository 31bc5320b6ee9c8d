/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live model: what a running gate publishes at every tick (the "live"
 * record, docs/json.md), for `top`, `status` and anything else that reads
 * <state-dir>/live/<name>.json.  The numbers come in from the gate's
 * snapshot (core/gate.h) and the driver's own bookkeeping (rates, the p99
 * history, the last decisions); this file only lays them out.
 */
#ifndef PG_VIEW_LIVE_H
#define PG_VIEW_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "core/gate.h"
#include "core/hist.h"

#define LIVE_HISTORY	60	/* p99 points kept per function, one per history step */
#define LIVE_DECISIONS	8	/* the last decisions kept */
#define LIVE_HIST_BINS	12	/* bins of the baseline-against-bake histogram */
/*
 * The coarse latency buckets of the live record (functions[].latency.le):
 * cumulative counts of the calls faster than 2^k ns for k = LIVE_LE_MIN_EXP
 * .. LIVE_LE_MAX_EXP (256 ns, 512 ns, ... 17.2 s), each a power of two and
 * so an edge of the log-linear buckets: the counts are exact, not
 * interpolated.  docs/json.md and docs/metrics.md list them.
 */
#define LIVE_LE_MIN_EXP	8
#define LIVE_LE_MAX_EXP	34
#define LIVE_LE_N	(LIVE_LE_MAX_EXP - LIVE_LE_MIN_EXP + 1)

struct live_decision {
	uint64_t seq;
	double elapsed_s;
	enum gate_state from, to;
	enum gate_reason reason;
	int64_t operator_uid;		/* -1: not an operator action */
	char detail[256];
};

struct live_frame {
	const struct gate_audit *snap;	/* gate_snapshot() now */
	const char *name;		/* "<pid>" or "kernel-<module>": file and socket name */
	int target_pid;			/* 0: the kernel */
	const char *patch;		/* the patch's name */
	const char *patch_path;		/* the patch file as given, or the livepatch's name */
	const char *build_id;		/* the patch file's build-id, "" when none */
	int gate_pid;
	unsigned int gate_uid;
	unsigned long long gate_start;	/* the gate's start time (/proc/PID/stat field 22) */
	int64_t wall_time;		/* Unix time of this frame */
	uint64_t update;		/* frames published so far, this one included */
	bool done;
	int exit_code;			/* when done */
	double step_s;			/* history step */
	unsigned int nhist;		/* points in p99_hist[*][0 .. nhist) */
	int apply_index;		/* the point at which the patch went in, or -1 */
	double calls_per_s[PG_MAX_FUNCS];
	double p99_hist[PG_MAX_FUNCS][LIVE_HISTORY];
	const struct pg_hist *base[PG_MAX_FUNCS], *post[PG_MAX_FUNCS];	/* NULL: none */
	uint64_t decisions[GATE_NREASONS];	/* decisions taken so far, per reason */
	unsigned int ndec;		/* oldest first */
	struct live_decision dec[LIVE_DECISIONS];
};

/*
 * The "live" record of @f (what the overview needs, small: it is written
 * at every tick and read at every refresh), and the "live_detail" record
 * (the p99 history and the histograms, for the detail of one gate).  NULL
 * when out of memory.  The caller puts them.
 */
json_object *live_to_json(const struct live_frame *f);
json_object *live_detail_to_json(const struct live_frame *f);

/*
 * `status`: one live record as read back (@rec, the "live" record) with its
 * gate's @health ("running", "finished", "gone"): the record with "health"
 * added (-j), or one plain line per gate and per function.
 */
struct pg_ctx;
void live_print_status(const struct pg_ctx *ctx, json_object *rec, const char *health);

/*
 * The answer of a gate to an operator @action on @target: @result "ok",
 * "refused" or "denied", and the gate's @detail.  An "operator" record with
 * -j; one line otherwise (stdout when ok, stderr when not).
 */
void view_operator_result(const struct pg_ctx *ctx, const char *action, const char *target,
			  const char *result, const char *detail);

#endif
