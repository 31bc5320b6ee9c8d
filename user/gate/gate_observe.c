// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The gate's observation (gate_observe.h) over the probe engine and the
 * residency interface (probe/probe.h), the same for a process and for the
 * kernel: what differs between them lives behind the engine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gate/gate_observe.h"
#include "gate/gate_run.h"
#include "probe/probe.h"
#include "view/output.h"

#define OBS_MAX_RES 4096	/* residents kept per scan; more are counted */

struct gate_observe {
	struct probe_target *t;
	struct probe *p;
	struct probe_resid *old_r;	/* the replaced functions */
	struct probe_resid *new_r;	/* the patch's code, opened at the first hang */
	bool new_tried;
	struct probe_func *old;		/* [nfuncs + ncontrols + nscan_only]: timed, controls,
					 * then the replaced functions only scanned */
	struct probe_func *new;		/* [nfuncs], resolved after apply */
	bool bumped_at_apply;		/* the generation after apply has begun */
	struct pg_hist hist[PG_MAX_FUNCS];
	struct probe_target *sib_t;	/* --control-pid: the sibling, or NULL */
	struct probe *sib_p;		/* its copies of the replaced functions */
	struct probe_func sib_f[PG_MAX_FUNCS];
	struct pg_inside *now;		/* [OBS_MAX_RES]: this scan */
	struct pg_inside *prev;		/* [OBS_MAX_RES]: the previous window scan */
	unsigned int *now_seen, *prev_seen;	/* consecutive scans each was seen in */
	unsigned int nprev;
};

static bool probes_move(const struct gr *g)
{
	return g->new_fspec[0] != NULL;
}

int gate_observe_open(struct gr *g)
{
	struct gate_observe *o;
	struct probe_func *scan = NULL;
	int err_modes[PG_MAX_FUNCS];
	char err[2048];
	int e;

	o = g->obs = calloc(1, sizeof(*o));
	if (o) {
		o->old = calloc(g->nfuncs + g->pol.control.n + g->nscan_only, sizeof(*o->old));
		o->new = calloc(g->nfuncs, sizeof(*o->new));
		o->now = calloc(OBS_MAX_RES, sizeof(*o->now));
		o->prev = calloc(OBS_MAX_RES, sizeof(*o->prev));
		o->now_seen = calloc(OBS_MAX_RES, sizeof(*o->now_seen));
		o->prev_seen = calloc(OBS_MAX_RES, sizeof(*o->prev_seen));
	}
	if (!o || !o->old || !o->new || !o->now || !o->prev || !o->now_seen || !o->prev_seen) {
		pg_err(g->ctx, PG_EXIT_SYSTEM, "apply: out of memory");
		return PG_EXIT_SYSTEM;
	}
	if (!g->nfuncs && !g->nscan_only)
		return 0;	/* nothing to observe (a kernel patch): no probe, no residency */
	o->t = probe_target__open(g->o->pid, err, sizeof(err));
	if (!o->t) {
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	for (unsigned int i = 0; i < g->nfuncs; i++) {
		e = g->fspec[i] ? probe_target__resolve(o->t, g->fspec[i], &o->old[i], err, sizeof(err))
				: -EINVAL;
		if (e) {
			pg_err(g->ctx, PG_EXIT_USAGE, "apply: %s", g->fspec[i] ? err : "no function to probe");
			return PG_EXIT_USAGE;
		}
		err_modes[i] = g->o->err_mode;
	}
	/* the controls: probed like the rest, never moved, never scanned for residency */
	for (unsigned int i = 0; i < g->pol.control.n; i++) {
		unsigned int k = g->nfuncs + i;

		e = probe_target__resolve(o->t, g->pol.control.name[i], &o->old[k], err, sizeof(err));
		if (e) {
			pg_err(g->ctx, PG_EXIT_USAGE, "apply: control function: %s", err);
			return PG_EXIT_USAGE;
		}
		err_modes[k] = g->o->err_mode;
	}
	/* the replaced functions that are only scanned, after the controls */
	for (unsigned int i = 0; i < g->nscan_only; i++) {
		unsigned int k = g->nfuncs + g->pol.control.n + i;

		e = probe_target__resolve(o->t, g->scan_only[i], &o->old[k], err, sizeof(err));
		if (e) {
			pg_err(g->ctx, PG_EXIT_USAGE, "apply: %s", err);
			return PG_EXIT_USAGE;
		}
	}
	if (g->nfuncs + g->pol.control.n) {
		/* a kernel gate times with fentry only: see gate_klp.c */
		o->p = probe__open(&(struct probe_opts){
			.target = o->t, .nfuncs = (int)(g->nfuncs + g->pol.control.n),
			.funcs = o->old, .err_modes = err_modes,
			.mode = g->o->klp ? PROBE_FENTRY_ONLY : PROBE_AUTO,
		}, err, sizeof(err));
		if (!o->p) {
			pg_err(g->ctx, PG_EXIT_USAGE, "apply: %s", err);
			return PG_EXIT_USAGE;
		}
		if (probe__note(o->p)[0])
			pg_warn(g->ctx, "%s", probe__note(o->p));
	}
	if (g->nsib) {
		/* the sibling: the same binary, so the same specs resolve there */
		o->sib_t = probe_target__open(g->sib_pid, err, sizeof(err));
		if (!o->sib_t) {
			pg_err(g->ctx, PG_EXIT_USAGE, "apply: --control-pid: %s", err);
			return PG_EXIT_USAGE;
		}
		for (unsigned int i = 0; i < g->nsib; i++) {
			e = probe_target__resolve(o->sib_t, g->fspec[i], &o->sib_f[i], err,
						  sizeof(err));
			if (e) {
				pg_err(g->ctx, PG_EXIT_USAGE, "apply: --control-pid: %s", err);
				return PG_EXIT_USAGE;
			}
		}
		o->sib_p = probe__open(&(struct probe_opts){
			.target = o->sib_t, .nfuncs = (int)g->nsib, .funcs = o->sib_f,
			.err_modes = err_modes,
		}, err, sizeof(err));
		if (!o->sib_p) {
			pg_err(g->ctx, PG_EXIT_USAGE, "apply: --control-pid: %s", err);
			return PG_EXIT_USAGE;
		}
	}
	/* every replaced function is scanned: the timed ones, then those only scanned */
	if (g->nscan_only) {
		scan = calloc(g->nfuncs + g->nscan_only, sizeof(*scan));
		if (!scan) {
			pg_err(g->ctx, PG_EXIT_SYSTEM, "apply: out of memory");
			return PG_EXIT_SYSTEM;
		}
		memcpy(scan, o->old, g->nfuncs * sizeof(*scan));
		memcpy(scan + g->nfuncs, o->old + g->nfuncs + g->pol.control.n,
		       g->nscan_only * sizeof(*scan));
	}
	o->old_r = probe_resid__open(o->t, scan ? scan : o->old, (int)(g->nfuncs + g->nscan_only),
				     err, sizeof(err));
	free(scan);
	if (!o->old_r) {
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	return 0;
}

int gate_observe_samples(struct gr *g, struct gate_fn_sample *fs)
{
	struct gate_observe *o = g->obs;

	for (unsigned int i = 0; i < g->nfuncs + g->pol.control.n + g->nsib; i++) {
		unsigned int own = g->nfuncs + g->pol.control.n;
		struct probe_snap s;
		int e;

		e = i < own ? probe__snapshot(o->p, (int)i, &s) :
			      probe__snapshot(o->sib_p, (int)(i - own), &s);
		if (e) {
			pg_err(g->ctx, PG_EXIT_SYSTEM, "cannot read the probes' maps: %s", strerror(-e));
			return e;
		}
		o->hist[i] = s.hist;
		fs[i] = (struct gate_fn_sample){
			.hist = &o->hist[i], .calls = s.st.calls, .exits = s.st.exits,
			.errors = s.st.errors > s.st.exits ? s.st.exits : s.st.errors,
			.inflight = s.inf.now,
		};
	}
	return 0;
}

/*
 * One scan of @r into o->now; the count found (capped at OBS_MAX_RES), or
 * a negative errno.  A process that exits mid-scan reads as -ESRCH, which
 * the driver's died() sees on the next tick.
 */
static int scan(struct gr *g, struct probe_resid *r)
{
	char err[1024];
	int n;

	n = probe_resid__scan(r, g->obs->now, OBS_MAX_RES, NULL, err, sizeof(err));
	if (n == -ESRCH)
		return n;
	if (n < 0) {
		pg_err(g->ctx, PG_EXIT_SYSTEM, "residency scan: %s", err);
		return n;
	}
	return n;
}

/*
 * The window: a residency scan every tick, which also sees threads or
 * tasks that entered before the probes were attached.  Each resident
 * blocks once it has been seen in as many consecutive scans (a tick apart)
 * as the residency source asks for its state: for a process, two while
 * sleeping or five whatever its state (a thread merely passing through a
 * busy function, even one preempted on a loaded machine, does not hold the
 * window shut: the apply stops the world and retries until no thread's PC
 * or stack refers to a replaced function, which is the check that
 * matters); for the kernel, one.
 */
int gate_observe_window(struct gr *g, bool *clear, struct pg_inside *b, unsigned int *total)
{
	struct gate_observe *o = g->obs;
	unsigned int need_sleeping, need_running, kept = 0, n, *swap;
	struct pg_inside *sw;
	int e;

	*total = 0;
	*clear = !o->old_r;	/* nothing to observe: nobody can be inside */
	if (*clear)
		return 0;
	e = scan(g, o->old_r);
	if (e == -ESRCH)
		return 0;
	if (e < 0)
		return e;
	probe_resid__confirm_scans(o->old_r, &need_sleeping, &need_running);
	n = (unsigned int)e < OBS_MAX_RES ? (unsigned int)e : OBS_MAX_RES;
	for (unsigned int i = 0; i < n; i++) {
		const struct pg_inside *r = &o->now[i];
		bool sleeping = r->state[0] && strcmp(r->state, "R");

		o->now_seen[i] = 1;
		for (unsigned int j = 0; j < o->nprev; j++) {
			if (r->tid == o->prev[j].tid && !strcmp(r->func, o->prev[j].func)) {
				o->now_seen[i] = o->prev_seen[j] + 1;
				break;
			}
		}
		if (o->now_seen[i] >= (sleeping ? need_sleeping : need_running)) {
			if (kept < GATE_MAX_BLOCKERS)
				b[kept] = *r;
			kept++;
		}
	}
	/* residents past what a scan keeps: seen once, whatever their state */
	if (need_sleeping <= 1 && need_running <= 1)
		kept += (unsigned int)e - n;
	/* this scan is the next one's previous */
	sw = o->prev, o->prev = o->now, o->now = sw;
	swap = o->prev_seen, o->prev_seen = o->now_seen, o->now_seen = swap;
	o->nprev = n;
	*total = kept;
	*clear = kept == 0;
	return 0;
}

/*
 * A patched call runs the patch's code, whose frame (not the replaced
 * function's) is on the stack: look there, opened at the first hang; the
 * replaced functions when the patch's code cannot be found.
 */
int gate_observe_stuck(struct gr *g, struct pg_inside *b, unsigned int *total)
{
	struct gate_observe *o = g->obs;
	struct probe_func *f = NULL;
	char err[1024] = "no patch code named";
	int n;

	*total = 0;
	if (!o->old_r)
		return 0;
	if (!o->new_tried && g->new_code) {
		o->new_tried = true;
		probe_target__rescan(o->t);
		f = calloc(PG_MAX_FUNCS, sizeof(*f));
		n = f ? probe_target__object_code(o->t, g->new_code, f, PG_MAX_FUNCS, err, sizeof(err))
		      : -ENOMEM;
		if (n > 0)
			o->new_r = probe_resid__open(o->t, f, n, err, sizeof(err));
		if (!o->new_r)
			pg_warn(g->ctx, "cannot watch the patch's own functions (%s); "
				"looking for the replaced ones instead", err);
		free(f);
	}
	n = scan(g, o->new_r ? o->new_r : o->old_r);
	if (n == -ESRCH)
		return 0;
	if (n < 0)
		return n;
	*total = (unsigned int)n;
	memcpy(b, o->now, (n < GATE_MAX_BLOCKERS ? n : GATE_MAX_BLOCKERS) * sizeof(*b));
	return 0;
}

int gate_observe_bump(struct gr *g)
{
	struct gate_observe *o = g->obs;
	int e;

	if (o->bumped_at_apply || !o->p)
		return 0;
	e = probe__bump_generation(o->p);
	if (!e && o->sib_p)
		e = probe__bump_generation(o->sib_p);
	if (e)
		pg_err(g->ctx, PG_EXIT_SYSTEM, "cannot start a new probe generation: %s", strerror(-e));
	return e;
}

/* A probe and a jump never share bytes: off the old entries before they are rewritten. */
void gate_observe_before_apply(struct gr *g)
{
	if (!probes_move(g) || !g->obs)
		return;
	for (unsigned int i = 0; i < g->nfuncs; i++)
		probe__detach(g->obs->p, (int)i);
}

int gate_observe_after_apply(struct gr *g, int apply_err)
{
	struct gate_observe *o = g->obs;
	char err[1024];
	int e;

	if (!probes_move(g) || !o)
		return 0;
	if (apply_err) {
		/* back on the old entries, so that nothing is left unobserved */
		for (unsigned int i = 0; i < g->nfuncs; i++)
			if (probe__attach(o->p, (int)i, &o->old[i], err, sizeof(err)))
				pg_warn(g->ctx, "cannot probe %s again: %s", o->old[i].sym.name, err);
		return 0;
	}
	/* post-patch data in a fresh generation, then probes on the new code */
	e = probe__bump_generation(o->p);
	if (!e && o->sib_p)
		e = probe__bump_generation(o->sib_p);
	if (e) {
		pg_err(g->ctx, PG_EXIT_SYSTEM, "cannot start a new probe generation: %s", strerror(-e));
		return e;
	}
	o->bumped_at_apply = true;
	probe_target__rescan(o->t);
	for (unsigned int i = 0; i < g->nfuncs; i++) {
		e = g->new_fspec[i] ? probe_target__resolve(o->t, g->new_fspec[i], &o->new[i], err,
							  sizeof(err)) : -EINVAL;
		if (!e)
			e = probe__attach(o->p, (int)i, &o->new[i], err, sizeof(err));
		if (e)
			pg_warn(g->ctx, "cannot probe the new %s: %s",
				g->new_fspec[i] ? g->new_fspec[i] : g->fname[i], err);
	}
	return 0;
}

/* The revert rewrites the entries and may unmap the patch: the probes come off first. */
void gate_observe_before_revert(struct gr *g)
{
	if (!probes_move(g) || !g->obs)
		return;
	for (unsigned int i = 0; i < g->nfuncs; i++)
		probe__detach(g->obs->p, (int)i);
}

void gate_observe_close(struct gr *g)
{
	struct gate_observe *o = g->obs;

	for (unsigned int i = 0; i < PG_MAX_FUNCS; i++) {
		free(g->fspec[i]);
		free(g->new_fspec[i]);
		free(g->scan_only[i]);
		g->fspec[i] = g->new_fspec[i] = g->scan_only[i] = NULL;
	}
	free(g->new_code);
	g->new_code = NULL;
	if (!o)
		return;
	probe_resid__free(o->new_r);
	probe_resid__free(o->old_r);
	probe__free(o->p);
	probe_target__free(o->t);
	probe__free(o->sib_p);
	probe_target__free(o->sib_t);
	free(o->old);
	free(o->new);
	free(o->now);
	free(o->prev);
	free(o->now_seen);
	free(o->prev_seen);
	free(o);
	g->obs = NULL;
}
