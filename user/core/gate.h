/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The gate: one target's state machine, pure.  The controller feeds it
 * observations (with the time, which the gate never reads itself) and
 * performs the actions it returns.  Every decision yields an audit record.
 *
 *   IDLE -> BASELINE -> WAIT_WINDOW -> APPLYING -> TRANSITION -> BAKE -> COMMITTED
 *                                         |  (ulp: APPLYING -> BAKE)     |
 *   BASELINE, WAIT_WINDOW -> ABORTED      +-> REVERTING -> REVERTED <----+
 *
 * See docs/statistics.md ("Spending alpha") and docs/policy.md.
 *
 * Driving it (the controller, once per tick of ~1 s):
 *
 *	g = gate__new(&(struct gate_opts){ .policy = &pol, .backend = ..., .nfuncs = n,
 *					   .funcs = names, .dry_run = ... });
 *	gate_step(g, START{taint}, now, &out);		-> ATTACH_PROBES
 *	loop until gate_done(g):
 *		SAMPLES   every tick: per function the current generation's cumulative
 *		          histogram and calls/exits/errors, plus in-flight now
 *		WINDOW    every tick in WAIT_WINDOW (residency result)
 *		TRANSITION every tick in TRANSITION (klp)
 *		TAINT     when the taint mask changes or WARNs appear (kernel)
 *		TICK      when nothing else was sent
 *		APPLIED / REVERTED   right after doing APPLY / REVERT
 *		TARGET_DIED, CANCEL  when they happen
 *	    and perform out.act[] in order: APPLY, REVERT (then report REVERTED),
 *	    BUMP_GENERATION (reset the post-patch counters: later SAMPLES start from 0),
 *	    REPORT_BLOCKERS (print out.blockers), DONE (exit with act.exit_code).
 *	    Write out.audit, when set, to the audit log (ui/audit.h: audit_to_json).
 *
 * A step for an observation the state does not expect returns -EINVAL and
 * changes nothing: a controller bug, not a target problem.
 */
#ifndef PG_CORE_GATE_H
#define PG_CORE_GATE_H

#include <stdbool.h>
#include <stdint.h>
#include <patchgate/abi.h>
#include "inside.h"
#include "policy.h"
#include "stats.h"

enum gate_state {
	GATE_IDLE = 0,
	GATE_BASELINE,
	GATE_WAIT_WINDOW,
	GATE_APPLYING,
	GATE_TRANSITION,
	GATE_BAKE,
	GATE_COMMITTED,
	GATE_REVERTING,
	GATE_REVERTED,
	GATE_ABORTED,
	GATE_NSTATES,
};

enum gate_backend {
	GATE_BACKEND_ULP = 0,	/* process: apply is instant, no transition */
	GATE_BACKEND_KLP,	/* kernel livepatch: per-task transition */
};

enum gate_obs_type {
	GATE_OBS_START = 0,	/* begin: attach probes */
	GATE_OBS_SAMPLES,	/* per-function histograms and counters */
	GATE_OBS_WINDOW,	/* residency: clear, or blocked by whom */
	GATE_OBS_APPLIED,	/* result of APPLY */
	GATE_OBS_TRANSITION,	/* klp transition progress */
	GATE_OBS_REVERTED,	/* result of REVERT */
	GATE_OBS_TARGET_DIED,	/* the process exited */
	GATE_OBS_TAINT,		/* kernel taint mask / new WARNs */
	GATE_OBS_TICK,		/* time passed, nothing else */
	GATE_OBS_CANCEL,	/* operator interrupt */
	GATE_OBS_OPERATOR,	/* an operator action over the control channel */
	GATE_NOBS,
};

enum gate_act_type {
	GATE_ACT_ATTACH_PROBES = 0,
	GATE_ACT_APPLY,
	GATE_ACT_BUMP_GENERATION,	/* post-patch data goes to a new generation from now on */
	GATE_ACT_REVERT,
	GATE_ACT_REPORT_BLOCKERS,	/* gate_out.blockers changed: show them */
	GATE_ACT_DONE,			/* finished; exit with gate_action.exit_code */
};

enum gate_reason {
	GATE_R_NONE = 0,
	GATE_R_STARTED,
	GATE_R_BASELINE_DONE,
	GATE_R_BASELINE_SHORT,		/* max_wait ran out first: using what there is */
	GATE_R_WINDOW_CLEAR,
	GATE_R_NO_WINDOW,		/* max_wait ran out in WAIT_WINDOW */
	GATE_R_DRY_RUN,			/* window clear; dry run stops here */
	GATE_R_APPLIED,
	GATE_R_APPLY_FAILED,
	GATE_R_TRANSITION_DONE,
	GATE_R_TRANSITION_TIMEOUT,
	GATE_R_BAKE_OK,
	GATE_R_BAKE_EXTENDED,		/* too few calls: bake once more */
	GATE_R_HELD,			/* too few calls: kept, unjudged (hold) */
	GATE_R_REGRESSED,		/* latency or errors past policy, significant */
	GATE_R_HUNG,			/* calls stopped returning */
	GATE_R_TARGET_DIED,
	GATE_R_TAINT,
	GATE_R_INCONCLUSIVE,		/* too few calls: revert (on_inconclusive) */
	GATE_R_CANCELLED,
	GATE_R_REVERTED,
	GATE_R_REVERT_FAILED,
	GATE_R_OP_PROMOTE,		/* the operator committed the patch before the bake ended */
	GATE_R_OP_ABORT,		/* the operator aborted: nothing applied, or reverting */
	GATE_R_OP_HOLD,			/* the operator paused the verdict (and the bake's clock) */
	GATE_R_OP_RESUME,		/* the operator let the verdict go on */
	GATE_NREASONS,
};

/* Exit codes: the same values as enum pg_exit (ctx/ctx.h, docs/ctx.md). */
#define GATE_EXIT_COMMITTED	0
#define GATE_EXIT_REGRESSED	2
#define GATE_EXIT_NO_WINDOW	3
#define GATE_EXIT_TRANSITION	4
#define GATE_EXIT_SYSTEM	5
#define GATE_EXIT_OPERATOR	6	/* aborted by the operator (reverted, or nothing applied) */

/*
 * Operator actions (GATE_OBS_OPERATOR), each audited with the acting uid:
 *   PROMOTE  BAKE -> COMMITTED now, unjudged (exit 0).
 *   ABORT    before APPLY: -> ABORTED; APPLYING: revert once applied;
 *            TRANSITION, BAKE: -> REVERTING; the run ends with exit 6.
 *   HOLD     BAKE only: no look is taken and the bake's clock stops until
 *            RESUME.  The safety rules (hang, taint, death) still apply.
 *   RESUME   a held BAKE: looks again, the bake's remaining time runs on.
 * A state that does not take the action changes nothing, records
 * nothing, and says why in gate_out.op_err / op_why.
 */
enum gate_op {
	GATE_OP_PROMOTE = 0,
	GATE_OP_ABORT,
	GATE_OP_HOLD,
	GATE_OP_RESUME,
	GATE_NOPS,
};

#define GATE_NAME_LEN		64
#define GATE_COMM_LEN		16
#define GATE_MAX_BLOCKERS	16	/* kept per report; the total is counted */
#define GATE_MAX_ACTIONS	4
#define GATE_REVERT_ATTEMPTS	3	/* REVERT is retried this often before giving up */
/*
 * Load shifts (docs/statistics.md): the bake is cut into blocks of at least
 * min_samples / GATE_BLOCK_DIV calls and GATE_BLOCK_NS (whole SAMPLES
 * ticks).  A block is "over" when its calls above the baseline's p99 are
 * more than chance allows at GATE_BLOCK_P (the tail test's exceedance law
 * on the block alone).  A verdict whose only rule is the tail's stands
 * when more than half of the closed blocks are over, and, at an interim
 * look, once GATE_TAIL_MIN_BLOCKS have closed.  GATE_TAIL_MIN_BLOCKS and
 * GATE_BLOCK_P are compile-time knobs the detection benchmark varies.
 */
#define GATE_BLOCK_DIV		4
#define GATE_BLOCK_NS		900000000ULL	/* a 1 s tick, with room for jitter */
#ifndef GATE_BLOCK_P
#define GATE_BLOCK_P		0.1	/* a block is over: exceedance p-value at most this */
#endif
#ifndef GATE_TAIL_MIN_BLOCKS
#define GATE_TAIL_MIN_BLOCKS	2
#endif

/*
 * Taint bits a livepatch sets by itself and that never count against it:
 * O (out-of-tree module, 12), E (unsigned module, 13), K (livepatch, 15).
 */
#define GATE_TAINT_IGNORED	((1ULL << 12) | (1ULL << 13) | (1ULL << 15))

/* Who holds a target function (WAIT_WINDOW) or has not switched yet (TRANSITION): struct pg_inside. */

/*
 * One function's data in a SAMPLES observation: cumulative for the current
 * probe generation (since ATTACH_PROBES, then since the last
 * BUMP_GENERATION), plus the in-flight count now.  Copied by the gate.
 */
struct gate_fn_sample {
	const struct pg_hist *hist;	/* timed calls */
	uint64_t calls;
	uint64_t exits;
	uint64_t errors;		/* <= exits */
	uint64_t sum_ns;		/* total timed latency */
	int64_t inflight;
};

struct gate_obs {
	enum gate_obs_type type;
	union {
		struct {
			uint64_t taint;		/* kernel taint mask now (0 if unknown) */
		} start;
		struct {
			unsigned int nfuncs;	/* gate_opts.nfuncs + ncontrols */
			const struct gate_fn_sample *fn;
		} samples;
		struct {
			bool clear;
			unsigned int nblockers;	/* total; GATE_MAX_BLOCKERS kept */
			const struct pg_inside *blockers;
		} window;
		struct {
			int err;		/* 0 or negative errno */
			bool partial;		/* failed, but something may be left applied */
		} applied;
		struct {
			bool done;
			unsigned int nstragglers;
			const struct pg_inside *stragglers;
		} transition;
		struct {
			int err;		/* 0 or negative errno */
		} reverted;
		struct {
			uint64_t taint;		/* kernel taint mask now */
			unsigned int new_warns;	/* WARNs since the last TAINT obs */
		} taint;
		struct {
			int status;		/* wait status, for the record */
		} died;
		struct {
			enum gate_op op;
			int64_t uid;		/* the acting uid (SO_PEERCRED), >= 0 */
		} op;
	};
};

struct gate_action {
	enum gate_act_type type;
	enum gate_reason reason;	/* REVERT, DONE: why */
	int exit_code;			/* DONE only */
};

/* Evidence for one function in an audit record. */
struct gate_fn_evidence {
	char name[GATE_NAME_LEN];
	struct stats_verdict v;		/* numbers now; a verdict only if judged */
	bool judged;			/* a look (test) was taken in this decision */
	unsigned int looks;		/* looks taken so far in BAKE */
	uint64_t calls_base, calls_post;
	uint64_t errors_base, errors_post;	/* now, as the calls (v's may be a look's) */
	uint64_t sum_base_ns, sum_post_ns;	/* total timed latency on each side */
	int64_t inflight, inflight_base_max;
	bool hung;
	unsigned int blocks;		/* closed post blocks */
	unsigned int blocks_over;	/* of which p99 > p99_ratio_max x baseline p99 */
};

/* A control function's numbers over the same baseline and post. */
struct gate_ctl_evidence {
	char name[GATE_NAME_LEN];
	uint64_t n_base, n_post;
	double p50_base, p99_base, p50_post, p99_post;	/* ns */
	bool used;			/* min_samples on both sides: in the comparison */
};

/* One decision: a state change, or a BAKE extension, or a revert retry. */
struct gate_audit {
	uint64_t seq;			/* 1, 2, ... per gate */
	uint64_t time_ns;		/* the now_ns of the step */
	uint64_t elapsed_ns;		/* since START */
	enum gate_state from, to;
	enum gate_reason reason;
	char detail[256];		/* one human sentence with the deciding numbers */
	int64_t operator_uid;		/* the acting uid of an operator action, else -1 */
	uint64_t state_ns;		/* time in the current state (snapshots) */
	bool held;			/* BAKE is held by the operator */
	uint64_t bake_left_ns;		/* BAKE: time left until the final look (held: frozen) */
	int exit_code;			/* -1 unless this decision ends the run */
	enum gate_backend backend;
	bool dry_run;
	bool baseline_short;		/* BASELINE ended at max_wait below min_samples */
	bool judged;			/* false when no verdict stands behind it (hold) */
	bool extended;			/* BAKE was extended once */
	double look_alpha;		/* per-function alpha of the look behind this decision */
	double alpha_spent;		/* per function, over all looks so far */
	uint64_t taint;			/* last kernel taint mask seen */
	struct pg_policy policy;	/* the values in force */
	unsigned int nblockers;		/* blockers or stragglers kept below */
	unsigned int nblockers_total;
	struct pg_inside blockers[GATE_MAX_BLOCKERS];
	unsigned int nfuncs;
	struct gate_fn_evidence fn[PG_MAX_FUNCS];
	unsigned int ncontrols;
	struct gate_ctl_evidence ctl[POLICY_MAX_CONTROLS];
};

/* What one step asks for. */
struct gate_out {
	unsigned int nact;
	struct gate_action act[GATE_MAX_ACTIONS];
	/* set when a decision was taken; valid until the next gate_step or gate__free */
	const struct gate_audit *audit;
	/* with GATE_ACT_REPORT_BLOCKERS; same lifetime */
	unsigned int nblockers, nblockers_total;
	const struct pg_inside *blockers;
	/* OPERATOR: 0 taken, or -EBUSY / -EALREADY with op_why (nothing changed) */
	int op_err;
	const char *op_why;
};

struct gate_opts {
	const struct pg_policy *policy;	/* copied; NULL: defaults */
	enum gate_backend backend;
	/*
	 * 1 .. PG_MAX_FUNCS; 0 for a kernel patch with nothing to observe (no
	 * function, or only functions of modules not loaded): the gate then
	 * applies, waits for the transition and bakes on the kernel's health
	 * alone, and its records say so.
	 */
	unsigned int nfuncs;
	const char *const *funcs;	/* names, copied (truncated to GATE_NAME_LEN - 1) */
	/*
	 * Control functions (docs/statistics.md, "Concurrent control"):
	 * SAMPLES carry nfuncs + ncontrols entries, the controls last.  They
	 * are measured, never judged; the patched ones are judged against them.
	 */
	unsigned int ncontrols;		/* 0 .. POLICY_MAX_CONTROLS */
	const char *const *controls;
	/*
	 * The controls were chosen by the controller (control = auto), not
	 * named: BASELINE does not wait for them, and one short of calls is
	 * left out of the verdict as any thin control is.
	 */
	bool controls_optional;
	bool dry_run;			/* stop when the window is clear (ABORTED, exit 0) */
	const char *note;		/* NULL, or why functions go unobserved: in STARTED's detail */
};

struct gate;

/* A new gate in IDLE.  NULL with errno = EINVAL (bad opts) or ENOMEM. */
struct gate *gate__new(const struct gate_opts *opts);
void gate__free(struct gate *g);

/*
 * Feed one observation at monotonic time @now_ns.  Fills @out with the
 * actions to perform, in order, and the audit record of the decision if
 * one was taken.  Returns 0, or -EINVAL without changing anything when the
 * observation is not expected in the current state, is malformed, or time
 * went backwards.  A finished gate refuses everything.
 */
int gate_step(struct gate *g, const struct gate_obs *obs, uint64_t now_ns,
	      struct gate_out *out);

enum gate_state gate_state(const struct gate *g);
bool gate_done(const struct gate *g);
/* The exit code once done, else -1. */
int gate_exit_code(const struct gate *g);
/*
 * The current numbers as an audit-shaped record (from = to = the current
 * state, reason NONE) for progress lines and `status`; no decision is
 * taken.  Valid until the next gate_snapshot or gate__free.
 */
const struct gate_audit *gate_snapshot(struct gate *g, uint64_t now_ns);

/*
 * Function @i's (0 .. nfuncs - 1) baseline and post-patch histograms as the
 * gate holds them, for displays.  -EINVAL for a bad index.
 */
int gate_fn_hists(const struct gate *g, unsigned int i, const struct pg_hist **base,
		  const struct pg_hist **post);
unsigned int gate_nfuncs(const struct gate *g);

/* Per-function alpha of BAKE look @j (1-based); j = 0 is the final look. */
double gate_look_alpha(double alpha, unsigned int nfuncs, unsigned int j);

const char *gate_state_name(enum gate_state s);
const char *gate_obs_name(enum gate_obs_type t);
const char *gate_action_name(enum gate_act_type t);
const char *gate_reason_name(enum gate_reason r);
const char *gate_backend_name(enum gate_backend b);
const char *gate_op_name(enum gate_op op);
/* The action named @name ("promote", ...), or -1. */
int gate_op_parse(const char *name);

#endif
