// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * ulp apply / revert / status.
 *
 * Order of an apply, and what a SIGKILL of patchgate leaves at each step:
 *   1. validate (patch, object, build-id, symbols, lengths, relocations,
 *      journal): nothing touched yet.
 *   2. seize all threads; stop one; inject openat/mmap/close to map the
 *      patch near the target; resume it.  Killed here: the thread returns
 *      through the trampoline (ulp_ptrace.c); at worst an unused mapping
 *      or fd stays behind.  Nothing jumps into it.
 *   3. write the patch's relocations into its private mapping (still
 *      unreachable).
 *   4. journal "applying" with the saved and the new bytes (fsync+rename).
 *   5. rounds: stop every thread, scan PCs and stacks; when clear, write
 *      every jump (one pwrite each) and detach.  Killed here: the tracees
 *      are released where they stand, never with registers of ours; each
 *      jump is one write, so a one-function patch is either in or out.
 *   6. journal "applied".  Killed before: status sees "applying" and
 *      reports what the bytes say; apply and revert finish the job.
 * Revert mirrors it with "reverting" written before its rounds.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include "backend/ulp.h"
#include "backend/ulp_journal.h"
#include "backend/ulp_patch.h"
#include "backend/ulp_ptrace.h"
#include "backend/ulp_sym.h"
#include "observe/symbols.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define STACK_SCAN_MAX (16u << 20)

struct range {
	uint64_t lo, hi;
	const char *name;
};

static int fail(struct ulp_result *res, enum ulp_fail kind, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct ulp_result *res, enum ulp_fail kind, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
	va_end(ap);
	res->fail = kind;
	return err < 0 ? err : -EINVAL;
}

static double now_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void read_comm(int pid, int tid, char *buf, size_t len)
{
	char fn[64];
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/task/%d/comm", pid, tid);
	snprintf(buf, len, "?");
	f = fopen(fn, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* The target must exist, not be us, and not be traced by anyone. */
static int check_target(int pid, struct ulp_result *res)
{
	char fn[64], line[256];
	struct stat a, b;
	int tracer = 0;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/status", pid);
	f = fopen(fn, "re");
	if (!f)
		return fail(res, ULP_FAIL_INPUT, -ESRCH, "no process with pid %d", pid);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	snprintf(fn, sizeof(fn), "/proc/%d/exe", pid);
	if (pid == getpid() || (!stat(fn, &a) && !stat("/proc/self/exe", &b) && a.st_dev == b.st_dev &&
				 a.st_ino == b.st_ino))
		return fail(res, ULP_FAIL_INPUT, -EINVAL, "pid %d is patchgate itself: refusing to patch it", pid);
	if (tracer) {
		char comm[32];

		read_comm(tracer, tracer, comm, sizeof(comm));
		return fail(res, ULP_FAIL_INPUT, -EBUSY,
			    "pid %d is already traced by pid %d (%s) -- detach that debugger or tracer first",
			    pid, tracer, comm);
	}
	return 0;
}

static bool obj_name_matches(const char *path, const char *want)
{
	const char *base = strrchr(path, '/');
	size_t n = strlen(want);

	base = base ? base + 1 : path;
	return !strcmp(path, want) || !strcmp(base, want) ||
	       (!strncmp(base, want, n) && (base[n] == '.' || base[n] == '-'));
}

static int find_obj(struct sym_proc *sp, const char *want)
{
	if (!want[0])
		return 0;	/* main executable first */
	for (int i = 0; i < sym_proc__nobjs(sp); i++)
		if (obj_name_matches(sym_proc__obj_path(sp, i), want))
			return i;
	return -1;
}

/* Encode a jump from @from to @to; rel32 when in reach, else jmp *0(%rip) + abs64. */
static int jump_encode(uint64_t from, uint64_t to, uint64_t room, uint8_t *b, int *len)
{
	int64_t rel = (int64_t)(to - (from + 5));

	if (rel >= INT32_MIN && rel <= INT32_MAX && room >= 5) {
		int32_t r = (int32_t)rel;

		b[0] = 0xe9;
		memcpy(b + 1, &r, 4);
		*len = 5;
		return 0;
	}
	if (room < 14)
		return -ERANGE;
	b[0] = 0xff;
	b[1] = 0x25;
	memset(b + 2, 0, 4);
	memcpy(b + 6, &to, 8);
	*len = 14;
	return 0;
}

/*
 * The conservative scan over stopped threads: a PC inside a range (its
 * entry excepted: a thread about to enter takes the jump), or a stack
 * word between SP and the end of the stack mapping pointing inside one
 * (entry excepted: return addresses never equal an entry).  Fills
 * res->blockers; returns the number of blocked threads, or -errno.
 */
struct maps_cache {
	struct ulp_map *m;	/* read before the threads were stopped */
	int n;
};

static int maps_refresh(struct maps_cache *mc, int pid)
{
	free(mc->m);
	mc->m = NULL;
	mc->n = 0;
	return ulp_maps_read(pid, &mc->m, &mc->n);
}

static uint64_t stack_end(const struct maps_cache *mc, uint64_t sp)
{
	for (int m = 0; m < mc->n; m++)
		if (sp >= mc->m[m].start && sp < mc->m[m].end)
			return mc->m[m].end;
	return 0;
}

static const struct range *hit_in(const uint64_t *w, size_t nw, const struct range *r, int nr)
{
	for (size_t i = 0; i < nw; i++)
		for (int k = 0; k < nr; k++)
			if (w[i] > r[k].lo && w[i] < r[k].hi)
				return &r[k];
	return NULL;
}

static const struct range unreadable = { 0, 0, "(unreadable stack)" };

static int scan(struct ulp_tset *ts, struct maps_cache *mc, const struct range *r, int nr,
		struct ulp_result *res, bool record)
{
	const struct range **hit = NULL;
	struct iovec *lv = NULL, *rv = NULL;
	size_t *off = NULL, total = 0;
	bool *at_pc = NULL;
	char *buf = NULL;
	int nblocked = 0, err = 0;

	/* /proc/PID/maps is slow to read: it was read before the stop; re-read
	 * only when a thread's stack is not in it (a thread born meanwhile) */
	for (int i = 0; i < ts->n; i++) {
		if (!stack_end(mc, ts->t[i].regs.rsp)) {
			err = maps_refresh(mc, ts->pid);
			if (err)
				return err;
			break;
		}
	}
	hit = calloc(ts->n + 1, sizeof(*hit));
	at_pc = calloc(ts->n + 1, sizeof(*at_pc));
	lv = calloc(ts->n + 1, sizeof(*lv));
	rv = calloc(ts->n + 1, sizeof(*rv));
	off = calloc(ts->n + 1, sizeof(*off));
	if (!hit || !at_pc || !lv || !rv || !off) {
		err = -ENOMEM;
		goto cleanup;
	}
	/* PCs first; then the stacks of the others, read in one syscall */
	for (int i = 0; i < ts->n; i++) {
		uint64_t pc = ts->t[i].regs.rip, sp = ts->t[i].regs.rsp & ~7ull, end;

		for (int k = 0; k < nr && !hit[i]; k++)
			if (pc > r[k].lo && pc < r[k].hi) {
				hit[i] = &r[k];
				at_pc[i] = true;
			}
		end = hit[i] ? 0 : stack_end(mc, sp);
		if (!hit[i] && !end)
			hit[i] = &unreadable;	/* SP outside any mapping: cannot vouch for it */
		rv[i].iov_base = (void *)sp;
		rv[i].iov_len = end ? (end - sp > STACK_SCAN_MAX ? STACK_SCAN_MAX : end - sp) : 0;
		off[i] = total;
		total += rv[i].iov_len;
	}
	buf = malloc(total ? total : 1);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	{
		int nio = 0, first = 0;
		ssize_t got;

		for (int i = 0; i < ts->n; i++) {
			lv[i].iov_base = buf + off[i];
			lv[i].iov_len = rv[i].iov_len;
		}
		/* in chunks of 512 iovecs (IOV_MAX is 1024) */
		for (first = 0; first < ts->n; first += nio) {
			size_t want = 0;

			nio = ts->n - first > 512 ? 512 : ts->n - first;
			for (int i = first; i < first + nio; i++)
				want += rv[i].iov_len;
			got = want ? process_vm_readv(ts->pid, lv + first, nio, rv + first, nio, 0) : 0;
			if (got == (ssize_t)want)
				continue;
			/* a short read: redo this chunk one stack at a time */
			for (int i = first; i < first + nio; i++)
				if (rv[i].iov_len && ulp_mem_read(ts, (uint64_t)rv[i].iov_base, lv[i].iov_base,
								  rv[i].iov_len) && !hit[i])
					hit[i] = &unreadable;
		}
	}
	if (record)
		res->nblockers = 0;
	for (int i = 0; i < ts->n; i++) {
		if (!hit[i])
			hit[i] = hit_in((const uint64_t *)(buf + off[i]), rv[i].iov_len / 8, r, nr);
		if (!hit[i])
			continue;
		nblocked++;
		if (record && res->nblockers < ULP_MAX_BLOCKERS) {
			struct ulp_blocker *b = &res->blockers[res->nblockers++];

			b->tid = ts->t[i].tid;
			b->at_pc = at_pc[i];
			snprintf(b->func, sizeof(b->func), "%s", hit[i]->name);
			b->comm[0] = '\0';	/* filled once the threads run again */
		}
	}
	err = nblocked;
cleanup:
	free(buf);
	free(hit);
	free(at_pc);
	free(lv);
	free(rv);
	free(off);
	return err;
}

static void name_blockers(int pid, struct ulp_result *res)
{
	for (int i = 0; i < res->nblockers; i++)
		read_comm(pid, res->blockers[i].tid, res->blockers[i].comm, sizeof(res->blockers[i].comm));
}

static int inj_tid(struct ulp_tset *ts)
{
	return ulp_tset__find(ts, ts->pid) ? ts->pid : ts->t[0].tid;
}

static int inject1(struct ulp_inject *inj, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		   uint64_t a4, uint64_t a5, int64_t *ret)
{
	const uint64_t a[6] = { a0, a1, a2, a3, a4, a5 };
	int err = ulp_inject__call(inj, nr, a, ret);

	if (err)
		return err;
	return *ret < 0 && *ret > -4096 ? (int)*ret : 0;
}

/*
 * Map @p file-backed into the stopped thread @tid, as the dynamic loader
 * would (reserve the span, then each PT_LOAD MAP_FIXED, bss zeroed),
 * at @hint when it is free.  *base = runtime address of link address 0.
 */
static int map_patch(struct ulp_tset *ts, int tid, uint64_t tramp, const struct ulp_patch *p,
		     uint64_t hint, uint64_t *base, struct ulp_result *res)
{
	uint64_t span = p->span_hi - p->span_lo, at = 0;
	struct ulp_inject inj;
	int64_t fd = -1, r;
	int err;

	err = ulp_inject__begin(&inj, ts, tid, tramp);
	if (err)
		return fail(res, ULP_FAIL_SYSTEM, err, "cannot prepare injection in tid %d: %s", tid,
			    strerror(-err));
	err = ulp_mem_write(ts, inj.scratch, p->path, strlen(p->path) + 1);
	if (!err)
		err = inject1(&inj, SYS_openat, (uint64_t)AT_FDCWD, inj.scratch, O_RDONLY | O_CLOEXEC, 0, 0, 0,
			      &fd);
	if (err) {
		fail(res, ULP_FAIL_SYSTEM, err, "the target cannot open %s: %s", p->path, strerror(-err));
		goto out;
	}
	err = inject1(&inj, SYS_mmap, hint, span, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | (hint ? MAP_FIXED_NOREPLACE : 0), (uint64_t)-1, 0, &r);
	if (err && hint)
		err = inject1(&inj, SYS_mmap, 0, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0,
			      &r);
	if (err) {
		fail(res, ULP_FAIL_SYSTEM, err, "mmap in the target failed: %s", strerror(-err));
		goto out;
	}
	at = (uint64_t)r;
	*base = at - p->span_lo;
	for (int i = 0; i < p->nsegs && !err; i++) {
		const struct ulp_seg *s = &p->segs[i];
		uint64_t va = *base + (s->vaddr & ~4095ull);
		uint64_t flen = ((s->vaddr & 4095) + s->filesz + 4095) & ~4095ull;
		uint64_t mend = (*base + s->vaddr + s->memsz + 4095) & ~4095ull;
		uint64_t fend = *base + s->vaddr + s->filesz;

		if (s->filesz)
			err = inject1(&inj, SYS_mmap, va, flen, (uint64_t)s->prot, MAP_PRIVATE | MAP_FIXED,
				      (uint64_t)fd, s->off & ~4095ull, &r);
		if (!err && s->memsz > s->filesz) {
			uint64_t zend = (fend + 4095) & ~4095ull;
			static const uint8_t zero[4096];

			if (s->filesz && zend > fend)
				err = ulp_mem_write(ts, fend, zero, zend - fend);
			if (!s->filesz)
				zend = va;
			if (!err && mend > zend)
				err = inject1(&inj, SYS_mmap, zend, mend - zend, (uint64_t)s->prot,
					      MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, (uint64_t)-1, 0, &r);
		}
	}
	if (err)
		fail(res, ULP_FAIL_SYSTEM, err, "mapping the patch in the target failed: %s", strerror(-err));
out:
	if (fd >= 0)
		inject1(&inj, SYS_close, (uint64_t)fd, 0, 0, 0, 0, 0, &r);
	if (err && at)
		inject1(&inj, SYS_munmap, at, span, 0, 0, 0, 0, &r);
	ulp_inject__end(&inj);
	if (!err) {
		res->map_lo = at;
		res->map_hi = at + span;
	}
	return err;
}

/*
 * Unmap the patch at [@lo, @hi) from the stopped process, but only while
 * it is still there (a mapping of @path inside the range): after a crash
 * the range may have been unmapped already and reused by someone else.
 */
static int unmap_in(struct ulp_tset *ts, struct maps_cache *mc, uint64_t tramp, uint64_t lo, uint64_t hi,
		    const char *path)
{
	struct maps_cache own = {};
	struct ulp_inject inj;
	bool ours = false;
	int64_t r;
	int err;

	if (!mc) {
		err = maps_refresh(&own, ts->pid);
		if (err)
			return err;
		mc = &own;
	}
	for (int i = 0; i < mc->n; i++)
		if (mc->m[i].start >= lo && mc->m[i].end <= hi && !strcmp(mc->m[i].path, path))
			ours = true;
	free(own.m);
	if (!ours)
		return 0;
	err = ulp_inject__begin(&inj, ts, inj_tid(ts), tramp);
	if (err)
		return err;
	err = inject1(&inj, SYS_munmap, lo, hi - lo, 0, 0, 0, 0, &r);
	ulp_inject__end(&inj);
	return err;
}

/* Does any stopped thread's PC or stack refer to [lo, hi)? */
static int referenced(struct ulp_tset *ts, struct maps_cache *mc, uint64_t lo, uint64_t hi,
		      struct ulp_result *res)
{
	struct range r = { lo - 1, hi, "patch" };

	return scan(ts, mc, &r, 1, res, false);
}

/* "applied" / "not-applied" / "partial" / "foreign" from the target's bytes. */
static const char *actual_state(int memfd, const struct ulp_jpatch *p)
{
	int nnew = 0, nold = 0;

	for (int k = 0; k < p->nf; k++) {
		const struct ulp_jfunc *f = &p->f[k];
		uint8_t b[ULP_JMAX];

		if (pread(memfd, b, f->len, (off_t)f->old_addr) != f->len)
			return "unreadable";
		if (!memcmp(b, f->new_bytes, f->len))
			nnew++;
		else if (!memcmp(b, f->old_bytes, f->len))
			nold++;
		else
			return "foreign";
	}
	if (nnew == p->nf)
		return "applied";
	if (nold == p->nf)
		return "not-applied";
	return "partial";
}

static int open_mem(int pid, int flags)
{
	char fn[64];

	snprintf(fn, sizeof(fn), "/proc/%d/mem", pid);
	return open(fn, flags | O_CLOEXEC);
}

static void describe(struct ulp_result *res, const struct ulp_jpatch *jp)
{
	res->nfuncs = jp->nf < 8 ? jp->nf : 8;
	for (int k = 0; k < res->nfuncs; k++)
		snprintf(res->funcs[k], sizeof(res->funcs[k]), "%s@0x%llx -> %s@0x%llx (%s)",
			 jp->f[k].old_sym, (unsigned long long)jp->f[k].old_addr, jp->f[k].new_sym,
			 (unsigned long long)jp->f[k].new_addr, jp->f[k].len == 5 ? "rel32" : "abs64");
}

struct write_ctx {
	struct maps_cache mc;
	const struct ulp_jpatch *jp;
	bool to_new;
	uint64_t unmap_lo, unmap_hi, tramp;	/* revert: unmap when unreferenced */
	struct ulp_result *res;
	int write_err;
};

static int commit_writes(struct ulp_tset *ts, struct write_ctx *c)
{
	for (int k = 0; k < c->jp->nf; k++) {
		const struct ulp_jfunc *f = &c->jp->f[k];
		const uint8_t *want = c->to_new ? f->new_bytes : f->old_bytes;
		uint8_t back[ULP_JMAX];
		int err;

		err = ulp_mem_write(ts, f->old_addr, want, f->len);
		if (!err)
			err = ulp_mem_read(ts, f->old_addr, back, f->len);
		if (!err && memcmp(back, want, f->len))
			err = -EIO;
		if (err) {
			c->write_err = err;
			return err;
		}
	}
	if (c->unmap_hi) {
		int refs = referenced(ts, &c->mc, c->unmap_lo, c->unmap_hi, c->res);

		if (refs == 0 && !unmap_in(ts, &c->mc, c->tramp, c->unmap_lo, c->unmap_hi, c->jp->patch))
			c->res->kept_mapped = false;
		else
			c->res->kept_mapped = true;
	}
	return 0;
}

/*
 * Stop-the-world rounds: stop all, scan @r; when clear, commit_writes()
 * (all threads stopped) and detach.  Else resume and retry with backoff
 * until @deadline.  Returns 0, -EAGAIN (no window: threads left stopped
 * for the caller to clean up and detach), -errno.
 * (ulp_ptrace.c wakes threads under SCHED_FIFO: see fifo_on().)
 */
static int rounds(struct ulp_tset *ts, const struct range *r, int nr, uint64_t deadline,
		  struct write_ctx *wc, struct ulp_result *res)
{
	uint64_t backoff = 1000000;
	int err, blocked;

	for (;;) {
		uint64_t t_stopped, t_scanned, t_written;

		res->rounds++;
		err = maps_refresh(&wc->mc, ts->pid);
		if (err)
			break;
		err = ulp_tset__stop_all(ts);
		if (err)
			break;
		t_stopped = ulp_now_ns();
		res->nthreads = ts->n;
		blocked = scan(ts, &wc->mc, r, nr, res, true);
		if (blocked < 0) {
			err = blocked;
			break;
		}
		t_scanned = ulp_now_ns();
		res->stop_ns = t_stopped - ts->stop_start_ns;
		res->scan_ns = t_scanned - t_stopped;
		if (!blocked) {
			err = commit_writes(ts, wc);
			t_written = ulp_now_ns();
			ulp_tset__detach_all(ts);
			res->write_ns = t_written - t_scanned;
			res->resume_ns = ts->resume_end_ns - t_written;
			res->pause_ns = ts->resume_end_ns - ts->stop_start_ns;
			if (res->pause_ns > res->max_pause_ns)
				res->max_pause_ns = res->pause_ns;
			break;
		}
		if (ulp_now_ns() >= deadline) {
			err = -EAGAIN;
			break;
		}
		ulp_tset__cont_all(ts);
		if (ts->resume_end_ns - ts->stop_start_ns > res->max_pause_ns)
			res->max_pause_ns = ts->resume_end_ns - ts->stop_start_ns;
		err = ulp_tset__poll(ts, backoff);
		if (err)
			break;
		backoff = backoff * 2 > 20000000 ? 20000000 : backoff * 2;
	}
	return err;
}

static int build_ranges(const struct ulp_jpatch *jp, struct range **out)
{
	struct range *r = calloc(jp->nf ? jp->nf : 1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	for (int k = 0; k < jp->nf; k++) {
		r[k].lo = jp->f[k].old_addr;
		r[k].hi = jp->f[k].old_addr + (jp->f[k].old_size ? jp->f[k].old_size : (uint64_t)jp->f[k].len);
		r[k].name = jp->f[k].old_sym;
	}
	*out = r;
	return 0;
}

static uint64_t deadline_of(const struct ulp_opts *o)
{
	double w = o->max_wait_s > 0 ? o->max_wait_s : 10.0;

	return ulp_now_ns() + (uint64_t)(w * 1e9);
}

static int find_entry(const struct ulp_journal *j, const char *path)
{
	for (int i = j->np - 1; i >= 0; i--)
		if (!path || !strcmp(j->p[i].patch, path))
			return i;
	return -1;
}

int ulp_apply(int pid, const char *patch_path, const struct ulp_opts *o, struct ulp_result *res)
{
	uint64_t t0 = ulp_now_ns(), lo = UINT64_MAX, hi = 0, hint, tramp = 0, base = 0;
	struct ulp_patch *p = NULL;
	struct sym_proc *sp = NULL;
	struct ulp_syms *syms = NULL;
	struct ulp_journal *j = NULL;
	struct ulp_tset *ts = NULL;
	struct ulp_map *maps = NULL;
	struct ulp_jpatch jp = {};
	struct range *rg = NULL;
	uint64_t *rel_vals = NULL;
	int nmaps = 0, obj, err, memfd = -1, ji;
	char msg[512];
	const char *objpath;
	struct write_ctx wc = {};

	memset(res, 0, sizeof(*res));
	err = check_target(pid, res);
	if (err)
		goto cleanup;
	err = ulp_patch__open(patch_path, &p, msg, sizeof(msg));
	if (err) {
		fail(res, ULP_FAIL_INPUT, err, "%s", msg);
		goto cleanup;
	}
	sp = sym_proc__new(pid);
	if (!sp) {
		err = fail(res, ULP_FAIL_INPUT, -errno, "cannot read the mappings of pid %d: %s", pid,
			   strerror(errno));
		goto cleanup;
	}
	obj = find_obj(sp, p->object);
	if (obj < 0) {
		err = fail(res, ULP_FAIL_INPUT, -ENOENT, "the patch is for %s, which pid %d does not map",
			   p->object, pid);
		goto cleanup;
	}
	objpath = sym_proc__obj_path(sp, obj);
	if (p->target_build_id[0]) {
		char path[4300], hex[128] = "";

		snprintf(path, sizeof(path), "/proc/%d/root%s", pid, objpath);
		sym_elf_build_id(path, hex, sizeof(hex));
		if (strcasecmp(hex, p->target_build_id)) {
			err = fail(res, ULP_FAIL_INPUT, -ESTALE,
				   "build-id mismatch: the patch is for %s build-id %s, pid %d maps build-id %s",
				   objpath, p->target_build_id, pid, hex[0] ? hex : "(none)");
			goto cleanup;
		}
	}
	err = ulp_journal__open(o->state_dir, pid, true, &j);
	if (err) {
		fail(res, err == -ESRCH ? ULP_FAIL_INPUT : ULP_FAIL_SYSTEM, err, "cannot open the journal in %s: %s",
		     o->state_dir, strerror(-err));
		goto cleanup;
	}
	memfd = open_mem(pid, O_RDONLY);
	if (memfd < 0) {
		err = fail(res, ULP_FAIL_INPUT, -errno, "cannot read pid %d memory: %s", pid, strerror(errno));
		goto cleanup;
	}
	ji = find_entry(j, p->path);
	if (ji >= 0) {
		const char *act = actual_state(memfd, &j->p[ji]);

		if (!strcmp(act, "applied")) {
			if (strcmp(j->p[ji].state, "applied")) {
				snprintf(j->p[ji].state, sizeof(j->p[ji].state), "applied");
				ulp_journal__save(j);
			}
			res->already = true;
			res->map_lo = j->p[ji].map_lo;
			res->map_hi = j->p[ji].map_hi;
			describe(res, &j->p[ji]);
			err = 0;
			goto cleanup;
		}
		if (strcmp(act, "not-applied")) {
			err = fail(res, ULP_FAIL_INPUT, -EIO,
				   "%s is %s in pid %d (journal: %s): run 'patchgate revert --pid %d %s' first",
				   p->path, act, pid, j->p[ji].state, pid, p->path);
			goto cleanup;
		}
		ulp_journal__del(j, ji);	/* interrupted earlier: start afresh */
		ulp_journal__save(j);
	}
	/* the old functions: exist, long enough, unmodified, not stacked */
	jp.f = calloc(p->nfuncs, sizeof(*jp.f));
	if (!jp.f) {
		err = -ENOMEM;
		goto cleanup;
	}
	jp.nf = p->nfuncs;
	for (int k = 0; k < p->nfuncs; k++) {
		struct ulp_jfunc *f = &jp.f[k];
		char spec[4400], e[512] = "";
		uint8_t filebytes[ULP_JMAX];
		struct sym_func sf;
		int fd;

		snprintf(spec, sizeof(spec), "%s:%s", objpath, p->funcs[k].old_sym);
		err = sym_proc__resolve(sp, spec, &sf, e, sizeof(e));
		if (err) {
			fail(res, ULP_FAIL_INPUT, err, "cannot find '%s' in %s: %s", p->funcs[k].old_sym, objpath, e);
			goto cleanup;
		}
		if (sf.size < 5) {
			err = fail(res, ULP_FAIL_INPUT, -ERANGE,
				   "'%s' is %llu bytes long, shorter than a 5-byte jump: it cannot be replaced",
				   sf.name, (unsigned long long)sf.size);
			goto cleanup;
		}
		snprintf(f->old_sym, sizeof(f->old_sym), "%s", p->funcs[k].old_sym);
		snprintf(f->new_sym, sizeof(f->new_sym), "%s", p->funcs[k].new_sym);
		f->old_addr = sf.addr;
		f->old_size = sf.size;
		if (sf.addr < lo)
			lo = sf.addr;
		if (sf.addr + sf.size > hi)
			hi = sf.addr + sf.size;
		fd = open(sf.open_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || pread(fd, filebytes, ULP_JMAX, (off_t)sf.file_off) != ULP_JMAX ||
		    pread(memfd, f->old_bytes, ULP_JMAX, (off_t)sf.addr) != ULP_JMAX) {
			err = fail(res, ULP_FAIL_INPUT, -EIO, "cannot read the entry of '%s'", sf.name);
			if (fd >= 0)
				close(fd);
			goto cleanup;
		}
		close(fd);
		for (int i = 0; i < j->np; i++)
			for (int m = 0; m < j->p[i].nf; m++)
				if (j->p[i].f[m].old_addr == sf.addr && strcmp(j->p[i].state, "reverted-mapped")) {
					err = fail(res, ULP_FAIL_INPUT, -EEXIST,
						   "'%s' is already replaced by %s: stacking is refused, revert that patch first",
						   sf.name, j->p[i].patch);
					goto cleanup;
				}
		if (memcmp(filebytes, f->old_bytes, sf.size < ULP_JMAX ? sf.size : ULP_JMAX)) {
			err = fail(res, ULP_FAIL_INPUT, -EBUSY,
				   "the entry of '%s' in memory differs from %s%s -- a probe, or another live patcher?",
				   sf.name, objpath, f->old_bytes[0] == 0xcc ? " (int3: a uprobe)" :
				   f->old_bytes[0] == 0xe8 ? " (a call over the nop5: an optimised uprobe)" : "");
			goto cleanup;
		}
	}
	/* relocations: resolve every symbol now, before touching the target */
	rel_vals = calloc(p->nrelocs ? p->nrelocs : 1, sizeof(*rel_vals));
	if (!rel_vals) {
		err = -ENOMEM;
		goto cleanup;
	}
	syms = ulp_syms__new(sp);
	if (!syms) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (int i = 0; i < p->nrelocs; i++) {
		struct ulp_reloc *r = &p->relocs[i];
		bool ifunc = false;

		if (!r->sym || r->defined || r->type == R_X86_64_RELATIVE || r->type == R_X86_64_NONE)
			continue;
		err = ulp_syms__lookup(syms, obj, r->sym, &rel_vals[i], &ifunc);
		if (err && r->weak) {
			rel_vals[i] = 0;
			err = 0;
			continue;
		}
		if (err) {
			fail(res, ULP_FAIL_INPUT, -ENOENT,
			     "the patch references '%s', which neither %s nor any library of pid %d defines",
			     r->sym, objpath, pid);
			goto cleanup;
		}
		if (ifunc) {
			err = fail(res, ULP_FAIL_INPUT, -ENOTSUP,
				   "the patch references '%s', an IFUNC: patchgate does not run resolvers -- "
				   "call a non-IFUNC wrapper instead", r->sym);
			goto cleanup;
		}
	}
	err = ulp_maps_read(pid, &maps, &nmaps);
	if (err) {
		fail(res, ULP_FAIL_INPUT, err, "cannot read the maps of pid %d", pid);
		goto cleanup;
	}
	hint = ulp_find_gap(maps, nmaps, lo, hi, p->span_hi - p->span_lo);
	if (!hint)
		for (int k = 0; k < jp.nf; k++)
			if (jp.f[k].old_size < 14) {
				err = fail(res, ULP_FAIL_INPUT, -ERANGE,
					   "no free range within reach of a 5-byte jump near '%s', and it is too short "
					   "(%llu bytes) for a 14-byte absolute jump", jp.f[k].old_sym,
					   (unsigned long long)jp.f[k].old_size);
				goto cleanup;
			}
	err = ulp_find_tramp(sp, maps, nmaps, &tramp);
	if (err) {
		fail(res, ULP_FAIL_SYSTEM, err, "no spare bytes after any text segment of pid %d for the "
		     "injection trampoline", pid);
		goto cleanup;
	}

	/* ---- from here on the target is touched ---- */
	err = ulp_tset__seize(&ts, pid);
	if (err) {
		fail(res, err == -ESRCH ? ULP_FAIL_GONE : ULP_FAIL_INPUT, err, "cannot trace pid %d: %s%s", pid,
		     strerror(-err), err == -EPERM ? " -- another tracer, or Yama ptrace_scope?" : "");
		goto cleanup;
	}
	{
		uint64_t ti = ulp_now_ns();
		int tid = inj_tid(ts);

		err = ulp_tset__stop_one(ts, tid);
		if (!err)
			err = map_patch(ts, tid, tramp, p, hint, &base, res);
		else
			fail(res, ULP_FAIL_GONE, err, "pid %d exited", pid);
		res->inject_ns = ulp_now_ns() - ti;
		if (err)
			goto cleanup;
		ulp_tset__cont_all(ts);
	}
	for (int i = 0; i < p->nrelocs && !err; i++) {
		const struct ulp_reloc *r = &p->relocs[i];
		uint64_t v, S = r->defined ? base + r->sym_value : rel_vals[i];

		switch (r->type) {
		case R_X86_64_RELATIVE:
			v = base + (uint64_t)r->addend;
			break;
		case R_X86_64_64:
			v = S + (uint64_t)r->addend;
			break;
		case R_X86_64_GLOB_DAT:
		case R_X86_64_JUMP_SLOT:
			v = S;
			break;
		default:
			continue;
		}
		err = ulp_mem_write(ts, base + r->off, &v, sizeof(v));
	}
	if (err) {
		fail(res, ULP_FAIL_SYSTEM, err, "writing relocations failed: %s", strerror(-err));
		goto unmap;
	}
	for (int k = 0; k < jp.nf; k++) {
		struct ulp_jfunc *f = &jp.f[k];

		f->new_addr = base + p->funcs[k].new_value;
		if (jump_encode(f->old_addr, f->new_addr, f->old_size, f->new_bytes, &f->len)) {
			err = fail(res, ULP_FAIL_INPUT, -ERANGE, "'%s' is too short for an absolute jump",
				   f->old_sym);
			goto unmap;
		}
	}
	snprintf(jp.patch, sizeof(jp.patch), "%s", p->path);
	snprintf(jp.build_id, sizeof(jp.build_id), "%s", p->build_id);
	snprintf(jp.object, sizeof(jp.object), "%s", objpath);
	snprintf(jp.state, sizeof(jp.state), "applying");
	jp.map_lo = res->map_lo;
	jp.map_hi = res->map_hi;
	jp.applied_at = now_realtime();
	if (!ulp_journal__add(j, &jp)) {
		err = -ENOMEM;
		goto unmap;
	}
	jp.f = NULL;	/* owned by the journal now */
	ji = j->np - 1;
	err = ulp_journal__save(j);
	if (err) {
		fail(res, ULP_FAIL_SYSTEM, err, "cannot write the journal %s: %s", j->path, strerror(-err));
		ulp_journal__del(j, ji);
		goto unmap;
	}
	err = build_ranges(&j->p[ji], &rg);
	if (err)
		goto unmap;
	wc.jp = &j->p[ji];
	wc.to_new = true;
	wc.res = res;
	err = rounds(ts, rg, j->p[ji].nf, deadline_of(o), &wc, res);
	if (err == -EAGAIN) {
		/* threads are stopped: take the unused patch out, then let them go */
		unmap_in(ts, NULL, tramp, res->map_lo, res->map_hi, p->path);
		ulp_tset__detach_all(ts);
		name_blockers(pid, res);
		ulp_journal__del(j, ji);
		ulp_journal__save(j);
		fail(res, ULP_FAIL_WINDOW, err, "no safe window within %.1f s: threads kept running in the "
		     "functions being replaced", o->max_wait_s > 0 ? o->max_wait_s : 10.0);
		goto cleanup;
	}
	if (err) {
		if (err == -ESRCH) {
			fail(res, ULP_FAIL_GONE, err, "pid %d exited during apply", pid);
			ulp_journal__del(j, ji);
			ulp_journal__save(j);
		} else {
			fail(res, ULP_FAIL_SYSTEM, err, "writing the jumps failed: %s", strerror(-err));
		}
		goto cleanup;
	}
	snprintf(j->p[ji].state, sizeof(j->p[ji].state), "applied");
	j->p[ji].applied_at = now_realtime();
	err = ulp_journal__save(j);
	if (err)
		fail(res, ULP_FAIL_SYSTEM, err, "the patch is in, but the journal %s could not be written: %s",
		     j->path, strerror(-err));
	describe(res, &j->p[ji]);
	goto cleanup;
unmap:
	if (ts && ts->n && res->map_hi && !ulp_tset__stop_one(ts, inj_tid(ts)))
		unmap_in(ts, NULL, tramp, res->map_lo, res->map_hi, p->path);
	if (err == -ESRCH) {
		res->fail = ULP_FAIL_GONE;
		snprintf(res->msg, sizeof(res->msg), "pid %d exited during apply", pid);
	}
cleanup:
	if (err == -ESRCH && res->fail != ULP_FAIL_INPUT) {
		res->fail = ULP_FAIL_GONE;
		snprintf(res->msg, sizeof(res->msg), "pid %d exited during apply: nothing applied", pid);
	}
	if (err == -ESRCH && j) {
		/* the process is gone: nothing of ours is left anywhere */
		j->np = 0;
		ulp_journal__save(j);
	}
	ulp_tset__free(ts);
	if (memfd >= 0)
		close(memfd);
	free(jp.f);
	free(rg);
	free(wc.mc.m);
	free(rel_vals);
	free(maps);
	ulp_journal__free(j);
	ulp_syms__free(syms);
	sym_proc__free(sp);
	ulp_patch__free(p);
	res->total_ns = ulp_now_ns() - t0;
	return err;
}

/*
 * After a revert whose stop found the patch still referenced: the jumps
 * are gone, so nothing new enters the patch and references drain fast.
 * Stop the world again a few times (1 ms, doubling, at most 1 s or
 * @deadline) and unmap it once nothing refers to it.  True when unmapped.
 */
static bool unmap_when_free(int pid, struct write_ctx *wc, uint64_t deadline, struct ulp_result *res)
{
	uint64_t wait = 1000000, end = ulp_now_ns() + 1000000000ull;
	bool done = false;

	if (deadline < end)
		end = deadline;
	while (!done && ulp_now_ns() < end) {
		struct ulp_tset *ts = NULL;
		struct timespec d = { 0, (long)wait };

		nanosleep(&d, NULL);
		wait = wait * 2 > 100000000 ? 100000000 : wait * 2;
		if (ulp_tset__seize(&ts, pid))
			return false;
		if (!maps_refresh(&wc->mc, pid) && !ulp_tset__stop_all(ts) &&
		    referenced(ts, &wc->mc, wc->unmap_lo, wc->unmap_hi, res) == 0)
			done = !unmap_in(ts, &wc->mc, wc->tramp, wc->unmap_lo, wc->unmap_hi, wc->jp->patch);
		ulp_tset__free(ts);
	}
	return done;
}

int ulp_revert(int pid, const char *patch_path, const struct ulp_opts *o, struct ulp_result *res)
{
	uint64_t t0 = ulp_now_ns(), tramp = 0;
	char real[PATH_MAX], tmp[24];
	struct ulp_journal *j = NULL;
	struct ulp_tset *ts = NULL;
	struct ulp_map *maps = NULL;
	struct sym_proc *sp = NULL;
	struct range *rg = NULL;
	struct write_ctx wc = {};
	int err, ji, memfd = -1, nmaps = 0;
	const char *act;

	memset(res, 0, sizeof(*res));
	err = check_target(pid, res);
	if (err)
		goto cleanup;
	if (patch_path && !realpath(patch_path, real))
		snprintf(real, sizeof(real), "%s", patch_path);
	err = ulp_journal__open(o->state_dir, pid, true, &j);
	if (err) {
		fail(res, ULP_FAIL_SYSTEM, err, "cannot open the journal in %s: %s", o->state_dir, strerror(-err));
		goto cleanup;
	}
	ji = find_entry(j, patch_path ? real : NULL);
	if (ji < 0) {
		err = fail(res, ULP_FAIL_INPUT, -ENOENT, "no patch%s%s is recorded as applied to pid %d",
			   patch_path ? " " : "", patch_path ? real : "", pid);
		goto cleanup;
	}
	describe(res, &j->p[ji]);
	res->map_lo = j->p[ji].map_lo;
	res->map_hi = j->p[ji].map_hi;
	memfd = open_mem(pid, O_RDONLY);
	if (memfd < 0) {
		err = fail(res, ULP_FAIL_INPUT, -errno, "cannot read pid %d memory: %s", pid, strerror(errno));
		goto cleanup;
	}
	act = actual_state(memfd, &j->p[ji]);
	if (!strcmp(act, "foreign") || !strcmp(act, "unreadable")) {
		err = fail(res, ULP_FAIL_INPUT, -EIO,
			   "the entries patched by %s hold bytes that are neither the saved nor the patched "
			   "ones (%s): refusing to write", j->p[ji].patch, act);
		goto cleanup;
	}
	sp = sym_proc__new(pid);
	err = sp ? ulp_maps_read(pid, &maps, &nmaps) : -errno;
	if (!err)
		err = ulp_find_tramp(sp, maps, nmaps, &tramp);
	if (err) {
		fail(res, ULP_FAIL_SYSTEM, err, "cannot prepare pid %d: %s", pid, strerror(-err));
		goto cleanup;
	}
	snprintf(tmp, sizeof(tmp), "%s", j->p[ji].state);
	snprintf(j->p[ji].state, sizeof(j->p[ji].state), "reverting");
	err = ulp_journal__save(j);
	if (err) {
		fail(res, ULP_FAIL_SYSTEM, err, "cannot write the journal: %s", strerror(-err));
		goto cleanup;
	}
	err = ulp_tset__seize(&ts, pid);
	if (err) {
		fail(res, err == -ESRCH ? ULP_FAIL_GONE : ULP_FAIL_INPUT, err, "cannot trace pid %d: %s", pid,
		     strerror(-err));
		snprintf(j->p[ji].state, sizeof(j->p[ji].state), "%s", tmp);
		ulp_journal__save(j);
		goto cleanup;
	}
	err = build_ranges(&j->p[ji], &rg);
	if (err)
		goto cleanup;
	wc.jp = &j->p[ji];
	wc.to_new = false;
	wc.res = res;
	wc.tramp = tramp;
	wc.unmap_lo = j->p[ji].map_lo;
	wc.unmap_hi = j->p[ji].map_hi;
	res->already = !strcmp(act, "not-applied");
	err = rounds(ts, rg, j->p[ji].nf, deadline_of(o), &wc, res);
	if (err == -EAGAIN) {
		ulp_tset__detach_all(ts);
		name_blockers(pid, res);
		snprintf(j->p[ji].state, sizeof(j->p[ji].state), "%s", tmp);
		ulp_journal__save(j);
		fail(res, ULP_FAIL_WINDOW, err, "no safe window within %.1f s to revert",
		     o->max_wait_s > 0 ? o->max_wait_s : 10.0);
		goto cleanup;
	}
	if (err) {
		fail(res, err == -ESRCH ? ULP_FAIL_GONE : ULP_FAIL_SYSTEM, err, "revert failed: %s", strerror(-err));
		goto cleanup;
	}
	if (res->kept_mapped)
		res->kept_mapped = !unmap_when_free(pid, &wc, deadline_of(o), res);
	if (res->kept_mapped)
		snprintf(j->p[ji].state, sizeof(j->p[ji].state), "reverted-mapped");
	else
		ulp_journal__del(j, ji);
	err = ulp_journal__save(j);
	if (err)
		fail(res, ULP_FAIL_SYSTEM, err, "reverted, but the journal could not be written: %s", strerror(-err));
cleanup:
	if (err == -ESRCH && j) {
		j->np = 0;
		ulp_journal__save(j);
	}
	ulp_tset__free(ts);
	if (memfd >= 0)
		close(memfd);
	free(rg);
	free(wc.mc.m);
	free(maps);
	sym_proc__free(sp);
	ulp_journal__free(j);
	res->total_ns = ulp_now_ns() - t0;
	return err;
}

int ulp_status(int pid, const struct ulp_opts *o, struct ulp_status_ent **out, int *n)
{
	struct ulp_status_ent *v = NULL;
	struct ulp_journal *j = NULL;
	int err, memfd = -1;

	*out = NULL;
	*n = 0;
	err = ulp_journal__open(o->state_dir, pid, false, &j);
	if (err)
		return err;
	memfd = open_mem(pid, O_RDONLY);
	if (memfd < 0) {
		err = -errno;
		goto cleanup;
	}
	v = calloc(j->np ? j->np : 1, sizeof(*v));
	if (!v) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (int i = 0; i < j->np; i++) {
		struct ulp_jpatch *p = &j->p[i];
		struct ulp_result tmp;

		snprintf(v[i].patch, sizeof(v[i].patch), "%s", p->patch);
		snprintf(v[i].journal_state, sizeof(v[i].journal_state), "%s", p->state);
		v[i].actual = actual_state(memfd, p);
		v[i].consistent = (!strcmp(p->state, "applied") && !strcmp(v[i].actual, "applied")) ||
				  (!strcmp(p->state, "reverted-mapped") && !strcmp(v[i].actual, "not-applied"));
		v[i].applied_at = p->applied_at;
		v[i].map_lo = p->map_lo;
		v[i].map_hi = p->map_hi;
		describe(&tmp, p);
		v[i].nfuncs = tmp.nfuncs;
		memcpy(v[i].funcs, tmp.funcs, sizeof(v[i].funcs));
	}
	*out = v;
	*n = j->np;
	v = NULL;
cleanup:
	free(v);
	if (memfd >= 0)
		close(memfd);
	ulp_journal__free(j);
	return err;
}
