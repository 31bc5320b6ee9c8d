// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <elf.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "backend/ulp/ulp_internal.h"
#include "backend/ulp/ulp_journal.h"
#include "backend/ulp/ulp_map.h"
#include "backend/ulp/ulp_patch.h"
#include "backend/ulp/ulp_ptrace.h"
#include "backend/ulp/ulp_seccomp.h"
#include "backend/ulp/ulp_sym.h"
#include "backend/ulp/ulp_x86.h"
#include "lib/clock.h"
#include "lib/procmaps.h"
#include "lib/symbols.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#define ULP_MFD_FLAGS (MFD_CLOEXEC | MFD_ALLOW_SEALING)
#define ULP_MFD_EXEC MFD_EXEC

int ulp_inj_tid(struct ulp_tset *ts)
{
	struct ulp_task *m = ulp_tset__find(ts, ts->pid);

	if (m && !m->late)
		return ts->pid;
	/* the main thread gone, or one that could not be stopped (blocked in vfork): another */
	for (int i = 0; i < ts->n; i++)
		if (!ts->t[i].late)
			return ts->t[i].tid;
	return m ? ts->pid : ts->t[0].tid;
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

int ulp_resolve_relocs(struct sym_proc *sp, int obj, const char *objpath, const struct ulp_patch *p,
		       uint64_t **vals, struct ulp_result *res)
{
	struct ulp_syms *syms = NULL;
	uint64_t *v = NULL;
	int err = 0;

	v = calloc(p->nrelocs ? p->nrelocs : 1, sizeof(*v));
	syms = v ? ulp_syms__new(sp) : NULL;
	if (!syms) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (int i = 0; i < p->nrelocs; i++) {
		const struct ulp_reloc *r = &p->relocs[i];
		bool ifunc = false;

		if (!r->sym || r->defined || r->type == R_X86_64_RELATIVE || r->type == R_X86_64_NONE)
			continue;
		err = ulp_syms__lookup(syms, obj, r->sym, &v[i], &ifunc);
		if (err && r->weak) {
			v[i] = 0;
			err = 0;
			continue;
		}
		if (err) {
			ulp_res_fail(res, ULP_FAIL_INPUT, -ENOENT,
				     "the patch references '%s', which neither %s nor any library of pid %d defines",
				     r->sym, objpath, sym_proc__pid(sp));
			goto cleanup;
		}
		if (ifunc) {
			err = ulp_res_fail(res, ULP_FAIL_INPUT, -ENOTSUP,
					   "the patch references '%s', an IFUNC: patchgate does not run resolvers -- "
					   "call a non-IFUNC wrapper instead", r->sym);
			goto cleanup;
		}
	}
cleanup:
	ulp_syms__free(syms);
	if (err) {
		free(v);
		v = NULL;
	}
	*vals = v;
	return err;
}

int ulp_place(struct sym_proc *sp, const struct ulp_patch *p, const struct ulp_jpatch *jp, uint64_t lo,
	      uint64_t hi, uint64_t *hint, uint64_t *tramp, struct ulp_result *res)
{
	int pid = sym_proc__pid(sp), err;
	struct procmaps *pm = NULL;

	err = procmaps__read(pid, &pm);
	if (err)
		return ulp_res_fail(res, ULP_FAIL_INPUT, err, "cannot read the maps of pid %d", pid);
	*hint = ulp_find_gap(pm, lo, hi, p->span_hi - p->span_lo);
	for (int k = 0; k < jp->nf && !*hint && !err; k++)
		if (jp->f[k].old_size < ULP_JMP_ABS64_LEN)
			err = ulp_res_fail(res, ULP_FAIL_INPUT, -ERANGE,
					   "no free range within reach of a 5-byte jump near '%s', and it is too "
					   "short (%llu bytes) for a 14-byte absolute jump", jp->f[k].old_sym,
					   (unsigned long long)jp->f[k].old_size);
	if (!err) {
		err = ulp_find_tramp(sp, pm, tramp);
		if (err)
			ulp_res_fail(res, ULP_FAIL_SYSTEM, err, "no spare bytes after any text segment of pid %d "
				     "for the injection trampoline", pid);
	}
	procmaps__free(pm);
	return err;
}

/* The segment @s of a patch at @base: its file-backed pages and its anonymous (bss) pages. */
struct seg_span {
	uint64_t va, flen;	/* file pages: [va, va + flen) */
	uint64_t fend;		/* end of the file bytes */
	uint64_t zend, mend;	/* anonymous pages: [zend, mend) */
};

static struct seg_span seg_span(const struct ulp_seg *s, uint64_t base)
{
	struct seg_span v;

	v.va = base + (s->vaddr & ~4095ull);
	v.flen = ((s->vaddr & 4095) + s->filesz + 4095) & ~4095ull;
	v.mend = (base + s->vaddr + s->memsz + 4095) & ~4095ull;
	v.fend = base + s->vaddr + s->filesz;
	v.zend = s->filesz ? (v.fend + 4095) & ~4095ull : v.va;
	return v;
}

/* Map the segments of @p (fd @fd in the target) at @base, bss zeroed. -errno. */
static int map_segments(struct ulp_inject *inj, struct ulp_tset *ts, const struct ulp_patch *p, int64_t fd,
			uint64_t base)
{
	static const uint8_t zero[4096];
	int64_t r;
	int err = 0;

	for (int i = 0; i < p->nsegs && !err; i++) {
		const struct ulp_seg *s = &p->segs[i];
		struct seg_span v = seg_span(s, base);

		if (s->filesz)
			err = inject1(inj, SYS_mmap, v.va, v.flen, (uint64_t)s->prot, MAP_PRIVATE | MAP_FIXED,
				      (uint64_t)fd, s->off & ~4095ull, &r);
		if (!err && s->memsz > s->filesz) {
			if (s->filesz && v.zend > v.fend)
				err = ulp_mem_write(ts, v.fend, zero, v.zend - v.fend);
			if (!err && v.mend > v.zend)
				err = inject1(inj, SYS_mmap, v.zend, v.mend - v.zend, (uint64_t)s->prot,
					      MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, (uint64_t)-1, 0, &r);
		}
	}
	return err;
}

void ulp_map_name(const char *patch_path, char *buf, size_t len)
{
	size_t n = strlen(patch_path), room = ULP_MAP_NAME_MAX - (sizeof(ULP_MAP_NAME_PREFIX) - 1);
	const char *tail = n > room ? patch_path + n - room : patch_path;
	int w = snprintf(buf, len, "%s", ULP_MAP_NAME_PREFIX);

	/* the kernel takes at most 249 bytes of a memfd's name: the path's tail, which names the file */
	if (w > 0 && (size_t)w < len)
		snprintf(buf + w, len - (size_t)w, "%.*s", (int)room, tail);
}

void ulp_map_maps_path(const char *patch_path, char *buf, size_t len)
{
	char name[ULP_MAP_NAME_MAX + 1];

	ulp_map_name(patch_path, name, sizeof(name));
	snprintf(buf, len, "/memfd:%s", name);
}

/* The syscalls map_in injects, as far as they are known before the first one. */
static int plan_calls(const struct ulp_patch *p, uint64_t hint, struct ulp_sc_call *c, int max)
{
	const unsigned int all = ULP_SC_ALL_KNOWN, ptr0 = ULP_SC_ALL_KNOWN & ~1u;
	uint64_t span = p->span_hi - p->span_lo;
	int n = 0;

#define PLAN(nr_, k_, ...)                                                              \
	do {                                                                            \
		if (n < max)                                                            \
			c[n++] = (struct ulp_sc_call){ .nr = nr_, .a = { __VA_ARGS__ }, .known = k_ }; \
	} while (0)
	PLAN(SYS_mmap, all, 0, ULP_SCRATCH_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	     (uint64_t)-1, 0);
	PLAN(SYS_memfd_create, 2, 0, ULP_MFD_FLAGS | ULP_MFD_EXEC);
	PLAN(SYS_memfd_create, 2, 0, ULP_MFD_FLAGS);
	if (hint)
		PLAN(SYS_mmap, all, hint, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		     (uint64_t)-1, 0);
	PLAN(SYS_mmap, all, 0, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0);
	for (int i = 0; i < p->nsegs; i++) {
		const struct ulp_seg *s = &p->segs[i];
		struct seg_span v = seg_span(s, 0);	/* lengths do not depend on the base */

		if (s->filesz)	/* address and fd not known yet */
			PLAN(SYS_mmap, 0x2e, 0, v.flen, (uint64_t)s->prot, MAP_PRIVATE | MAP_FIXED, 0,
			     s->off & ~4095ull);
		if (s->memsz > s->filesz && v.mend > v.zend)
			PLAN(SYS_mmap, ptr0, 0, v.mend - v.zend, (uint64_t)s->prot,
			     MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, (uint64_t)-1, 0);
	}
	PLAN(SYS_close, 0, 0);
	PLAN(SYS_munmap, 2, 0, span);
	PLAN(SYS_munmap, 2, 0, ULP_SCRATCH_LEN);
#undef PLAN
	return n;
}

/*
 * Would every syscall map_in injects pass the thread's seccomp filters?
 * Checked before the first one runs: a filter that kills or traps one
 * of them must refuse the patch, not take the target down half-way.
 */
static int check_seccomp(struct ulp_inject *inj, const struct ulp_patch *p, uint64_t hint,
			 struct ulp_result *res)
{
	struct ulp_sc_call c[8 + 2 * 16];
	int n;

	if (p->nsegs > 16)
		return ulp_res_fail(res, ULP_FAIL_INPUT, -E2BIG, "the patch has %d load segments (16 at most)",
				    p->nsegs);
	n = plan_calls(p, hint, c, (int)(sizeof(c) / sizeof(c[0])));
	for (int i = 0; i < n; i++) {
		bool alt = c[i].nr == SYS_memfd_create && i + 1 < n && c[i + 1].nr == SYS_memfd_create;
		uint64_t ip = ULP_TRAMP_SYSCALL_IP(inj->tramp);

		/* memfd_create: the second flags are tried only when the first fail, one allowed is enough */
		if (alt && !ulp_seccomp__allows(inj->sc, &c[i], ip, inj->why, sizeof(inj->why))) {
			i++;
			continue;
		}
		if (alt)
			i++;
		if (ulp_seccomp__allows(inj->sc, &c[i], ip, inj->why, sizeof(inj->why)))
			return ulp_res_fail(res, ULP_FAIL_INPUT, -EPERM, "refusing to patch pid %d: %s",
					    inj->ts->pid, inj->why);
	}
	inj->why[0] = '\0';
	return 0;
}

/*
 * An anonymous file in the target holding the patch bytes patchgate
 * validated: memfd_create injected (its name from the scratch), the bytes
 * written from here through /proc/PID/fd/N, then sealed so that nobody
 * changes them after (no write, no resize, no new seals; kernels before
 * 5.1 cannot seal a future write: refused there).  *@fd: its number in the target.  -errno with @res.
 */
static int make_memfd(struct ulp_inject *inj, const struct ulp_patch *p, int64_t *fd, struct ulp_result *res)
{
	int pid = inj->ts->pid, ours = -1, err;
	char name[ULP_MAP_NAME_MAX + 1], fn[64];
	uint64_t done = 0;
	struct stat st;

	ulp_map_name(p->path, name, sizeof(name));
	err = ulp_mem_write(inj->ts, inj->scratch, name, strlen(name) + 1);
	if (!err)
		err = inject1(inj, SYS_memfd_create, inj->scratch, ULP_MFD_FLAGS | ULP_MFD_EXEC, 0, 0, 0, 0, fd);
	if (err == -EINVAL || err == -EPERM)	/* before 6.3: no MFD_EXEC, memfds are executable */
		err = inject1(inj, SYS_memfd_create, inj->scratch, ULP_MFD_FLAGS, 0, 0, 0, 0, fd);
	if (err)
		return ulp_res_fail(res, err == -ESRCH ? ULP_FAIL_GONE : ULP_FAIL_INPUT, err,
				    "the patch cannot be made visible to pid %d: memfd_create in the target failed: %s",
				    pid, err == -EPERM && inj->why[0] ? inj->why : strerror(-err));
	snprintf(fn, sizeof(fn), "/proc/%d/fd/%lld", procmaps__view_pid(pid), (long long)*fd);
	ours = open(fn, O_RDWR | O_CLOEXEC);
	if (ours < 0 || fstat(ours, &st) || st.st_size != 0) {
		err = ours < 0 ? -errno : -EEXIST;
		goto cleanup;
	}
	while (done < p->size) {
		ssize_t w = pwrite(ours, p->image + done, p->size - done, (off_t)done);

		if (w <= 0) {
			err = w < 0 ? -errno : -EIO;
			goto cleanup;
		}
		done += (uint64_t)w;
	}
	/*
	 * FUTURE_WRITE, not WRITE: sealing WRITE waits for the pages just
	 * written to leave the per-CPU LRU caches (lru_add_drain_all), up to
	 * hundreds of ms on a loaded machine, with the thread stopped.
	 */
	if (fcntl(ours, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL))
		err = -errno;
cleanup:
	if (ours >= 0)
		close(ours);
	if (err)
		ulp_res_fail(res, ULP_FAIL_INPUT, err, "the patch cannot be made visible to pid %d: writing its "
			     "bytes into the target's memfd %s failed: %s", pid, fn, strerror(-err));
	return err;
}

/*
 * After mapping: every file byte of every segment reads back, through
 * the target's own memory, as the validated image holds it.  -EIO with
 * @res set on any difference.
 */
static int verify_mapped(struct ulp_tset *ts, const struct ulp_patch *p, uint64_t base, struct ulp_result *res)
{
	uint8_t buf[4096];

	for (int i = 0; i < p->nsegs; i++) {
		const struct ulp_seg *s = &p->segs[i];

		for (uint64_t o = 0; o < s->filesz; o += sizeof(buf)) {
			size_t n = s->filesz - o < sizeof(buf) ? s->filesz - o : sizeof(buf);
			int err = ulp_mem_read(ts, base + s->vaddr + o, buf, n);

			if (err || memcmp(buf, p->image + s->off + o, n))
				return ulp_res_fail(res, ULP_FAIL_INPUT, -EIO,
						    "the patch mapped into pid %d does not read back as the bytes "
						    "patchgate validated (segment %d, offset %llu): refusing it", ts->pid,
						    i, (unsigned long long)(s->off + o));
		}
	}
	return 0;
}

/*
 * Map @p into the stopped thread @tid, as the dynamic loader would
 * (reserve the span, then each PT_LOAD MAP_FIXED, bss zeroed), at @hint
 * when it is free, from a memfd holding the validated bytes: never by
 * path, which the target resolves in its own root and mount namespace.
 * *base = runtime address of link address 0.
 */
/*
 * An injected mmap failed.  Refused by the target's own limits (RLIMIT_AS,
 * a memory cgroup, an LSM): the target's environment, nothing changed, exit
 * 1 as for any untraceable target; anything else is a system error.
 */
static int mmap_failed(struct ulp_result *res, int pid, int err)
{
	if (err == -ENOMEM || err == -EPERM || err == -EACCES || err == -EAGAIN)
		return ulp_res_fail(res, ULP_FAIL_INPUT, err, "pid %d cannot map the patch: mmap in the target failed: "
				    "%s (its RLIMIT_AS, a memory cgroup or an LSM?); nothing changed", pid,
				    strerror(-err));
	return ulp_res_fail(res, ULP_FAIL_SYSTEM, err, "mmap in the target failed: %s", strerror(-err));
}

static int map_in(struct ulp_tset *ts, int tid, uint64_t tramp, const struct ulp_patch *p, uint64_t hint,
		  uint64_t *base, struct ulp_result *res)
{
	uint64_t span = p->span_hi - p->span_lo, at = 0;
	struct ulp_inject inj;
	int64_t fd = -1, r;
	int err;

	err = ulp_inject__begin(&inj, ts, tid, tramp);
	if (err == -EPERM)
		return ulp_res_fail(res, ULP_FAIL_INPUT, err, "refusing to patch pid %d: %s", ts->pid, inj.why);
	if (err)
		return ulp_res_fail(res, ULP_FAIL_SYSTEM, err, "cannot prepare injection in tid %d: %s", tid,
				    strerror(-err));
	err = check_seccomp(&inj, p, hint, res);
	if (err)
		goto out;
	err = ulp_inject__scratch(&inj);
	if (err) {
		mmap_failed(res, ts->pid, err);
		goto out;
	}
	err = make_memfd(&inj, p, &fd, res);
	if (err)
		goto out;
	err = inject1(&inj, SYS_mmap, hint, span, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | (hint ? MAP_FIXED_NOREPLACE : 0), (uint64_t)-1, 0, &r);
	if (err && hint)
		err = inject1(&inj, SYS_mmap, 0, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0,
			      &r);
	if (err) {
		mmap_failed(res, ts->pid, err);
		goto out;
	}
	at = (uint64_t)r;
	*base = at - p->span_lo;
	err = map_segments(&inj, ts, p, fd, *base);
	if (err) {
		/* an executable mapping refused (noexec policy, LSM): the patch cannot run there */
		ulp_res_fail(res, err == -EPERM || err == -EACCES ? ULP_FAIL_INPUT : ULP_FAIL_SYSTEM, err,
			     "the patch cannot be made visible to pid %d: mapping it failed: %s", ts->pid,
			     err == -EPERM && inj.why[0] ? inj.why : strerror(-err));
		goto out;
	}
	err = verify_mapped(ts, p, *base, res);
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

int ulp_map_patch(struct ulp_tset *ts, uint64_t tramp, const struct ulp_patch *p, uint64_t hint,
		  uint64_t *base, struct ulp_result *res)
{
	uint64_t ti = pg_mono_ns();
	int tid = ulp_inj_tid(ts), err;

	err = ulp_tset__stop_one(ts, tid);
	if (!err) {
		err = map_in(ts, tid, tramp, p, hint, base, res);
		if (err == -ETIMEDOUT)
			ulp_res_fail(res, ULP_FAIL_SYSTEM, err, "thread %d: waited %.0f s for %s, in vain", tid,
				     (double)ts->inj_wait_ns / 1e9, ts->waited);
	} else if (err == -ETIMEDOUT) {
		char late[256];

		ulp_tset__describe_late(ts, late, sizeof(late));
		ulp_res_fail(res, ULP_FAIL_WINDOW, err, "no safe window within %.1f s: %s could not be stopped "
			     "(waited for %s); nothing applied", ts->max_wait_s, late, ts->waited);
	} else {
		ulp_res_fail(res, ULP_FAIL_GONE, err, "pid %d exited", ts->pid);
	}
	res->inject_ns = pg_mono_ns() - ti;
	if (!err)
		ulp_tset__cont_all(ts);
	return err;
}

int ulp_relocate(struct ulp_tset *ts, const struct ulp_patch *p, const uint64_t *vals, uint64_t base)
{
	int err = 0;

	for (int i = 0; i < p->nrelocs && !err; i++) {
		const struct ulp_reloc *r = &p->relocs[i];
		uint64_t v, S = r->defined ? base + r->sym_value : vals[i];

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
	return err;
}

int ulp_unmap_patch(struct ulp_tset *ts, const struct procmaps *pm, uint64_t tramp, uint64_t lo, uint64_t hi,
		    const char *path)
{
	char mfd[ULP_MAP_NAME_MAX + 16];
	struct procmaps *own = NULL;
	struct ulp_inject inj;
	bool ours = false;
	int64_t r;
	int err;

	if (!pm) {
		err = procmaps__read(ts->pid, &own);
		if (err)
			return err;
		pm = own;
	}
	/*
	 * Only our memfd counts ("/memfd:patchgate:PATH (deleted)"), or the
	 * file itself for a patch mapped by path before memfds; a file
	 * deleted since does not.
	 */
	ulp_map_maps_path(path, mfd, sizeof(mfd));
	for (int i = 0; i < pm->n; i++)
		if (pm->m[i].start >= lo && pm->m[i].end <= hi &&
		    ((pm->m[i].deleted && !strcmp(pm->m[i].path, mfd)) ||
		     (!pm->m[i].deleted && !strcmp(pm->m[i].path, path))))
			ours = true;
	procmaps__free(own);
	if (!ours)
		return 0;
	err = ulp_inject__begin(&inj, ts, ulp_inj_tid(ts), tramp);
	if (err)
		return err;
	err = inject1(&inj, SYS_munmap, lo, hi - lo, 0, 0, 0, 0, &r);
	ulp_inject__end(&inj);
	return err;
}
