// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ulp apply / revert / status.
 *
 * Order of an apply, and what a SIGKILL of patchgate leaves at each step:
 *   1. validate (patch, object, build-id, symbols, lengths, relocations,
 *      journal): nothing touched yet.                     ulp_validate.c
 *   2. seize all threads; stop one; inject openat/mmap/close to map the
 *      patch near the target; resume it.  Killed here: the thread returns
 *      through the trampoline (ulp_ptrace.c); at worst an unused mapping
 *      or fd stays behind.  Nothing jumps into it.        ulp_map.c
 *   3. write the patch's relocations into its private mapping (still
 *      unreachable), and encode the jumps.                ulp_map.c, ulp_x86.c
 *   4. journal "applying" with the saved and the new bytes (fsync+rename).
 *                                                         ulp_journal.c
 *   5. rounds: stop every thread, scan PCs and stacks; when clear, write
 *      every jump (one pwrite each) and detach.  Killed here: the tracees
 *      are released where they stand, never with registers of ours; each
 *      jump is one write, so a one-function patch is either in or out.
 *                                                         ulp_stop.c
 *   6. journal "applied".  Killed before: status sees "applying" and
 *      reports what the bytes say; apply and revert finish the job.
 * Revert mirrors it with "reverting" written before its rounds.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend/ulp/ulp.h"
#include "backend/ulp/ulp_internal.h"
#include "backend/ulp/ulp_journal.h"
#include "backend/ulp/ulp_map.h"
#include "backend/ulp/ulp_patch.h"
#include "backend/ulp/ulp_ptrace.h"
#include "backend/ulp/ulp_stop.h"
#include "backend/ulp/ulp_sym.h"
#include "backend/ulp/ulp_validate.h"
#include "backend/ulp/ulp_x86.h"
#include "lib/clock.h"
#include "lib/procmaps.h"
#include "lib/symbols.h"

#define ULP_NDESC ((int)(sizeof(((struct ulp_result *)0)->funcs) / sizeof(((struct ulp_result *)0)->funcs[0])))

int ulp_res_fail(struct ulp_result *res, enum ulp_fail kind, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
	res->fail = kind;
	return err < 0 ? err : -EINVAL;
}

void ulp_read_comm(int pid, int tid, char *buf, size_t len)
{
	char fn[64];
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/task/%d/comm", pid, tid);
	snprintf(buf, len, "?");
	f = fopen(fn, "re");
	if (!f) {
		/* a thread of a process sharing pid's memory */
		snprintf(fn, sizeof(fn), "/proc/%d/comm", tid);
		f = fopen(fn, "re");
	}
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

int ulp_open_mem(int pid, int flags)
{
	char fn[64];

	snprintf(fn, sizeof(fn), "/proc/%d/mem", procmaps__view_pid(pid));
	return open(fn, flags | O_CLOEXEC);
}

void ulp_describe(struct ulp_result *res, const struct ulp_jpatch *jp)
{
	res->nfuncs = jp->nf < ULP_NDESC ? jp->nf : ULP_NDESC;
	for (int k = 0; k < res->nfuncs; k++)
		snprintf(res->funcs[k], sizeof(res->funcs[k]), "%s@0x%llx -> %s@0x%llx (%s)",
			 jp->f[k].old_sym, (unsigned long long)jp->f[k].old_addr, jp->f[k].new_sym,
			 (unsigned long long)jp->f[k].new_addr, ulp_jump_kind(jp->f[k].len));
}

static double max_wait_of(const struct ulp_opts *o)
{
	return o->max_wait_s > 0 ? o->max_wait_s : 10.0;
}

static uint64_t deadline_of(const struct ulp_opts *o)
{
	return pg_mono_ns() + (uint64_t)(max_wait_of(o) * 1e9);
}

/* An injected syscall may take --max-wait, and never less than this (a loaded machine). */
#define ULP_INJ_WAIT_MIN_S 10.0

/* The deadlines of every wait on @ts: --max-wait from now. */
static void set_deadlines(struct ulp_tset *ts, const struct ulp_opts *o)
{
	double w = max_wait_of(o);

	ts->max_wait_s = w;
	ts->deadline = deadline_of(o);
	ts->inj_wait_ns = (uint64_t)((w > ULP_INJ_WAIT_MIN_S ? w : ULP_INJ_WAIT_MIN_S) * 1e9);
}

/* The message of a stop that ran out of time: which threads, waiting for what. */
static int fail_late(struct ulp_result *res, struct ulp_tset *ts, const char *what)
{
	char late[256];

	ulp_tset__describe_late(ts, late, sizeof(late));
	return ulp_res_fail(res, ULP_FAIL_WINDOW, -ETIMEDOUT, "no safe window within %.1f s to %s: %s could not "
			    "be stopped (waited for %s); nothing changed", ts->max_wait_s, what, late, ts->waited);
}

/* Why PTRACE_SEIZE failed: gone, a thread traced by another tracer (named), or not traceable (exit 1). */
static void seize_failed(struct ulp_result *res, int pid, int err)
{
	int tid, tracer;

	if (err == -ESRCH) {
		ulp_res_fail(res, ULP_FAIL_GONE, err, "pid %d exited", pid);
	} else if (err == -EPERM && ulp_traced_thread(pid, &tid, &tracer)) {
		char comm[32];

		ulp_read_comm(tracer, tracer, comm, sizeof(comm));
		ulp_res_fail(res, ULP_FAIL_INPUT, err, "thread %d of pid %d is traced by pid %d (%s) -- detach that "
			     "tracer first; nothing changed", tid, pid, tracer, comm);
	} else {
		ulp_res_fail(res, ULP_FAIL_INPUT, err, "cannot trace pid %d: %s%s; nothing changed", pid,
			     strerror(-err), err == -EPERM ? " -- another tracer, or Yama ptrace_scope?" : "");
	}
}

/* The jump at each old entry to its new function, now that the patch sits at @base. */
static int apply_encode(struct ulp_plan *pl, uint64_t base, struct ulp_result *res)
{
	for (int k = 0; k < pl->jp.nf; k++) {
		struct ulp_jfunc *f = &pl->jp.f[k];

		f->new_addr = base + pl->p->funcs[k].new_value;
		if (ulp_jump_encode(f->old_addr, f->new_addr, f->old_size, f->new_bytes, &f->len))
			return ulp_res_fail(res, ULP_FAIL_INPUT, -ERANGE, "'%s' is too short for an absolute jump",
					    f->old_sym);
	}
	return 0;
}

/* Journal "applying" with the saved and the new bytes; *ji: its index. */
static int apply_journal_intent(struct ulp_plan *pl, struct ulp_result *res, int *ji)
{
	struct ulp_journal *j = pl->j;
	struct ulp_jpatch *jp = &pl->jp;
	int err;

	snprintf(jp->patch, sizeof(jp->patch), "%s", pl->p->path);
	snprintf(jp->build_id, sizeof(jp->build_id), "%s", pl->p->build_id);
	snprintf(jp->object, sizeof(jp->object), "%s", pl->objpath);
	jp->state = ULP_J_APPLYING;
	jp->map_lo = res->map_lo;
	jp->map_hi = res->map_hi;
	jp->applied_at = pg_wall_s();
	if (!ulp_journal__add(j, jp))
		return -ENOMEM;
	jp->f = NULL;	/* owned by the journal now */
	*ji = j->np - 1;
	err = ulp_journal__save(j);
	if (err) {
		ulp_res_fail(res, ULP_FAIL_SYSTEM, err, "cannot write the journal %s: %s", j->path, strerror(-err));
		ulp_journal__del(j, *ji);
	}
	return err;
}


/*
 * Take the patch that never went in out of the target again.  The window's
 * deadline has passed by now, so the injection thread gets a second of its
 * own to stop; one more try on a failure, and what still fails is a note
 * (the mapping is unused: nothing jumps into it).
 */
static void unmap_unused(struct ulp_plan *pl, struct ulp_tset *ts, struct ulp_result *res)
{
	int err = -EAGAIN;

	for (int i = 0; i < 2 && err; i++) {
		ts->deadline = pg_mono_ns() + 1000000000ULL;
		err = ulp_tset__stop_one(ts, ulp_inj_tid(ts));
		if (!err)
			err = ulp_unmap_patch(ts, NULL, pl->tramp, res->map_lo, res->map_hi,
					      pl->p->path);
	}
	if (err)
		snprintf(res->note, sizeof(res->note), "the unused patch stays mapped at "
			 "0x%llx-0x%llx: %s", (unsigned long long)res->map_lo,
			 (unsigned long long)res->map_hi, strerror(-err));
}

/*
 * Stop the world until the jumps of entry @ji are in.  On no window, takes
 * the unused patch out and forgets the entry.  Leaves every thread
 * detached.  -errno with @res set.
 */
static int apply_stop_world(struct ulp_plan *pl, struct ulp_tset *ts, int ji, const struct ulp_range *rg,
			    const struct ulp_opts *o, struct ulp_result *res)
{
	struct ulp_journal *j = pl->j;
	struct ulp_write_ctx wc = { .jp = &j->p[ji], .to_new = true, .res = res };
	int err;

	err = ulp_stop_world(ts, rg, j->p[ji].nf, deadline_of(o), &wc, res);
	procmaps__free(wc.pm);
	if (err == -ETIMEDOUT) {
		/* the threads that did stop: take the unused patch out, then let them go */
		unmap_unused(pl, ts, res);
		fail_late(res, ts, "apply");
		ulp_tset__detach_all(ts);
		ulp_journal__del(j, ji);
		ulp_journal__save(j);
		return -ETIMEDOUT;
	}
	if (err == -EAGAIN) {
		/* threads are stopped: take the unused patch out, then let them go */
		unmap_unused(pl, ts, res);
		ulp_tset__detach_all(ts);
		ulp_name_blockers(ts->pid, res);
		ulp_journal__del(j, ji);
		ulp_journal__save(j);
		return ulp_res_fail(res, ULP_FAIL_WINDOW, err, "no safe window within %.1f s: threads kept running "
				    "in the functions being replaced", max_wait_of(o));
	}
	if (err == -ESRCH) {
		ulp_res_fail(res, ULP_FAIL_GONE, err, "pid %d exited during apply", ts->pid);
		ulp_journal__del(j, ji);
		ulp_journal__save(j);
	} else if (err) {
		ulp_res_fail(res, ULP_FAIL_SYSTEM, err, "writing the jumps failed: %s", strerror(-err));
	}
	return err;
}

int ulp_apply(int pid, const char *patch_path, const struct ulp_opts *o, struct ulp_result *res)
{
	struct ulp_plan pl = { .memfd = -1 };
	uint64_t t0 = pg_mono_ns(), base = 0;
	struct ulp_range *rg = NULL;
	struct ulp_tset *ts = NULL;
	int err, ji = -1;

	memset(res, 0, sizeof(*res));
	err = ulp_validate(&pl, pid, patch_path, o, res);
	if (err) {
		err = err > 0 ? 0 : err;	/* 1: already applied */
		goto cleanup;
	}
	/* ---- from here on the target is touched ---- */
	err = ulp_tset__seize(&ts, pid);
	if (err) {
		seize_failed(res, pid, err);
		goto cleanup;
	}
	set_deadlines(ts, o);
	err = ulp_map_patch(ts, pl.tramp, pl.p, pl.hint, &base, res);
	if (err)
		goto cleanup;
	err = ulp_relocate(ts, pl.p, pl.rel_vals, base);
	if (err) {
		ulp_res_fail(res, ULP_FAIL_SYSTEM, err, "writing relocations failed: %s", strerror(-err));
		goto unmap;
	}
	err = apply_encode(&pl, base, res);
	if (!err)
		err = apply_journal_intent(&pl, res, &ji);
	if (!err)
		err = ulp_build_ranges(&pl.j->p[ji], &rg);
	if (err)
		goto unmap;
	err = apply_stop_world(&pl, ts, ji, rg, o, res);
	if (err)
		goto cleanup;
	pl.j->p[ji].state = ULP_J_APPLIED;
	pl.j->p[ji].applied_at = pg_wall_s();
	err = ulp_journal__save(pl.j);
	if (err)
		ulp_res_fail(res, ULP_FAIL_SYSTEM, err, "the patch is in, but the journal %s could not be written: %s",
			     pl.j->path, strerror(-err));
	ulp_describe(res, &pl.j->p[ji]);
	goto cleanup;
unmap:
	if (ts && ts->n && res->map_hi && !ulp_tset__stop_one(ts, ulp_inj_tid(ts)))
		ulp_unmap_patch(ts, NULL, pl.tramp, res->map_lo, res->map_hi, pl.p->path);
	if (err == -ESRCH) {
		res->fail = ULP_FAIL_GONE;
		snprintf(res->msg, sizeof(res->msg), "pid %d exited during apply", pid);
	}
cleanup:
	if (err == -ESRCH && res->fail != ULP_FAIL_INPUT) {
		res->fail = ULP_FAIL_GONE;
		snprintf(res->msg, sizeof(res->msg), "pid %d exited during apply: nothing applied", pid);
	}
	if (err == -ESRCH && pl.j) {
		/* the process is gone: nothing of ours is left anywhere */
		pl.j->np = 0;
		ulp_journal__save(pl.j);
	}
	ulp_tset__free(ts);
	free(rg);
	ulp_plan_release(&pl);
	res->total_ns = pg_mono_ns() - t0;
	return err;
}

/* What a revert works on, and keeps between its phases. */
struct revert_ctx {
	struct ulp_journal *j;	/* locked */
	int ji;			/* the entry reverted */
	uint64_t tramp;
	enum ulp_actual act;	/* what memory said before the revert */
};

/*
 * Validate a revert: the target, the journal entry (of @patch_path, or
 * the newest), its bytes in memory (the saved or the patched ones), and
 * the trampoline.  Nothing touched yet.  -errno with @res set.
 */
static int revert_validate(struct revert_ctx *rc, int pid, const char *patch_path, const struct ulp_opts *o,
			   struct ulp_result *res)
{
	struct procmaps *pm = NULL;
	struct sym_proc *sp = NULL;
	char real[PATH_MAX];
	int err, memfd;

	err = ulp_validate_target(pid, res);
	if (err)
		return err;
	if (patch_path && !realpath(patch_path, real))
		snprintf(real, sizeof(real), "%s", patch_path);
	err = ulp_journal__open(o->state_dir, pid, true, &rc->j);
	if (err)
		return ulp_res_fail(res, ULP_FAIL_SYSTEM, err, "cannot open the journal in %s: %s", o->state_dir,
				    strerror(-err));
	rc->ji = ulp_journal__find(rc->j, patch_path ? real : NULL);
	if (rc->ji < 0)
		return ulp_res_fail(res, ULP_FAIL_INPUT, -ENOENT, "no patch%s%s is recorded as applied to pid %d",
				    patch_path ? " " : "", patch_path ? real : "", pid);
	ulp_describe(res, &rc->j->p[rc->ji]);
	ulp_validate_recorded(&rc->j->p[rc->ji], res);
	res->map_lo = rc->j->p[rc->ji].map_lo;
	res->map_hi = rc->j->p[rc->ji].map_hi;
	memfd = ulp_open_mem(pid, O_RDONLY);
	if (memfd < 0)
		return ulp_res_fail(res, ULP_FAIL_INPUT, -errno, "cannot read pid %d memory: %s", pid,
				    strerror(errno));
	rc->act = ulp_actual_of(memfd, &rc->j->p[rc->ji]);
	close(memfd);
	if (rc->act == ULP_ACT_FOREIGN || rc->act == ULP_ACT_UNREADABLE)
		return ulp_res_fail(res, ULP_FAIL_INPUT, -EIO,
				    "the entries patched by %s hold bytes that are neither the saved nor the patched "
				    "ones (%s): refusing to write", rc->j->p[rc->ji].patch, ulp_actual_name(rc->act));
	sp = sym_proc__new(pid);
	err = sp ? procmaps__read(pid, &pm) : -errno;
	if (!err)
		err = ulp_find_tramp(sp, pm, &rc->tramp);
	if (err)
		ulp_res_fail(res, ULP_FAIL_SYSTEM, err, "cannot prepare pid %d: %s", pid, strerror(-err));
	procmaps__free(pm);
	sym_proc__free(sp);
	return err;
}

int ulp_revert(int pid, const char *patch_path, const struct ulp_opts *o, struct ulp_result *res)
{
	struct ulp_write_ctx wc = { .to_new = false, .res = res };
	struct revert_ctx rc = {};
	uint64_t t0 = pg_mono_ns();
	struct ulp_range *rg = NULL;
	struct ulp_tset *ts = NULL;
	struct ulp_jpatch *e;
	enum ulp_jstate was;
	int err;

	memset(res, 0, sizeof(*res));
	err = revert_validate(&rc, pid, patch_path, o, res);
	if (err)
		goto cleanup;
	e = &rc.j->p[rc.ji];
	was = e->state;
	e->state = ULP_J_REVERTING;
	err = ulp_journal__save(rc.j);
	if (err) {
		ulp_res_fail(res, ULP_FAIL_SYSTEM, err, "cannot write the journal: %s", strerror(-err));
		goto cleanup;
	}
	err = ulp_tset__seize(&ts, pid);
	if (err) {
		seize_failed(res, pid, err);
		e->state = was;
		ulp_journal__save(rc.j);
		goto cleanup;
	}
	set_deadlines(ts, o);
	err = ulp_build_ranges(e, &rg);
	if (err)
		goto cleanup;
	wc.jp = e;
	wc.tramp = rc.tramp;
	wc.unmap_lo = e->map_lo;
	wc.unmap_hi = e->map_hi;
	res->already = rc.act == ULP_ACT_NOT_APPLIED;
	err = ulp_stop_world(ts, rg, e->nf, deadline_of(o), &wc, res);
	if (err == -ETIMEDOUT) {
		fail_late(res, ts, "revert");
		ulp_tset__detach_all(ts);
		e->state = was;
		ulp_journal__save(rc.j);
		goto cleanup;
	}
	if (err == -EAGAIN) {
		ulp_tset__detach_all(ts);
		ulp_name_blockers(pid, res);
		e->state = was;
		ulp_journal__save(rc.j);
		ulp_res_fail(res, ULP_FAIL_WINDOW, err, "no safe window within %.1f s to revert", max_wait_of(o));
		goto cleanup;
	}
	if (err) {
		ulp_res_fail(res, err == -ESRCH ? ULP_FAIL_GONE : ULP_FAIL_SYSTEM, err, "revert failed: %s",
			     strerror(-err));
		goto cleanup;
	}
	wc.inj_wait_ns = ts->inj_wait_ns;
	if (res->kept_mapped)
		res->kept_mapped = !ulp_unmap_when_free(pid, &wc, deadline_of(o), res);
	if (res->kept_mapped)
		e->state = ULP_J_REVERTED_MAPPED;
	else
		ulp_journal__del(rc.j, rc.ji);
	err = ulp_journal__save(rc.j);
	if (err)
		ulp_res_fail(res, ULP_FAIL_SYSTEM, err, "reverted, but the journal could not be written: %s",
			     strerror(-err));
cleanup:
	if (err == -ESRCH && rc.j) {
		rc.j->np = 0;
		ulp_journal__save(rc.j);
	}
	ulp_tset__free(ts);
	free(rg);
	procmaps__free(wc.pm);
	ulp_journal__free(rc.j);
	res->total_ns = pg_mono_ns() - t0;
	return err;
}

/* Journal and memory agree: applied and in, or reverted (kept mapped) and out. */
static bool consistent(enum ulp_jstate js, enum ulp_actual act)
{
	return (js == ULP_J_APPLIED && act == ULP_ACT_APPLIED) ||
	       (js == ULP_J_REVERTED_MAPPED && act == ULP_ACT_NOT_APPLIED);
}

int ulp_status(int pid, const struct ulp_opts *o, struct ulp_status_ent **out, int *n)
{
	struct ulp_status_ent *v = NULL;
	struct ulp_journal *j = NULL;
	struct ulp_result *tmp = NULL;
	int err, memfd = -1;

	*out = NULL;
	*n = 0;
	err = ulp_journal__open(o->state_dir, pid, false, &j);
	if (err)
		return err;
	memfd = ulp_open_mem(pid, O_RDONLY);
	if (memfd < 0) {
		err = -errno;
		goto cleanup;
	}
	v = calloc(j->np ? j->np : 1, sizeof(*v));
	tmp = malloc(sizeof(*tmp));
	if (!v || !tmp) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (int i = 0; i < j->np; i++) {
		struct ulp_jpatch *p = &j->p[i];
		enum ulp_actual act = ulp_actual_of(memfd, p);
		char now[65];

		snprintf(v[i].patch, sizeof(v[i].patch), "%s", p->patch);
		snprintf(v[i].journal_state, sizeof(v[i].journal_state), "%s", ulp_jstate_name(p->state));
		v[i].actual = ulp_actual_name(act);
		v[i].consistent = consistent(p->state, act);
		snprintf(v[i].sha256, sizeof(v[i].sha256), "%s", p->sha256);
		snprintf(v[i].build_id, sizeof(v[i].build_id), "%s", p->build_id);
		v[i].file_changed = ulp_file_changed(p, now);
		v[i].applied_at = p->applied_at;
		v[i].map_lo = p->map_lo;
		v[i].map_hi = p->map_hi;
		ulp_describe(tmp, p);
		v[i].nfuncs = tmp->nfuncs;
		memcpy(v[i].funcs, tmp->funcs, sizeof(v[i].funcs));
	}
	*out = v;
	*n = j->np;
	v = NULL;
cleanup:
	free(tmp);
	free(v);
	if (memfd >= 0)
		close(memfd);
	ulp_journal__free(j);
	return err;
}
