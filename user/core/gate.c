// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The gate state machine.  Pure: time and data come in through gate_step(),
 * actions and audit records go out.  Rules: docs/architecture.md "The gate",
 * docs/statistics.md (alpha across looks) and docs/policy.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gate.h"
#include "hist.h"

struct gate_fn {
	char name[GATE_NAME_LEN];
	struct pg_hist base;		/* frozen when APPLY is asked for */
	struct pg_hist post;		/* since BUMP_GENERATION */
	struct stats_counts cnt_base, cnt_post;
	uint64_t calls_base, calls_post;
	uint64_t sum_base, sum_post;	/* timed latency, ns */
	int64_t inflight, inflight_base_max;

	/* hang detection (BAKE) */
	bool stuck;			/* in-flight above the baseline's maximum */
	uint64_t stuck_since;
	uint64_t stuck_exits;		/* exits when it started */
	uint64_t grow_since;		/* in-flight never fell since then */
	int64_t grow_from;
	bool hung;

	/* post blocks (BAKE): is a tail regression present over time? */
	struct pg_hist block_from;	/* post at the last block boundary */
	uint64_t block_t;		/* time of the last block boundary */
	unsigned int blocks;		/* closed blocks */
	unsigned int blocks_over;	/* ... whose p99 is past p99_ratio_max x baseline p99 */
	bool set_aside;			/* the last look's tail verdict was read as load */

	/* looks (BAKE) */
	unsigned int looks;
	uint64_t next_look_n;
	bool judged;			/* a look was taken in the current step */
	struct stats_verdict v;
};

struct gate {
	struct pg_policy pol;
	enum gate_backend backend;
	bool dry_run;
	unsigned int nfuncs;		/* patched functions: fn[0 .. nfuncs) */
	unsigned int ncontrols;		/* control functions: fn[nfuncs .. nfuncs + ncontrols) */
	bool controls_optional;		/* chosen, not named: the baseline does not wait for them */
	char note[160];			/* gate_opts.note */

	enum gate_state state;
	bool done;
	int exit_code;
	bool started;
	uint64_t t_start;		/* START */
	uint64_t t_state;		/* entry into the current state */
	uint64_t last_now;
	uint64_t seq;

	uint64_t taint_ref;		/* accepted before APPLY */
	uint64_t taint;

	bool baseline_short;
	bool window_clear;
	uint64_t clear_since;
	bool blockers_reported;
	unsigned int nblockers, nblockers_total;
	struct pg_inside blockers[GATE_MAX_BLOCKERS];

	bool cancel_pending;		/* CANCEL while APPLYING */
	int64_t abort_uid;		/* ABORT while APPLYING: the operator's uid, else -1 */
	bool held;			/* HOLD in BAKE: no looks, the bake's clock stopped */
	uint64_t hold_left;		/* held: the bake time left when HOLD came */
	uint64_t bake_end;
	bool extended;
	bool waiting_calls;		/* past bake, waiting for min_post_calls (up to max_bake) */
	double alpha_spent;
	double look_alpha;

	enum gate_reason revert_reason;
	int revert_exit;
	unsigned int revert_attempts;

	struct gate_audit audit;
	struct gate_audit snap;
	struct gate_fn fn[];
};

/* ---- names ------------------------------------------------------------ */

static const char *const state_names[GATE_NSTATES] = {
	[GATE_IDLE] = "IDLE",
	[GATE_BASELINE] = "BASELINE",
	[GATE_WAIT_WINDOW] = "WAIT_WINDOW",
	[GATE_APPLYING] = "APPLYING",
	[GATE_TRANSITION] = "TRANSITION",
	[GATE_BAKE] = "BAKE",
	[GATE_COMMITTED] = "COMMITTED",
	[GATE_REVERTING] = "REVERTING",
	[GATE_REVERTED] = "REVERTED",
	[GATE_ABORTED] = "ABORTED",
};

static const char *const obs_names[GATE_NOBS] = {
	[GATE_OBS_START] = "start",
	[GATE_OBS_SAMPLES] = "samples",
	[GATE_OBS_WINDOW] = "window",
	[GATE_OBS_APPLIED] = "applied",
	[GATE_OBS_TRANSITION] = "transition",
	[GATE_OBS_REVERTED] = "reverted",
	[GATE_OBS_TARGET_DIED] = "target_died",
	[GATE_OBS_TAINT] = "taint",
	[GATE_OBS_TICK] = "tick",
	[GATE_OBS_CANCEL] = "cancel",
	[GATE_OBS_OPERATOR] = "operator",
};

static const char *const op_names[GATE_NOPS] = {
	[GATE_OP_PROMOTE] = "promote",
	[GATE_OP_ABORT] = "abort",
	[GATE_OP_HOLD] = "hold",
	[GATE_OP_RESUME] = "resume",
};

static const char *const reason_names[GATE_NREASONS] = {
	[GATE_R_NONE] = "none",
	[GATE_R_STARTED] = "started",
	[GATE_R_BASELINE_DONE] = "baseline_done",
	[GATE_R_BASELINE_SHORT] = "baseline_short",
	[GATE_R_WINDOW_CLEAR] = "window_clear",
	[GATE_R_NO_WINDOW] = "no_window",
	[GATE_R_DRY_RUN] = "dry_run",
	[GATE_R_APPLIED] = "applied",
	[GATE_R_APPLY_FAILED] = "apply_failed",
	[GATE_R_TRANSITION_DONE] = "transition_done",
	[GATE_R_TRANSITION_TIMEOUT] = "transition_timeout",
	[GATE_R_BAKE_OK] = "bake_ok",
	[GATE_R_BAKE_EXTENDED] = "bake_extended",
	[GATE_R_HELD] = "held",
	[GATE_R_REGRESSED] = "regressed",
	[GATE_R_HUNG] = "hung",
	[GATE_R_TARGET_DIED] = "target_died",
	[GATE_R_TAINT] = "taint",
	[GATE_R_INCONCLUSIVE] = "inconclusive",
	[GATE_R_CANCELLED] = "cancelled",
	[GATE_R_REVERTED] = "reverted",
	[GATE_R_REVERT_FAILED] = "revert_failed",
	[GATE_R_OP_PROMOTE] = "operator_promote",
	[GATE_R_OP_ABORT] = "operator_abort",
	[GATE_R_OP_HOLD] = "operator_hold",
	[GATE_R_OP_RESUME] = "operator_resume",
};

const char *gate_state_name(enum gate_state s)
{
	return (unsigned int)s < GATE_NSTATES ? state_names[s] : "?";
}

const char *gate_obs_name(enum gate_obs_type t)
{
	return (unsigned int)t < GATE_NOBS ? obs_names[t] : "?";
}

const char *gate_reason_name(enum gate_reason r)
{
	return (unsigned int)r < GATE_NREASONS ? reason_names[r] : "?";
}

const char *gate_op_name(enum gate_op op)
{
	return (unsigned int)op < GATE_NOPS ? op_names[op] : "?";
}

int gate_op_parse(const char *name)
{
	for (int i = 0; name && i < GATE_NOPS; i++)
		if (!strcmp(name, op_names[i]))
			return i;
	return -1;
}

const char *gate_action_name(enum gate_act_type t)
{
	switch (t) {
	case GATE_ACT_ATTACH_PROBES:
		return "attach_probes";
	case GATE_ACT_APPLY:
		return "apply";
	case GATE_ACT_BUMP_GENERATION:
		return "bump_generation";
	case GATE_ACT_REVERT:
		return "revert";
	case GATE_ACT_REPORT_BLOCKERS:
		return "report_blockers";
	case GATE_ACT_DONE:
		return "done";
	}
	return "?";
}

const char *gate_backend_name(enum gate_backend b)
{
	return b == GATE_BACKEND_KLP ? "klp" : b == GATE_BACKEND_ULP ? "ulp" : "?";
}

/* ---- which observations each state takes ------------------------------ */

#define OBS(t) (1u << (t))
/* operator actions reach every unfinished state; each state decides what it takes */
#define OBS_OP OBS(GATE_OBS_OPERATOR)

static const unsigned int allowed[GATE_NSTATES] = {
	[GATE_IDLE] = OBS(GATE_OBS_START) | OBS(GATE_OBS_CANCEL) | OBS_OP,
	[GATE_BASELINE] = OBS(GATE_OBS_SAMPLES) | OBS(GATE_OBS_TICK) | OBS(GATE_OBS_TAINT) |
			  OBS(GATE_OBS_TARGET_DIED) | OBS(GATE_OBS_CANCEL) | OBS_OP,
	[GATE_WAIT_WINDOW] = OBS(GATE_OBS_SAMPLES) | OBS(GATE_OBS_TICK) | OBS(GATE_OBS_WINDOW) |
			     OBS(GATE_OBS_TAINT) | OBS(GATE_OBS_TARGET_DIED) | OBS(GATE_OBS_CANCEL) | OBS_OP,
	[GATE_APPLYING] = OBS(GATE_OBS_APPLIED) | OBS(GATE_OBS_SAMPLES) | OBS(GATE_OBS_TICK) |
			  OBS(GATE_OBS_TAINT) | OBS(GATE_OBS_TARGET_DIED) | OBS(GATE_OBS_CANCEL) | OBS_OP,
	[GATE_TRANSITION] = OBS(GATE_OBS_TRANSITION) | OBS(GATE_OBS_SAMPLES) | OBS(GATE_OBS_TICK) |
			    OBS(GATE_OBS_TAINT) | OBS(GATE_OBS_TARGET_DIED) | OBS(GATE_OBS_CANCEL) | OBS_OP,
	[GATE_BAKE] = OBS(GATE_OBS_SAMPLES) | OBS(GATE_OBS_TICK) | OBS(GATE_OBS_TAINT) |
		      OBS(GATE_OBS_TARGET_DIED) | OBS(GATE_OBS_CANCEL) | OBS_OP,
	[GATE_REVERTING] = OBS(GATE_OBS_REVERTED) | OBS(GATE_OBS_SAMPLES) | OBS(GATE_OBS_TICK) |
			   OBS(GATE_OBS_TAINT) | OBS(GATE_OBS_TARGET_DIED) | OBS(GATE_OBS_CANCEL) | OBS_OP,
	/* COMMITTED, REVERTED, ABORTED: nothing */
};

/* ---- life cycle -------------------------------------------------------- */

static void copy_name(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

struct gate *gate__new(const struct gate_opts *opts)
{
	struct gate *g = NULL;

	if (!opts || opts->nfuncs > PG_MAX_FUNCS || (opts->nfuncs && !opts->funcs) ||
	    opts->ncontrols > POLICY_MAX_CONTROLS || (opts->ncontrols && !opts->controls) ||
	    opts->nfuncs + opts->ncontrols > PG_MAX_FUNCS ||
	    (opts->backend != GATE_BACKEND_ULP && opts->backend != GATE_BACKEND_KLP) ||
	    (!opts->nfuncs && opts->backend != GATE_BACKEND_KLP)) {
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g) + (opts->nfuncs + opts->ncontrols) * sizeof(g->fn[0]));
	if (!g) {
		errno = ENOMEM;
		return NULL;
	}
	if (opts->policy)
		g->pol = *opts->policy;
	else
		policy_defaults(&g->pol);
	g->backend = opts->backend;
	g->dry_run = opts->dry_run;
	g->nfuncs = opts->nfuncs;
	g->ncontrols = opts->ncontrols;
	g->controls_optional = opts->controls_optional;
	copy_name(g->note, sizeof(g->note), opts->note);
	g->state = GATE_IDLE;
	g->exit_code = -1;
	g->abort_uid = -1;
	for (unsigned int i = 0; i < g->nfuncs + g->ncontrols; i++) {
		copy_name(g->fn[i].name, sizeof(g->fn[i].name),
			  i < g->nfuncs ? opts->funcs[i] : opts->controls[i - g->nfuncs]);
		g->fn[i].next_look_n = g->pol.min_samples;
	}
	return g;
}

void gate__free(struct gate *g)
{
	free(g);
}

enum gate_state gate_state(const struct gate *g)
{
	return g->state;
}

bool gate_done(const struct gate *g)
{
	return g->done;
}

unsigned int gate_nfuncs(const struct gate *g)
{
	return g->nfuncs;
}

int gate_fn_hists(const struct gate *g, unsigned int i, const struct pg_hist **base,
		  const struct pg_hist **post)
{
	if (i >= g->nfuncs)
		return -EINVAL;
	*base = &g->fn[i].base;
	*post = &g->fn[i].post;
	return 0;
}

int gate_exit_code(const struct gate *g)
{
	return g->done ? g->exit_code : -1;
}

/*
 * Alpha spending over BAKE looks, per function: look j (j >= 1, taken when
 * the post-patch calls reach min_samples * 2^(j-1)) gets 3 alpha/(8F) for
 * j = 1 and alpha/(F 2^(j+2)) after, the final look at the end of BAKE
 * alpha/(2F).  Summed over every look and every function this is at most
 * alpha (union bound), however many looks.  The first look is weighted up:
 * it is the one that must catch a regression within min_samples calls
 * (docs/statistics.md, "Spending alpha").
 */
double gate_look_alpha(double alpha, unsigned int nfuncs, unsigned int j)
{
	if (!nfuncs)
		nfuncs = 1;
	if (j == 0)
		return alpha / (2.0 * nfuncs);
	if (j == 1)
		return 3.0 * alpha / (8.0 * nfuncs);
	return alpha / ((double)nfuncs * ldexp(1.0, (int)(j < 60 ? j : 60) + 2));
}

/* ---- audit ------------------------------------------------------------- */

/*
 * The concurrent control over the same interval as the functions' own
 * baseline and post: every control function with min_samples calls on
 * both sides (stats_control_add).  None: the comparison is before/after.
 */
static void control_of(const struct gate *g, struct stats_control *c)
{
	memset(c, 0, sizeof(*c));
	for (unsigned int i = g->nfuncs; i < g->nfuncs + g->ncontrols; i++)
		stats_control_add(c, &g->fn[i].base, &g->fn[i].post, g->pol.min_samples);
}

static void fill_evidence(struct gate *g, struct gate_audit *a)
{
	double alpha = gate_look_alpha(g->pol.alpha, g->nfuncs, 0);
	struct stats_control ctl;

	control_of(g, &ctl);
	a->nfuncs = g->nfuncs;
	a->ncontrols = g->ncontrols;
	for (unsigned int i = 0; i < g->ncontrols; i++) {
		const struct gate_fn *f = &g->fn[g->nfuncs + i];
		struct gate_ctl_evidence *c = &a->ctl[i];

		memcpy(c->name, f->name, sizeof(c->name));
		c->n_base = hist_count(&f->base);
		c->n_post = hist_count(&f->post);
		c->p50_base = hist_quantile(&f->base, 0.50);
		c->p99_base = hist_quantile(&f->base, 0.99);
		c->p50_post = hist_quantile(&f->post, 0.50);
		c->p99_post = hist_quantile(&f->post, 0.99);
		c->used = c->n_base >= g->pol.min_samples && c->n_post >= g->pol.min_samples;
	}
	for (unsigned int i = 0; i < g->nfuncs; i++) {
		struct gate_fn *f = &g->fn[i];
		struct gate_fn_evidence *e = &a->fn[i];

		memcpy(e->name, f->name, sizeof(e->name));
		if (f->judged) {
			e->v = f->v;
		} else {
			/* the numbers as they stand, at the final look's alpha */
			stats_compare_ctl(&f->base, &f->post, &f->cnt_base, &f->cnt_post,
					  &g->pol, alpha, &ctl, &e->v);
			if (g->state < GATE_BAKE)
				e->v.outcome = STATS_INCONCLUSIVE;
		}
		e->judged = f->judged;
		e->looks = f->looks;
		e->calls_base = f->calls_base;
		e->calls_post = f->calls_post;
		e->errors_base = f->cnt_base.errors;
		e->errors_post = f->cnt_post.errors;
		e->sum_base_ns = f->sum_base;
		e->sum_post_ns = f->sum_post;
		e->inflight = f->inflight;
		e->inflight_base_max = f->inflight_base_max;
		e->hung = f->hung;
		e->blocks = f->blocks;
		e->blocks_over = f->blocks_over;
	}
}

static void fill_common(struct gate *g, struct gate_audit *a, uint64_t now)
{
	a->time_ns = now;
	a->elapsed_ns = g->started ? now - g->t_start : 0;
	a->state_ns = g->started && now >= g->t_state ? now - g->t_state : 0;
	a->exit_code = -1;
	a->operator_uid = -1;
	a->held = g->held;
	if (g->state == GATE_BAKE)
		a->bake_left_ns = g->held ? g->hold_left : g->bake_end > now ? g->bake_end - now : 0;
	a->backend = g->backend;
	a->dry_run = g->dry_run;
	a->baseline_short = g->baseline_short;
	a->extended = g->extended;
	a->alpha_spent = g->alpha_spent;
	a->look_alpha = g->look_alpha;
	a->taint = g->taint;
	a->policy = g->pol;
	a->nblockers = g->nblockers;
	a->nblockers_total = g->nblockers_total;
	memcpy(a->blockers, g->blockers, sizeof(a->blockers));
	fill_evidence(g, a);
}

const struct gate_audit *gate_snapshot(struct gate *g, uint64_t now_ns)
{
	struct gate_audit *a = &g->snap;

	memset(a, 0, sizeof(*a));
	fill_common(g, a, now_ns);
	a->from = a->to = g->state;
	a->reason = GATE_R_NONE;
	a->judged = false;
	return a;
}

static void add_action(struct gate_out *out, enum gate_act_type t, enum gate_reason r, int code)
{
	if (out->nact >= GATE_MAX_ACTIONS)
		return;
	out->act[out->nact].type = t;
	out->act[out->nact].reason = r;
	out->act[out->nact].exit_code = code;
	out->nact++;
}

/*
 * Record one decision and move to @to.  @exit_code >= 0 ends the run
 * (DONE is added).  Every change of state goes through here, so each has
 * exactly one audit record.
 */
static void decide(struct gate *g, struct gate_out *out, uint64_t now, enum gate_state to,
		   enum gate_reason why, int exit_code, bool judged, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

static void decide(struct gate *g, struct gate_out *out, uint64_t now, enum gate_state to,
		   enum gate_reason why, int exit_code, bool judged, const char *fmt, ...)
{
	struct gate_audit *a = &g->audit;
	va_list ap;

	memset(a, 0, sizeof(*a));
	a->from = g->state;
	if (to != g->state)
		g->t_state = now;
	g->state = to;
	fill_common(g, a, now);
	a->seq = ++g->seq;
	a->to = to;
	a->state_ns = now - g->t_state;
	a->reason = why;
	a->judged = judged;
	va_start(ap, fmt);
	vsnprintf(a->detail, sizeof(a->detail), fmt, ap);
	va_end(ap);
	if (exit_code >= 0) {
		g->done = true;
		g->exit_code = exit_code;
		a->exit_code = exit_code;
		add_action(out, GATE_ACT_DONE, why, exit_code);
	}
	out->audit = a;
}

/* Ask for a revert; REVERTED later ends the run with @exit_code. */
static void start_revert(struct gate *g, struct gate_out *out, uint64_t now,
			 enum gate_reason why, int exit_code, bool judged, const char *detail)
{
	g->revert_reason = why;
	g->revert_exit = exit_code;
	g->revert_attempts = 1;
	add_action(out, GATE_ACT_REVERT, why, -1);
	decide(g, out, now, GATE_REVERTING, why, -1, judged, "%s", detail);
}

/* ---- observations ------------------------------------------------------ */

static bool obs_valid(const struct gate *g, const struct gate_obs *o)
{
	switch (o->type) {
	case GATE_OBS_SAMPLES:
		if (o->samples.nfuncs != g->nfuncs + g->ncontrols || !o->samples.fn)
			return false;
		for (unsigned int i = 0; i < o->samples.nfuncs; i++) {
			const struct gate_fn_sample *s = &o->samples.fn[i];

			if (!s->hist || s->errors > s->exits || s->inflight < 0)
				return false;
		}
		return true;
	case GATE_OBS_WINDOW:
		return o->window.clear || !o->window.nblockers || o->window.blockers;
	case GATE_OBS_TRANSITION:
		return !o->transition.nstragglers || o->transition.stragglers;
	case GATE_OBS_OPERATOR:
		return (unsigned int)o->op.op < GATE_NOPS && o->op.uid >= 0;
	case GATE_OBS_APPLIED:
		return o->applied.err <= 0 && (!o->applied.partial || o->applied.err < 0);
	case GATE_OBS_REVERTED:
		return o->reverted.err <= 0;
	default:
		return (unsigned int)o->type < GATE_NOBS;
	}
}

static void keep_blockers(struct gate *g, unsigned int n, const struct pg_inside *b)
{
	unsigned int keep = n < GATE_MAX_BLOCKERS ? n : GATE_MAX_BLOCKERS;

	memset(g->blockers, 0, sizeof(g->blockers));
	for (unsigned int i = 0; i < keep; i++) {
		g->blockers[i] = b[i];
		g->blockers[i].comm[GATE_COMM_LEN - 1] = '\0';
		g->blockers[i].func[GATE_NAME_LEN - 1] = '\0';
		g->blockers[i].state[sizeof(g->blockers[i].state) - 1] = '\0';
	}
	g->nblockers = keep;
	g->nblockers_total = n;
}

static bool blockers_same(const struct gate *g, unsigned int n, const struct pg_inside *b)
{
	if (n != g->nblockers_total)
		return false;
	for (unsigned int i = 0; i < g->nblockers; i++)
		if (b[i].pid != g->blockers[i].pid || b[i].tid != g->blockers[i].tid ||
		    strncmp(b[i].func, g->blockers[i].func, GATE_NAME_LEN - 1) ||
		    strncmp(b[i].state, g->blockers[i].state, sizeof(b[i].state) - 1))
			return false;
	return true;
}

/* The first few blockers for a one-line detail; the audit record keeps them all. */
#define GATE_DETAIL_BLOCKERS 3

static void describe_blockers(const struct gate *g, char *buf, size_t len)
{
	unsigned int n = g->nblockers < GATE_DETAIL_BLOCKERS ? g->nblockers : GATE_DETAIL_BLOCKERS;
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s[%d/%d] in %s (%s)", i ? ", " : "",
				g->blockers[i].comm, g->blockers[i].pid, g->blockers[i].tid,
				g->blockers[i].func, g->blockers[i].state);
	if (g->nblockers_total > n && off < len)
		snprintf(buf + off, len - off, " and %u more", g->nblockers_total - n);
}

static void take_baseline(struct gate *g, const struct gate_obs *o)
{
	for (unsigned int i = 0; i < g->nfuncs + g->ncontrols; i++) {
		const struct gate_fn_sample *s = &o->samples.fn[i];
		struct gate_fn *f = &g->fn[i];

		f->base = *s->hist;
		f->cnt_base.exits = s->exits;
		f->cnt_base.errors = s->errors;
		f->calls_base = s->calls;
		f->sum_base = s->sum_ns;
		f->inflight = s->inflight;
		if (s->inflight > f->inflight_base_max)
			f->inflight_base_max = s->inflight;
	}
}

/*
 * Post blocks: once a function's post calls since the last boundary reach
 * min_samples / GATE_BLOCK_DIV and GATE_BLOCK_NS has passed (whole SAMPLES
 * ticks), they form a block, whose calls above the baseline's p99 are
 * tested on their own (stats_exceed_sf at GATE_BLOCK_P).
 * A patch that slowed the tail does so in every block; a burst of CPU
 * contention slows a few (docs/statistics.md, "Load shifts").
 */
static void close_block(const struct gate *g, struct gate_fn *f, uint64_t now)
{
	uint64_t need = g->pol.min_samples / GATE_BLOCK_DIV, nb, n, m, k;
	double thr, above;

	if (hist_count(&f->post) < hist_count(&f->block_from) + (need ? need : 1) ||
	    now - f->block_t < GATE_BLOCK_NS)
		return;
	f->block_t = now;
	nb = hist_count(&f->base);
	thr = hist_quantile(&f->base, 0.99);
	m = (uint64_t)llround(hist_count_above(&f->base, thr));
	/* the block is the difference of two cumulative snapshots */
	n = hist_count(&f->post) - hist_count(&f->block_from);
	above = hist_count_above(&f->post, thr) - hist_count_above(&f->block_from, thr);
	k = above > 0.0 ? (uint64_t)llround(above) : 0;
	f->block_from = f->post;
	f->blocks++;
	if (nb && stats_exceed_sf(nb, n, m ? m : 1, k) <= GATE_BLOCK_P)
		f->blocks_over++;
}

/*
 * A verdict whose only rule is the tail's stands when the tail is past the
 * threshold in more than half of the closed blocks.  An interim look with
 * fewer than GATE_TAIL_MIN_BLOCKS closed waits for a later look; the final
 * look, with nothing later to wait for, lets it stand on fewer than two.  Bulk, error and hang verdicts stand at once.  A
 * verdict set aside keeps its numbers (and the tail's significance bit)
 * but loses the rule, so the record reads ok.  Returns whether it stands.
 */
static bool tail_persists(struct gate_fn *f, bool final)
{
	bool keep;

	if (f->v.outcome != STATS_REGRESSED || f->v.rules != STATS_RULE_P99)
		return f->v.outcome == STATS_REGRESSED;
	/*
	 * Judged against a concurrent control: contention that fattens the
	 * tail fattens the control's too, and the tail test already held it
	 * against that, so the blocks, a stand-in for a control, are not asked.
	 */
	if (f->v.has_control)
		return true;
	if (f->blocks < 2)
		keep = final;
	else if (!final && f->blocks < GATE_TAIL_MIN_BLOCKS)
		keep = false;
	else
		keep = 2 * f->blocks_over > f->blocks;
	if (!keep) {
		f->v.rules = 0;
		f->v.outcome = STATS_OK;
		f->set_aside = true;
	}
	return keep;
}

static void take_post(struct gate *g, const struct gate_obs *o, uint64_t now)
{
	for (unsigned int i = 0; i < g->nfuncs + g->ncontrols; i++) {
		const struct gate_fn_sample *s = &o->samples.fn[i];
		struct gate_fn *f = &g->fn[i];
		uint64_t prev_exits = f->cnt_post.exits;
		bool above, stalled;

		f->post = *s->hist;
		f->cnt_post.exits = s->exits;
		f->cnt_post.errors = s->errors;
		f->calls_post = s->calls;
		f->sum_post = s->sum_ns;
		close_block(g, f, now);
		/*
		 * hang bookkeeping: a streak above the baseline's in-flight maximum,
		 * or of calls in flight with none returning at all, when no baseline
		 * call took as long as hang_timeout (on a busy host the baseline's
		 * maximum can already equal the number of threads that then hang)
		 */
		above = s->inflight > f->inflight_base_max;
		stalled = s->inflight > 0 && s->exits == prev_exits &&
			  hist_max(&f->base) < g->pol.hang_timeout_ns;
		if (above || stalled) {
			if (!f->stuck) {
				f->stuck = true;
				f->stuck_since = now;
				f->stuck_exits = s->exits;
				f->grow_since = now;
				f->grow_from = s->inflight;
			} else if (s->inflight < f->inflight) {
				f->grow_since = now;
				f->grow_from = s->inflight;
			}
		} else {
			f->stuck = false;
		}
		f->inflight = s->inflight;
	}
}

/* Smallest number of calls on either side below min_samples, for messages. */
static int short_fn(const struct gate *g, bool post)
{
	for (unsigned int i = 0; i < g->nfuncs; i++) {
		uint64_t n = hist_count(post ? &g->fn[i].post : &g->fn[i].base);

		if (n < g->pol.min_samples)
			return (int)i;
	}
	return -1;
}

/*
 * Calls per side function @i needs (policy tail_calls): the reference count
 * scaled by its baseline's tail width squared, at least min_samples.  The
 * baseline is frozen at APPLY, so from then on this does not move.
 * min_samples when tail_calls is 0 or the baseline has fewer than
 * min_samples calls (no width to read yet).
 */
static uint64_t fn_need(const struct gate *g, unsigned int i)
{
	if (!g->pol.tail_calls || hist_count(&g->fn[i].base) < g->pol.min_samples)
		return g->pol.min_samples;
	return stats_tail_calls(&g->fn[i].base, g->pol.tail_calls, g->pol.min_samples,
				POLICY_MIN_SAMPLES_MAX);
}

/* The first function whose baseline has fewer calls than fn_need, or -1. */
static int short_need(const struct gate *g)
{
	for (unsigned int i = 0; i < g->nfuncs; i++)
		if (hist_count(&g->fn[i].base) < fn_need(g, i))
			return (int)i;
	return -1;
}

/*
 * Can a control still join the verdict: has one min_samples baseline calls
 * (its post side may still fill)?  One with a short baseline never can.
 */
static bool ctl_can_come(const struct gate *g)
{
	for (unsigned int i = g->nfuncs; i < g->nfuncs + g->ncontrols; i++)
		if (hist_count(&g->fn[i].base) >= g->pol.min_samples)
			return true;
	return false;
}

/* The first control with fewer than min_samples baseline calls, or -1 (always, when chosen). */
static int short_ctl(const struct gate *g)
{
	if (g->controls_optional)
		return -1;
	for (unsigned int i = g->nfuncs; i < g->nfuncs + g->ncontrols; i++)
		if (hist_count(&g->fn[i].base) < g->pol.min_samples)
			return (int)i;
	return -1;
}

/*
 * The baseline is ready when every function has min_samples calls, and
 * every control too: a control judged against a thin baseline of its own
 * carries that noise into every verdict (its probes may also start later,
 * in another process).  max_wait bounds the wait for the controls alone.
 */
static bool baseline_ready(const struct gate *g)
{
	return short_fn(g, false) < 0 && short_ctl(g) < 0 && short_need(g) < 0;
}

/*
 * Calls stop returning: in-flight above the baseline's maximum (or calls
 * in flight and none returning, see take_post) for hang_timeout, and
 * either no call returned in that time or in-flight only grew.  Returns
 * the first hung function or -1.
 */
static int find_hung(struct gate *g, uint64_t now)
{
	int first = -1;

	for (unsigned int i = 0; i < g->nfuncs; i++) {
		struct gate_fn *f = &g->fn[i];
		bool no_exits, growing;

		if (!f->stuck || now - f->stuck_since < g->pol.hang_timeout_ns)
			continue;
		no_exits = f->cnt_post.exits == f->stuck_exits;
		growing = now - f->grow_since >= g->pol.hang_timeout_ns &&
			  f->inflight >= f->grow_from + 2;
		if (no_exits || growing) {
			f->hung = true;
			if (first < 0)
				first = (int)i;
		}
	}
	return first;
}

static void rule_text(unsigned int rules, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int r = 1; r <= STATS_RULE_ERRORS && off < len; r <<= 1)
		if (rules & r)
			off += snprintf(buf + off, len - off, "%s%s", off ? "+" : "",
					stats_rule_name(r));
}

static void regression_detail(const struct gate *g, int i, char *buf, size_t len)
{
	const struct stats_verdict *v = &g->fn[i].v;
	char rules[32];

	rule_text(v->rules, rules, sizeof(rules));
	if (v->has_control) {
		snprintf(buf, len, "%s regressed (%s) against the control: p50 x%.3f p99 x%.3f "
			 "(control x%.3f x%.3f), errors %+.4f, p bulk %.2g tail %.2g errors %.2g "
			 "at alpha %.2g, n %" PRIu64 "/%" PRIu64,
			 g->fn[i].name, rules, v->p50_ratio_adj, v->p99_ratio_adj,
			 v->ctl_p50_ratio, v->ctl_p99_ratio, v->err_delta, v->mw_p, v->tail_p,
			 v->err_p, v->alpha, v->n_base, v->n_post);
		return;
	}
	snprintf(buf, len, "%s regressed (%s): p50 x%.3f p99 x%.3f errors %+.4f, "
		 "p bulk %.2g tail %.2g errors %.2g at alpha %.2g, n %" PRIu64 "/%" PRIu64
		 ", tail over in %u/%u blocks",
		 g->fn[i].name, rules, v->p50_ratio, v->p99_ratio, v->err_delta, v->mw_p,
		 v->tail_p, v->err_p, v->alpha, v->n_base, v->n_post, g->fn[i].blocks_over,
		 g->fn[i].blocks);
}

static void clear_judged(struct gate *g)
{
	for (unsigned int i = 0; i < g->nfuncs; i++) {
		g->fn[i].judged = false;
		g->fn[i].set_aside = false;
	}
}

/* Interim looks on every function whose post calls reached its next look. */
static int interim_looks(struct gate *g)
{
	struct stats_control ctl;
	int first = -1;

	control_of(g, &ctl);
	for (unsigned int i = 0; i < g->nfuncs; i++) {
		struct gate_fn *f = &g->fn[i];
		double a;

		if (hist_count(&f->base) < g->pol.min_samples ||
		    hist_count(&f->post) < f->next_look_n)
			continue;
		/* a control that has not reached min_samples yet: the look waits for it, if it can come */
		if (g->ncontrols && !ctl.n && ctl_can_come(g))
			continue;
		f->looks++;
		a = gate_look_alpha(g->pol.alpha, g->nfuncs, f->looks);
		while (f->next_look_n <= hist_count(&f->post))
			f->next_look_n *= 2;
		g->alpha_spent += a;
		g->look_alpha = a;
		f->judged = true;
		stats_compare_ctl(&f->base, &f->post, &f->cnt_base, &f->cnt_post, &g->pol, a, &ctl,
				  &f->v);
		if (tail_persists(f, false) && first < 0)
			first = (int)i;
	}
	return first;
}

/* The final look on every function with enough calls on both sides. */
static int final_look(struct gate *g)
{
	double a = gate_look_alpha(g->pol.alpha, g->nfuncs, 0);
	struct stats_control ctl;
	int first = -1;

	/* a control short of calls even now is left out: before/after, said in the record */
	control_of(g, &ctl);
	for (unsigned int i = 0; i < g->nfuncs; i++) {
		struct gate_fn *f = &g->fn[i];

		if (hist_count(&f->base) < g->pol.min_samples ||
		    hist_count(&f->post) < g->pol.min_samples)
			continue;
		f->judged = true;
		g->alpha_spent += a;
		g->look_alpha = a;
		stats_compare_ctl(&f->base, &f->post, &f->cnt_base, &f->cnt_post, &g->pol, a, &ctl,
				  &f->v);
		if (tail_persists(f, true) && first < 0)
			first = (int)i;
	}
	return first;
}

/*
 * The first function with fewer post calls than it needs, or -1: @want
 * (min_post_calls; 0: none), or its fn_need when tail_calls asks for more.
 * Stores that function's need in @need.
 */
static int few_post(const struct gate *g, uint64_t want, uint64_t *need)
{
	for (unsigned int i = 0; i < g->nfuncs; i++) {
		uint64_t n = g->pol.tail_calls && fn_need(g, i) > want ? fn_need(g, i) : want;

		if (n && hist_count(&g->fn[i].post) < n) {
			*need = n;
			return (int)i;
		}
	}
	return -1;
}

/*
 * End of BAKE: wait for min_post_calls (up to max_bake), then commit,
 * revert, extend or hold.  See docs/policy.md.
 */
static void bake_end(struct gate *g, struct gate_out *out, uint64_t now)
{
	char buf[256], shortof[128] = "";
	int sb = short_fn(g, false), sp = short_fn(g, true), bad;
	uint64_t want = policy_post_calls(&g->pol), need = 0;
	int few = few_post(g, want, &need);
	bool extend_helps = false;

	/*
	 * bake is the least the gate watches: a verdict on fewer post calls
	 * than the power analysis asks for waits, up to max_bake from the
	 * start of the bake.  Interim looks go on meanwhile.
	 */
	if (few >= 0 && now - g->t_state < policy_max_bake_ns(&g->pol)) {
		if (!g->waiting_calls) {
			g->waiting_calls = true;
			g->extended = true;
			decide(g, out, now, GATE_BAKE, GATE_R_BAKE_EXTENDED, -1, false,
			       "%s has %" PRIu64 " post calls, %s asks for %" PRIu64
			       ": baking on until it has them, up to max_bake (%.3gs)",
			       g->fn[few].name, hist_count(&g->fn[few].post),
			       need > want ? "tail_calls (its tail's width)" : "min_post_calls", need,
			       (double)policy_max_bake_ns(&g->pol) / 1e9);
		}
		return;
	}
	if (few >= 0)
		snprintf(shortof, sizeof(shortof), "; max_bake reached with %s at %" PRIu64
			 " of the %" PRIu64 " post calls %s asks for", g->fn[few].name,
			 hist_count(&g->fn[few].post), need,
			 need > want ? "tail_calls" : "min_post_calls");

	for (unsigned int i = 0; i < g->nfuncs; i++)
		if (hist_count(&g->fn[i].post) < g->pol.min_samples &&
		    hist_count(&g->fn[i].base) >= g->pol.min_samples)
			extend_helps = true;
	if (sb >= 0 || sp >= 0) {
		if (g->pol.on_inconclusive == PG_INCONCLUSIVE_EXTEND && !g->extended &&
		    extend_helps) {
			int i = sp >= 0 ? sp : sb;

			g->extended = true;
			g->bake_end = now + g->pol.bake_ns;
			decide(g, out, now, GATE_BAKE, GATE_R_BAKE_EXTENDED, -1, false,
			       "too few calls to judge (%s: %" PRIu64 " post, %" PRIu64
			       " baseline, need %" PRIu64 "): baking once more",
			       g->fn[i].name, hist_count(&g->fn[i].post),
			       hist_count(&g->fn[i].base), g->pol.min_samples);
			return;
		}
	}
	bad = final_look(g);
	if (bad >= 0) {
		regression_detail(g, bad, buf, sizeof(buf));
		start_revert(g, out, now, GATE_R_REGRESSED, GATE_EXIT_REGRESSED, true, buf);
		return;
	}
	if (sb < 0 && sp < 0) {
		int k = -1;

		for (unsigned int i = 0; i < g->nfuncs && k < 0; i++)
			if (g->fn[i].set_aside)
				k = (int)i;
		if (k >= 0) {
			decide(g, out, now, GATE_COMMITTED, GATE_R_BAKE_OK, GATE_EXIT_COMMITTED,
			       true, "no regression in %u function(s) at alpha %.2g per function; "
			       "%s: tail past the threshold in only %u of %u blocks (p99 x%.3f): "
			       "read as load, not the patch", g->nfuncs,
			       gate_look_alpha(g->pol.alpha, g->nfuncs, 0), g->fn[k].name,
			       g->fn[k].blocks_over, g->fn[k].blocks, g->fn[k].v.p99_ratio);
			return;
		}
		if (!g->nfuncs) {
			decide(g, out, now, GATE_COMMITTED, GATE_R_BAKE_OK, GATE_EXIT_COMMITTED, false,
			       "nothing to observe: no new taint and no WARN for the bake");
			return;
		}
		decide(g, out, now, GATE_COMMITTED, GATE_R_BAKE_OK, GATE_EXIT_COMMITTED, true,
		       "no regression in %u function(s) at alpha %.2g per function%s",
		       g->nfuncs, gate_look_alpha(g->pol.alpha, g->nfuncs, 0), shortof);
		return;
	}
	{
		int i = sp >= 0 ? sp : sb;

		snprintf(buf, sizeof(buf), "too few calls to judge %s (%" PRIu64 " post, %" PRIu64
			 " baseline, need %" PRIu64 ")", g->fn[i].name,
			 hist_count(&g->fn[i].post), hist_count(&g->fn[i].base),
			 g->pol.min_samples);
	}
	if (g->pol.on_inconclusive == PG_INCONCLUSIVE_HOLD) {
		decide(g, out, now, GATE_COMMITTED, GATE_R_HELD, GATE_EXIT_COMMITTED, false,
		       "%s: holding the patch unjudged (on_inconclusive=hold)", buf);
		return;
	}
	start_revert(g, out, now, GATE_R_INCONCLUSIVE, GATE_EXIT_REGRESSED, false, buf);
}

/* Time-driven rules of the current state, after the observation itself. */
static void time_rules(struct gate *g, struct gate_out *out, uint64_t now)
{
	char buf[256];
	int i;

	switch (g->state) {
	case GATE_BASELINE:
		if (now - g->t_state < g->pol.max_wait_ns)
			return;
		i = short_fn(g, false);
		if (i < 0 && short_ctl(g) < 0) {
			/* only tail_calls is short: the verdicts have min_samples */
			i = short_need(g);
			decide(g, out, now, GATE_WAIT_WINDOW, GATE_R_BASELINE_DONE, -1, false,
			       "max_wait reached with %s at %" PRIu64 " of the %" PRIu64 " baseline "
			       "calls tail_calls asks for its tail: going on with what there is",
			       i >= 0 ? g->fn[i].name : "?", i >= 0 ? hist_count(&g->fn[i].base) : 0,
			       i >= 0 ? fn_need(g, (unsigned int)i) : 0);
			return;
		}
		if (i < 0) {
			/* only controls are short: those stay out of the verdicts that need them */
			i = short_ctl(g);
			decide(g, out, now, GATE_WAIT_WINDOW, GATE_R_BASELINE_DONE, -1, false,
			       "baseline has >= %" PRIu64 " calls of each of %u function(s); control "
			       "%s has %" PRIu64 " by max_wait: left out where it is short",
			       g->pol.min_samples, g->nfuncs, i >= 0 ? g->fn[i].name : "?",
			       i >= 0 ? hist_count(&g->fn[i].base) : 0);
			return;
		}
		g->baseline_short = true;
		decide(g, out, now, GATE_WAIT_WINDOW, GATE_R_BASELINE_SHORT, -1, false,
		       "max_wait reached with %s at %" PRIu64 " of %" PRIu64
		       " calls: using what there is", i >= 0 ? g->fn[i].name : "?",
		       i >= 0 ? hist_count(&g->fn[i].base) : 0, g->pol.min_samples);
		return;
	case GATE_WAIT_WINDOW:
		if (now - g->t_state < g->pol.max_wait_ns)
			return;
		describe_blockers(g, buf, sizeof(buf));
		decide(g, out, now, GATE_ABORTED, GATE_R_NO_WINDOW, GATE_EXIT_NO_WINDOW, false,
		       "no window clear for %.3gs within max_wait; nothing applied; blocked by %s",
		       (double)g->pol.dwell_ns / 1e9, g->nblockers ? buf : "(no report)");
		return;
	case GATE_TRANSITION:
		if (now - g->t_state < g->pol.transition_timeout_ns)
			return;
		describe_blockers(g, buf, sizeof(buf));
		{
			char d[256];

			snprintf(d, sizeof(d),
				 "transition not done after %.3gs; stragglers: %.200s",
				 (double)g->pol.transition_timeout_ns / 1e9,
				 g->nblockers ? buf : "(none reported)");
			start_revert(g, out, now, GATE_R_TRANSITION_TIMEOUT,
				     GATE_EXIT_TRANSITION, false, d);
		}
		return;
	case GATE_BAKE:
		i = find_hung(g, now);
		if (i >= 0) {
			snprintf(buf, sizeof(buf), "%s: calls stopped returning: %" PRId64
				 " in flight (baseline max %" PRId64 ") for %.3gs, exits %s",
				 g->fn[i].name, g->fn[i].inflight, g->fn[i].inflight_base_max,
				 (double)(now - g->fn[i].stuck_since) / 1e9,
				 g->fn[i].cnt_post.exits == g->fn[i].stuck_exits ? "stopped" :
				 "slowing while in-flight grows");
			start_revert(g, out, now, GATE_R_HUNG, GATE_EXIT_REGRESSED, true, buf);
			return;
		}
		if (!g->held && now >= g->bake_end)
			bake_end(g, out, now);
		return;
	default:
		return;
	}
}

static void on_samples(struct gate *g, const struct gate_obs *o, uint64_t now,
		       struct gate_out *out)
{
	char buf[256];
	int bad;

	switch (g->state) {
	case GATE_BASELINE:
		take_baseline(g, o);
		if (baseline_ready(g)) {
			if (!g->nfuncs)
				decide(g, out, now, GATE_WAIT_WINDOW, GATE_R_BASELINE_DONE, -1, false,
				       "no function to take a baseline of");
			else
				decide(g, out, now, GATE_WAIT_WINDOW, GATE_R_BASELINE_DONE, -1, false,
				       "baseline has >= %" PRIu64 " calls of each of %u function(s)%s",
				       g->pol.min_samples, g->nfuncs, g->pol.tail_calls ?
				       ", and as many as tail_calls asks for each one's tail" : "");
			return;
		}
		break;
	case GATE_WAIT_WINDOW:
		take_baseline(g, o);
		break;
	case GATE_BAKE:
		take_post(g, o, now);
		if (find_hung(g, now) >= 0 || g->held)
			break;		/* time_rules reports a hang; a held bake takes no look */
		bad = interim_looks(g);
		if (bad >= 0) {
			regression_detail(g, bad, buf, sizeof(buf));
			start_revert(g, out, now, GATE_R_REGRESSED, GATE_EXIT_REGRESSED, true, buf);
			return;
		}
		break;
	default:
		/* APPLYING, TRANSITION, REVERTING: only in-flight is of interest */
		for (unsigned int i = 0; i < g->nfuncs + g->ncontrols; i++)
			g->fn[i].inflight = o->samples.fn[i].inflight;
		break;
	}
	time_rules(g, out, now);
}

static void on_window(struct gate *g, const struct gate_obs *o, uint64_t now,
		      struct gate_out *out)
{
	if (!o->window.clear) {
		bool changed = g->window_clear || !g->blockers_reported ||
			       !blockers_same(g, o->window.nblockers, o->window.blockers);

		g->window_clear = false;
		if (changed) {
			keep_blockers(g, o->window.nblockers, o->window.blockers);
			g->blockers_reported = true;
			add_action(out, GATE_ACT_REPORT_BLOCKERS, GATE_R_NONE, -1);
			out->blockers = g->blockers;
			out->nblockers = g->nblockers;
			out->nblockers_total = g->nblockers_total;
		}
		time_rules(g, out, now);
		return;
	}
	if (!g->window_clear) {
		g->window_clear = true;
		g->clear_since = now;
	}
	if (now - g->clear_since >= g->pol.dwell_ns) {
		keep_blockers(g, 0, NULL);
		if (g->dry_run) {
			decide(g, out, now, GATE_ABORTED, GATE_R_DRY_RUN, GATE_EXIT_COMMITTED,
			       false, "dry run: window clear for %.3gs, would apply now",
			       (double)(now - g->clear_since) / 1e9);
			return;
		}
		add_action(out, GATE_ACT_APPLY, GATE_R_WINDOW_CLEAR, -1);
		decide(g, out, now, GATE_APPLYING, GATE_R_WINDOW_CLEAR, -1, false,
		       "window clear for %.3gs (dwell %.3gs)",
		       (double)(now - g->clear_since) / 1e9, (double)g->pol.dwell_ns / 1e9);
		return;
	}
	time_rules(g, out, now);
}

static void enter_bake(struct gate *g, struct gate_out *out, uint64_t now,
		       enum gate_reason why, const char *detail)
{
	g->bake_end = now + g->pol.bake_ns;
	for (unsigned int i = 0; i < g->nfuncs + g->ncontrols; i++) {
		hist_reset(&g->fn[i].post);
		hist_reset(&g->fn[i].block_from);
		g->fn[i].block_t = now;
		g->fn[i].blocks = g->fn[i].blocks_over = 0;
		g->fn[i].cnt_post = (struct stats_counts){ 0 };
		g->fn[i].calls_post = 0;
		g->fn[i].sum_post = 0;
	}
	add_action(out, GATE_ACT_BUMP_GENERATION, why, -1);
	decide(g, out, now, GATE_BAKE, why, -1, false, "%s", detail);
}

static void on_applied(struct gate *g, const struct gate_obs *o, uint64_t now,
		       struct gate_out *out)
{
	char buf[160];

	if (o->applied.err) {
		snprintf(buf, sizeof(buf), "apply failed: %s", strerror(-o->applied.err));
		if (o->applied.partial) {
			start_revert(g, out, now, GATE_R_APPLY_FAILED, GATE_EXIT_SYSTEM, false,
				     buf);
			return;
		}
		decide(g, out, now, GATE_ABORTED, GATE_R_APPLY_FAILED, GATE_EXIT_SYSTEM, false,
		       "%s; nothing applied", buf);
		return;
	}
	if (g->cancel_pending && g->abort_uid >= 0) {
		start_revert(g, out, now, GATE_R_OP_ABORT, GATE_EXIT_OPERATOR, false,
			     "applied, but aborted by the operator meanwhile: reverting");
		g->audit.operator_uid = g->abort_uid;
		return;
	}
	if (g->cancel_pending) {
		start_revert(g, out, now, GATE_R_CANCELLED, GATE_EXIT_SYSTEM, false,
			     "applied, but cancelled by the operator meanwhile: reverting");
		return;
	}
	if (g->backend == GATE_BACKEND_ULP) {
		enter_bake(g, out, now, GATE_R_APPLIED,
			   "applied (ulp: all threads switched at once, no transition)");
		return;
	}
	decide(g, out, now, GATE_TRANSITION, GATE_R_APPLIED,
	       -1, false, "module loaded, patch enabled: transition started");
}

static void on_transition(struct gate *g, const struct gate_obs *o, uint64_t now,
			  struct gate_out *out)
{
	if (o->transition.done) {
		keep_blockers(g, 0, NULL);
		enter_bake(g, out, now, GATE_R_TRANSITION_DONE, "every task switched to the patch");
		return;
	}
	keep_blockers(g, o->transition.nstragglers, o->transition.stragglers);
	time_rules(g, out, now);
}

static void on_reverted(struct gate *g, const struct gate_obs *o, uint64_t now,
			struct gate_out *out)
{
	if (!o->reverted.err) {
		decide(g, out, now, GATE_REVERTED, GATE_R_REVERTED, g->revert_exit,
		       g->revert_reason == GATE_R_REGRESSED || g->revert_reason == GATE_R_HUNG,
		       "reverted (%s)", gate_reason_name(g->revert_reason));
		return;
	}
	if (g->revert_attempts < GATE_REVERT_ATTEMPTS) {
		g->revert_attempts++;
		add_action(out, GATE_ACT_REVERT, g->revert_reason, -1);
		decide(g, out, now, GATE_REVERTING, GATE_R_REVERT_FAILED, -1, false,
		       "revert failed: %s; trying again (%u of %u)", strerror(-o->reverted.err),
		       g->revert_attempts, GATE_REVERT_ATTEMPTS);
		return;
	}
	/* stays REVERTING, finished: the patch may still be in */
	decide(g, out, now, GATE_REVERTING, GATE_R_REVERT_FAILED, GATE_EXIT_SYSTEM, false,
	       "revert failed %u times (%s): the patch may still be applied -- revert by hand",
	       g->revert_attempts, strerror(-o->reverted.err));
}

static void on_died(struct gate *g, const struct gate_obs *o, uint64_t now,
		    struct gate_out *out)
{
	switch (g->state) {
	case GATE_BASELINE:
	case GATE_WAIT_WINDOW:
		decide(g, out, now, GATE_ABORTED, GATE_R_TARGET_DIED, GATE_EXIT_SYSTEM, false,
		       "target exited before the patch (status 0x%x); nothing applied",
		       (unsigned int)o->died.status);
		return;
	case GATE_REVERTING:
		decide(g, out, now, GATE_REVERTED, GATE_R_TARGET_DIED, g->revert_exit, false,
		       "target exited while reverting (status 0x%x): nothing left to revert",
		       (unsigned int)o->died.status);
		return;
	default:
		/* the patched process is gone, and the patch with it: nothing to revert */
		decide(g, out, now, GATE_REVERTED, GATE_R_TARGET_DIED, GATE_EXIT_REGRESSED, true,
		       "target exited after the patch (status 0x%x): counted as a regression",
		       (unsigned int)o->died.status);
		return;
	}
}

static void on_taint(struct gate *g, const struct gate_obs *o, uint64_t now,
		     struct gate_out *out)
{
	uint64_t fresh;
	char buf[160];

	g->taint = o->taint.taint;
	switch (g->state) {
	case GATE_BASELINE:
	case GATE_WAIT_WINDOW:
		/* not ours: whatever the kernel had before the patch is the reference */
		g->taint_ref |= o->taint.taint;
		return;
	case GATE_APPLYING:
	case GATE_TRANSITION:
	case GATE_BAKE:
		fresh = o->taint.taint & ~g->taint_ref & ~GATE_TAINT_IGNORED;
		if (!fresh && !o->taint.new_warns)
			return;
		snprintf(buf, sizeof(buf), "kernel health: new taint bits 0x%" PRIx64
			 ", %u new WARN(s) since the patch", fresh, o->taint.new_warns);
		start_revert(g, out, now, GATE_R_TAINT, GATE_EXIT_REGRESSED, true, buf);
		return;
	default:
		return;
	}
}

static void on_cancel(struct gate *g, uint64_t now, struct gate_out *out)
{
	switch (g->state) {
	case GATE_IDLE:
	case GATE_BASELINE:
	case GATE_WAIT_WINDOW:
		decide(g, out, now, GATE_ABORTED, GATE_R_CANCELLED, GATE_EXIT_SYSTEM, false,
		       "cancelled by the operator; nothing applied");
		return;
	case GATE_APPLYING:
		/* the APPLIED result decides: revert what went in */
		g->cancel_pending = true;
		return;
	case GATE_TRANSITION:
	case GATE_BAKE:
		start_revert(g, out, now, GATE_R_CANCELLED, GATE_EXIT_SYSTEM, false,
			     "cancelled by the operator: reverting");
		return;
	default:
		/* a revert in progress is not interrupted */
		return;
	}
}

/* Refuse an operator action: nothing changes, nothing is recorded. */
static void op_refuse(struct gate_out *out, int err, const char *why)
{
	out->op_err = err;
	out->op_why = why;
}

static void op_abort(struct gate *g, int64_t uid, uint64_t now, struct gate_out *out)
{
	switch (g->state) {
	case GATE_IDLE:
	case GATE_BASELINE:
	case GATE_WAIT_WINDOW:
		decide(g, out, now, GATE_ABORTED, GATE_R_OP_ABORT, GATE_EXIT_OPERATOR, false,
		       "aborted by the operator (uid %" PRId64 "); nothing applied", uid);
		break;
	case GATE_APPLYING:
		/* the APPLIED result decides: revert what went in */
		if (g->cancel_pending) {
			op_refuse(out, -EALREADY, "already cancelled: the patch is reverted "
				  "as soon as the apply returns");
			return;
		}
		g->cancel_pending = true;
		g->abort_uid = uid;
		return;
	case GATE_TRANSITION:
	case GATE_BAKE: {
		char d[128];

		snprintf(d, sizeof(d), "aborted by the operator (uid %" PRId64 ") in %s: reverting",
			 uid, gate_state_name(g->state));
		start_revert(g, out, now, GATE_R_OP_ABORT, GATE_EXIT_OPERATOR, false, d);
		break;
	}
	default:
		op_refuse(out, -EBUSY, "a revert is already in progress");
		return;
	}
	g->audit.operator_uid = uid;
}

static void on_operator(struct gate *g, const struct gate_obs *o, uint64_t now,
			struct gate_out *out)
{
	int64_t uid = o->op.uid;
	double left;

	switch (o->op.op) {
	case GATE_OP_ABORT:
		op_abort(g, uid, now, out);
		return;
	case GATE_OP_PROMOTE:
		if (g->state != GATE_BAKE) {
			op_refuse(out, -EBUSY, "promote commits a patch in BAKE only");
			return;
		}
		left = g->held ? (double)g->hold_left / 1e9 :
		       g->bake_end > now ? (double)(g->bake_end - now) / 1e9 : 0.0;
		g->held = false;
		decide(g, out, now, GATE_COMMITTED, GATE_R_OP_PROMOTE, GATE_EXIT_COMMITTED, false,
		       "promoted by the operator (uid %" PRId64 ") with %.1fs of bake left: "
		       "committed unjudged", uid, left);
		break;
	case GATE_OP_HOLD:
		if (g->state != GATE_BAKE) {
			op_refuse(out, -EBUSY, "hold pauses the verdict in BAKE only");
			return;
		}
		if (g->held) {
			op_refuse(out, -EALREADY, "already held");
			return;
		}
		g->held = true;
		g->hold_left = g->bake_end > now ? g->bake_end - now : 0;
		decide(g, out, now, GATE_BAKE, GATE_R_OP_HOLD, -1, false,
		       "held by the operator (uid %" PRId64 "): verdict paused with %.1fs of bake "
		       "left", uid, (double)g->hold_left / 1e9);
		break;
	case GATE_OP_RESUME:
		if (g->state != GATE_BAKE || !g->held) {
			op_refuse(out, -EBUSY, "resume goes on with a held BAKE only");
			return;
		}
		g->held = false;
		g->bake_end = now + g->hold_left;
		decide(g, out, now, GATE_BAKE, GATE_R_OP_RESUME, -1, false,
		       "resumed by the operator (uid %" PRId64 "): %.1fs of bake left", uid,
		       (double)g->hold_left / 1e9);
		break;
	default:
		op_refuse(out, -EINVAL, "unknown action");
		return;
	}
	g->audit.operator_uid = uid;
}

int gate_step(struct gate *g, const struct gate_obs *obs, uint64_t now_ns,
	      struct gate_out *out)
{
	if (!g || !obs || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (g->done || (unsigned int)obs->type >= GATE_NOBS ||
	    !(allowed[g->state] & OBS(obs->type)) || !obs_valid(g, obs) ||
	    (g->started && now_ns < g->last_now))
		return -EINVAL;
	g->last_now = now_ns;
	clear_judged(g);
	g->look_alpha = 0.0;

	switch (obs->type) {
	case GATE_OBS_START:
		g->started = true;
		g->t_start = now_ns;
		g->taint = g->taint_ref = obs->start.taint;
		add_action(out, GATE_ACT_ATTACH_PROBES, GATE_R_STARTED, -1);
		decide(g, out, now_ns, GATE_BASELINE, GATE_R_STARTED, -1, false,
		       "%s gate on %u function(s)%s%s%s%s", gate_backend_name(g->backend), g->nfuncs,
		       g->dry_run ? " (dry run)" : "", g->note[0] ? "; " : "", g->note,
		       g->nfuncs ? "" : "; nothing to observe: the kernel's health (taint, WARNs) "
		       "is all the bake watches");
		break;
	case GATE_OBS_SAMPLES:
		on_samples(g, obs, now_ns, out);
		break;
	case GATE_OBS_WINDOW:
		on_window(g, obs, now_ns, out);
		break;
	case GATE_OBS_APPLIED:
		on_applied(g, obs, now_ns, out);
		break;
	case GATE_OBS_TRANSITION:
		on_transition(g, obs, now_ns, out);
		break;
	case GATE_OBS_REVERTED:
		on_reverted(g, obs, now_ns, out);
		break;
	case GATE_OBS_TARGET_DIED:
		on_died(g, obs, now_ns, out);
		break;
	case GATE_OBS_TAINT:
		on_taint(g, obs, now_ns, out);
		if (!out->audit)
			time_rules(g, out, now_ns);
		break;
	case GATE_OBS_TICK:
		time_rules(g, out, now_ns);
		break;
	case GATE_OBS_CANCEL:
		on_cancel(g, now_ns, out);
		break;
	case GATE_OBS_OPERATOR:
		on_operator(g, obs, now_ns, out);
		break;
	case GATE_NOBS:
		break;
	}
	return 0;
}
