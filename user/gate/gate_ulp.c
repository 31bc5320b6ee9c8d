// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The gate's process backend: uprobes for observation (observe/uwatch_bpf),
 * libdw stack residency for the window, and the ulp backend for apply and
 * revert.  Probes sit on the old entries during the baseline; they are
 * detached before the jumps are written and attached to the new functions
 * in the mapped patch afterwards, in a new generation.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "backend/ulp.h"
#include "backend/ulp_patch.h"
#include "gate/gate_run.h"
#include "observe/symbols.h"
#include "observe/target.h"
#include "observe/ustack.h"
#include "observe/uwatch_bpf.h"
#include "ui/output.h"

struct gr_ulp {
	int pid;
	int pidfd;
	struct ulp_patch *patch;
	char patch_real[PATH_MAX];
	struct sym_func old[PG_MAX_FUNCS];
	struct sym_func new[PG_MAX_FUNCS];
	bool have_new;
	uint64_t map_lo, map_hi;	/* the patch's mapping in the target */
	struct uwatch *w;
	int err_modes[PG_MAX_FUNCS];
	struct pg_hist hist[PG_MAX_FUNCS];
	/* the previous window scan's residents, and for how many scans in a row */
	struct gate_blocker prev[GATE_MAX_BLOCKERS * 4];
	unsigned int prev_seen[GATE_MAX_BLOCKERS * 4];
	unsigned int nprev;
};

static struct gr_ulp *U(struct gr *g)
{
	return g->priv;
}

static int ulp_prepare(struct gr *g)
{
	struct gr_ulp *u;
	char err[1024], *specs[PG_MAX_FUNCS] = {};
	int e, ret = PG_EXIT_USAGE;

	e = target_check_pid(g->cli, "apply", g->o->pid);
	if (e)
		return e;
	u = calloc(1, sizeof(*u));
	if (!u)
		return PG_EXIT_SYSTEM;
	g->priv = u;
	u->pid = g->o->pid;
	u->pidfd = -1;
	if (!realpath(g->o->patch_path, u->patch_real)) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: %s: %s", g->o->patch_path, strerror(errno));
		return PG_EXIT_USAGE;
	}
	e = ulp_patch__open(u->patch_real, &u->patch, err, sizeof(err));
	if (e) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	if (u->patch->nfuncs <= 0 || u->patch->nfuncs > PG_MAX_FUNCS) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: %s replaces %d functions (1 to %d supported)",
		       g->o->patch_path, u->patch->nfuncs, PG_MAX_FUNCS);
		return PG_EXIT_USAGE;
	}
	g->nfuncs = (unsigned int)u->patch->nfuncs;
	for (int i = 0; i < u->patch->nfuncs; i++) {
		const struct ulp_pfunc *f = &u->patch->funcs[i];

		if (asprintf(&specs[i], "%s%s%s", u->patch->object, u->patch->object[0] ? ":" : "",
			     f->old_sym) < 0) {
			ret = PG_EXIT_SYSTEM;
			goto cleanup;
		}
		snprintf(g->fname[i], sizeof(g->fname[i]), "%.*s", GATE_NAME_LEN - 1, f->old_sym);
		u->err_modes[i] = g->o->err_mode;
	}
	e = target_resolve(g->cli, "apply", u->pid, u->patch->nfuncs, specs, u->old);
	if (e) {
		ret = e;
		goto cleanup;
	}
	/*
	 * What ulp_apply would refuse, refused now: a bad patch must not wait
	 * for a baseline first.  (ulp_apply checks all of it again.)
	 */
	if (u->patch->target_build_id[0]) {
		char hex[128] = "";

		sym_elf_build_id(u->old[0].open_path, hex, sizeof(hex));
		if (strcasecmp(hex, u->patch->target_build_id)) {
			pg_err(g->cli, PG_EXIT_USAGE, "apply: build-id mismatch: the patch is for build-id %s, "
			       "pid %d maps %s with build-id %s", u->patch->target_build_id, u->pid,
			       u->old[0].object, hex[0] ? hex : "(none)");
			goto cleanup;
		}
	}
	for (int i = 0; i < u->patch->nfuncs; i++) {
		if (u->old[i].size && u->old[i].size < 5) {
			pg_err(g->cli, PG_EXIT_USAGE, "apply: %s is %llu bytes, too short for a 5-byte jump",
			       u->old[i].name, (unsigned long long)u->old[i].size);
			goto cleanup;
		}
	}
	u->pidfd = (int)syscall(SYS_pidfd_open, u->pid, 0);
	if (u->pidfd < 0) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: pid %d: %s", u->pid, strerror(errno));
		ret = PG_EXIT_USAGE;
		goto cleanup;
	}
	ret = 0;
cleanup:
	for (int i = 0; i < PG_MAX_FUNCS; i++)
		free(specs[i]);
	return ret;
}

static int ulp_attach(struct gr *g)
{
	struct gr_ulp *u = U(g);
	char err[1024];

	u->w = uwatch__open(&(struct uwatch_opts){
		.pid = u->pid, .nfuncs = (int)g->nfuncs, .funcs = u->old, .err_modes = u->err_modes,
	}, err, sizeof(err));
	if (!u->w) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	return 0;
}

static int ulp_samples(struct gr *g, struct gate_fn_sample *fs)
{
	struct gr_ulp *u = U(g);
	int slot = (int)(uwatch__generation(u->w) & (PG_GEN_SLOTS - 1));

	for (unsigned int i = 0; i < g->nfuncs; i++) {
		struct pg_func_stats st;
		struct pg_inflight inf = {};
		int e;

		e = uwatch__read(u->w, (int)i, slot, &st, &u->hist[i]);
		if (!e)
			e = uwatch__inflight(u->w, (int)i, &inf);
		if (e) {
			pg_err(g->cli, PG_EXIT_SYSTEM, "cannot read the probes' maps: %s", strerror(-e));
			return e;
		}
		fs[i] = (struct gate_fn_sample){
			.hist = &u->hist[i], .calls = st.calls, .exits = st.exits,
			.errors = st.errors > st.exits ? st.exits : st.errors, .inflight = inf.now,
		};
	}
	return 0;
}

/* Threads with any of @f on their stack, as gate blockers. */
static int scan(struct gr *g, const struct sym_func *f, struct gate_blocker *b, unsigned int *total)
{
	struct gr_ulp *u = U(g);
	struct ustack_range r[PG_MAX_FUNCS];
	struct ustack_hit hits[256];
	char err[512];
	int n;

	for (unsigned int i = 0; i < g->nfuncs; i++) {
		r[i].start = f[i].addr;
		r[i].end = f[i].addr + (f[i].size ? f[i].size : 1);
	}
	/*
	 * New functions made with PG_PATCH_NEW are a nop5 stub that jumps to a
	 * body of their own (NAME__pg_body): threads stuck in the patch sit in
	 * the bodies, so scan the whole patch mapping for them.
	 */
	if (f == u->new && u->map_hi > u->map_lo) {
		for (unsigned int i = 0; i < g->nfuncs; i++) {
			r[i].start = u->map_lo;
			r[i].end = u->map_hi;
		}
	}
	n = ustack_scan(u->pid, r, (int)g->nfuncs, hits, 256, err, sizeof(err));
	if (n < 0) {
		/* a target that exits mid-scan is handled by died() on the next tick */
		if (n == -ESRCH)
			return 0;
		pg_warn(g->cli, "residency scan: %s", err);
		return n;
	}
	*total = (unsigned int)n;
	for (int i = 0; i < n && i < GATE_MAX_BLOCKERS * 4; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].pid = u->pid;
		b[i].tid = hits[i].tid;
		snprintf(b[i].comm, sizeof(b[i].comm), "%s", hits[i].comm);
		/* 'S': blocked in a system call inside the function; 'R': running its code */
		b[i].state[0] = hits[i].in_syscall ? 'S' : 'R';
		snprintf(b[i].func, sizeof(b[i].func), "%.*s", GATE_NAME_LEN - 1, f[hits[i].func].name);
	}
	return 0;
}

/*
 * The window: a libdw stack scan every tick, which also sees threads that
 * entered before the probes were attached.  A thread blocks the window when
 * it is a resident: found inside a target function in two consecutive scans
 * (a tick apart) while sleeping, or in five (a second) whatever its state.
 * A thread merely passing through a busy function, even one preempted on a
 * loaded machine, does not hold the window shut: ulp_apply stops the world
 * and retries until no thread's PC or stack refers to a replaced function,
 * which is the check that matters.
 */
static int ulp_window(struct gr *g, bool *clear, struct gate_blocker *b, unsigned int *total)
{
	struct gr_ulp *u = U(g);
	struct gate_blocker now[GATE_MAX_BLOCKERS * 4];
	unsigned int n = 0, kept = 0;
	int e;

	*total = 0;
	*clear = false;
	e = scan(g, u->old, now, &n);
	if (e == -ESRCH)
		return 0;	/* died() sees it next tick */
	if (e)
		return e;
	if (n > GATE_MAX_BLOCKERS * 4)
		n = GATE_MAX_BLOCKERS * 4;
	unsigned int seen[GATE_MAX_BLOCKERS * 4];

	for (unsigned int i = 0; i < n; i++) {
		seen[i] = 1;
		for (unsigned int j = 0; j < u->nprev; j++) {
			if (now[i].tid == u->prev[j].tid && !strcmp(now[i].func, u->prev[j].func)) {
				seen[i] = u->prev_seen[j] + 1;
				break;
			}
		}
		if (seen[i] >= 5 || (seen[i] >= 2 && now[i].state[0] != 'R')) {
			if (kept < GATE_MAX_BLOCKERS)
				b[kept] = now[i];
			kept++;
		}
	}
	memcpy(u->prev, now, n * sizeof(now[0]));
	memcpy(u->prev_seen, seen, n * sizeof(seen[0]));
	u->nprev = n;
	*total = kept;
	*clear = kept == 0;
	return 0;
}

static int ulp_apply_be(struct gr *g, bool *partial)
{
	struct gr_ulp *u = U(g);
	/*
	 * The window was clear of residents; threads passing through a busy
	 * function can still be inside at any instant, and ulp_apply retries
	 * its stop-the-world check until none is.  Give it up to max_wait
	 * (at most 30 s) before giving up with nothing applied.
	 */
	double wait_s = (double)g->pol.max_wait_ns / 1e9;
	struct ulp_opts uo = { .state_dir = g->cli->state_dir, .max_wait_s = wait_s < 30 ? wait_s : 30 };
	struct ulp_result res;
	struct sym_proc *sp;
	char err[1024];
	int e;

	*partial = false;
	/* a probe and a jump never share bytes: detach from the old entries first */
	for (unsigned int i = 0; i < g->nfuncs; i++)
		uwatch__detach_func(u->w, (int)i);
	e = ulp_apply(u->pid, u->patch_real, &uo, &res);
	if (e) {
		pg_warn(g->cli, "apply failed: %s", res.msg);
		if (res.fail == ULP_FAIL_WINDOW)
			g->no_window = true;
		/* back on the old entries, so that nothing is left unobserved */
		for (unsigned int i = 0; i < g->nfuncs; i++)
			uwatch__attach_func(u->w, (int)i, &u->old[i], err, sizeof(err));
		return e;
	}
	if (!g->cli->json)
		printf("  applied in %.2f ms, all %d threads stopped for %.0f us (%d round%s)\n",
		       (double)res.total_ns / 1e6, res.nthreads, (double)res.pause_ns / 1e3,
		       res.rounds, res.rounds == 1 ? "" : "s");
	u->map_lo = res.map_lo;
	u->map_hi = res.map_hi;
	/* post-patch data in a fresh generation, then probes on the new code */
	uwatch__bump_generation(u->w);
	sp = sym_proc__new(u->pid);
	if (!sp) {
		pg_warn(g->cli, "cannot re-read pid %d mappings: %s", u->pid, strerror(errno));
		return 0;
	}
	u->have_new = true;
	for (unsigned int i = 0; i < g->nfuncs; i++) {
		char spec[PATH_MAX + PG_PATCH_NAME_MAX + 2];

		snprintf(spec, sizeof(spec), "%s:%s", u->patch_real, u->patch->funcs[i].new_sym);
		e = sym_proc__resolve(sp, spec, &u->new[i], err, sizeof(err));
		if (!e)
			e = uwatch__attach_func(u->w, (int)i, &u->new[i], err, sizeof(err));
		if (e) {
			pg_warn(g->cli, "cannot probe the new %s: %s", u->patch->funcs[i].new_sym, err);
			u->have_new = false;
		}
	}
	sym_proc__free(sp);
	return 0;
}

static int ulp_revert_be(struct gr *g)
{
	struct gr_ulp *u = U(g);
	struct ulp_opts uo = { .state_dir = g->cli->state_dir, .max_wait_s = 30.0 };
	struct ulp_result res;
	int e;

	for (unsigned int i = 0; i < g->nfuncs; i++)
		uwatch__detach_func(u->w, (int)i);
	e = ulp_revert(u->pid, u->patch_real, &uo, &res);
	if (e)
		pg_warn(g->cli, "revert failed: %s", res.msg);
	else if (!g->cli->json)
		printf("  reverted in %.2f ms (%d round%s)%s\n", (double)res.total_ns / 1e6, res.rounds,
		       res.rounds == 1 ? "" : "s",
		       res.kept_mapped ? "; the patch stays mapped while a thread still refers to it" : "");
	return e;
}

static int ulp_died(struct gr *g, int *status)
{
	struct gr_ulp *u = U(g);
	struct pollfd p = { .fd = u->pidfd, .events = POLLIN };

	*status = 0;
	return poll(&p, 1, 0) > 0 ? 1 : 0;
}

static int ulp_stuck(struct gr *g, struct gate_blocker *b, unsigned int *total)
{
	struct gr_ulp *u = U(g);
	struct gate_blocker all[GATE_MAX_BLOCKERS * 4];
	int e;

	*total = 0;
	e = scan(g, u->have_new ? u->new : u->old, all, total);
	memcpy(b, all, (*total < GATE_MAX_BLOCKERS ? *total : GATE_MAX_BLOCKERS) * sizeof(*b));
	return e;
}

static void ulp_cleanup(struct gr *g)
{
	struct gr_ulp *u = U(g);

	if (!u)
		return;
	uwatch__free(u->w);
	ulp_patch__free(u->patch);
	if (u->pidfd >= 0)
		close(u->pidfd);
	free(u);
	g->priv = NULL;
}

const struct gr_backend gr_ulp_backend = {
	.name = "ulp",
	.kind = GATE_BACKEND_ULP,
	.prepare = ulp_prepare,
	.attach = ulp_attach,
	.samples = ulp_samples,
	.window = ulp_window,
	.apply = ulp_apply_be,
	.revert = ulp_revert_be,
	.died = ulp_died,
	.stuck = ulp_stuck,
	.cleanup = ulp_cleanup,
};
