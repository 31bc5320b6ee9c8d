// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pg_ulp_ops: the ulp backend (ulp.h) behind the one backend interface.
 * open validates what ulp_apply would refuse, so that a gated apply does
 * not wait for a baseline first (ulp_apply checks all of it again);
 * apply and revert wrap ulp_apply / ulp_revert; a process patch has no
 * transition; health is the process's pidfd.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "backend/backend.h"
#include "backend/ulp/ulp.h"
#include "backend/ulp/ulp_patch.h"
#include "backend/ulp/ulp_validate.h"
#include "lib/procmaps.h"
#include "lib/symbols.h"

#define ULP_REVERT_LOOKUP_MAX	1024	/* processes listed by status of every pid */

struct pg_backend {
	struct pg_backend_opts o;
	char patch_real[PATH_MAX];	/* "" when reverting the newest */
	struct ulp_patch *patch;	/* NULL when reverting the newest */
	int pidfd;
};

static enum pg_be_fail fail_of(enum ulp_fail f)
{
	switch (f) {
	case ULP_OK:
		return PG_BE_OK;
	case ULP_FAIL_INPUT:
		return PG_BE_INPUT;
	case ULP_FAIL_WINDOW:
		return PG_BE_NO_WINDOW;
	case ULP_FAIL_GONE:
		return PG_BE_GONE;
	default:
		return PG_BE_SYSTEM;
	}
}

/* "old@0x.. -> new@0x.. (rel32)" -> func "old", the whole string as the jump. */
static void func_of_jump(struct pg_patch_func *f, const char *object, const char *jump)
{
	size_t n = strcspn(jump, "@ ");

	memset(f, 0, sizeof(*f));
	snprintf(f->object, sizeof(f->object), "%s", object);
	snprintf(f->func, sizeof(f->func), "%.*s", (int)(n < sizeof(f->func) ? n : sizeof(f->func) - 1),
		 jump);
	snprintf(f->jump, sizeof(f->jump), "%s", jump);
}

/* The target object a patch file names ("" = main executable, or unreadable). */
static void patch_object(const char *path, char *obj, size_t len)
{
	struct ulp_patch *p = NULL;
	char err[256];

	obj[0] = '\0';
	if (!ulp_patch__open(path, &p, err, sizeof(err)))
		snprintf(obj, len, "%s", p->object);
	ulp_patch__free(p);
}

/* Copy what ulp_apply / ulp_revert said into @r. */
static void result_of(struct pg_be_result *r, const struct ulp_result *u, int pid, const char *object)
{
	r->fail = fail_of(u->fail);
	if (u->fail != ULP_OK)
		snprintf(r->msg, sizeof(r->msg), "%s", u->msg);
	snprintf(r->note, sizeof(r->note), "%s", u->note);
	snprintf(r->sha256, sizeof(r->sha256), "%s", u->sha256);
	snprintf(r->build_id, sizeof(r->build_id), "%s", u->build_id);
	r->file_changed = u->file_changed;
	r->already = u->already;
	r->kept_mapped = u->kept_mapped;
	r->nthreads = u->nthreads;
	r->rounds = u->rounds;
	r->pause_ns = u->pause_ns;
	r->max_pause_ns = u->max_pause_ns;
	r->inject_ns = u->inject_ns;
	r->stop_ns = u->stop_ns;
	r->scan_ns = u->scan_ns;
	r->write_ns = u->write_ns;
	r->resume_ns = u->resume_ns;
	r->total_ns = u->total_ns;
	r->map_lo = u->map_lo;
	r->map_hi = u->map_hi;
	r->nfuncs = u->nfuncs < 0 ? 0 : (unsigned int)u->nfuncs;
	for (unsigned int i = 0; i < r->nfuncs; i++)
		func_of_jump(&r->funcs[i], object, u->funcs[i]);
	r->ninside = u->nblockers < 0 ? 0 : (unsigned int)u->nblockers;
	if (r->ninside > PG_BE_MAX_INSIDE)
		r->ninside = PG_BE_MAX_INSIDE;
	for (unsigned int i = 0; i < r->ninside; i++) {
		r->inside[i] = u->blockers[i];
		r->inside[i].pid = pid;
	}
}

static int check_pid(int pid, struct pg_be_result *r)
{
	struct stat a, b;
	char path[64];

	if (pid <= 0 || (kill(pid, 0) && errno == ESRCH))
		return pg_be_fail(r, PG_BE_INPUT, -ESRCH, "no process with pid %d", pid);
	snprintf(path, sizeof(path), "/proc/%d/exe", pid > 0 ? procmaps__view_pid(pid) : pid);
	if (pid == getpid() || (!stat(path, &a) && !stat("/proc/self/exe", &b) && a.st_dev == b.st_dev &&
				a.st_ino == b.st_ino))
		return pg_be_fail(r, PG_BE_INPUT, -EINVAL, "pid %d is patchgate itself: refusing to patch it", pid);
	if (access(path, F_OK) && errno != EACCES)
		return pg_be_fail(r, PG_BE_INPUT, -EINVAL, "pid %d has no executable (a kernel thread?)", pid);
	return 0;
}

/*
 * What ulp_apply refuses before it stops anything, refused at open: the
 * object mapped, its build-id, every old function found and long enough
 * for the jump.  Messages as ulp_apply's.
 */
static int check_target(struct pg_backend *b, struct pg_be_result *r)
{
	const struct ulp_patch *p = b->patch;
	struct sym_proc *sp = sym_proc__new(b->o.pid);
	const char *objpath = NULL, *objopen = NULL;
	int e = 0;

	if (!sp)
		return pg_be_fail(r, PG_BE_INPUT, -errno, "cannot read the mappings of pid %d: %s", b->o.pid,
			       strerror(errno));
	for (int i = 0; i < sym_proc__nobjs(sp) && !objpath; i++)
		if (!p->object[0] || ulp_obj_name_matches(sym_proc__obj_path(sp, i), p->object)) {
			objpath = sym_proc__obj_path(sp, i);
			objopen = sym_proc__obj_open_path(sp, i);
		}
	if (!objpath) {
		e = pg_be_fail(r, PG_BE_INPUT, -ENOENT, "the patch is for %s, which pid %d does not map",
			    p->object, b->o.pid);
		goto cleanup;
	}
	if (p->target_build_id[0]) {
		char hex[128] = "";

		sym_elf_build_id(objopen, hex, sizeof(hex));
		if (strcasecmp(hex, p->target_build_id)) {
			e = pg_be_fail(r, PG_BE_INPUT, -ESTALE,
				    "build-id mismatch: the patch is for %s build-id %s, pid %d maps build-id %s",
				    objpath, p->target_build_id, b->o.pid, hex[0] ? hex : "(none)");
			goto cleanup;
		}
	}
	for (int k = 0; k < p->nfuncs && !e; k++) {
		char spec[4400], why[512] = "";
		struct sym_func sf;

		snprintf(spec, sizeof(spec), "%s:%s", objpath, p->funcs[k].old_sym);
		if (sym_proc__resolve(sp, spec, &sf, why, sizeof(why)))
			e = pg_be_fail(r, PG_BE_INPUT, -ENOENT, "cannot find '%s' in %s: %s",
				    p->funcs[k].old_sym, objpath, why);
		else if (sf.size && sf.size < 5)
			e = pg_be_fail(r, PG_BE_INPUT, -ERANGE,
				    "'%s' is %llu bytes long, shorter than a 5-byte jump: it cannot be replaced",
				    sf.name, (unsigned long long)sf.size);
	}
cleanup:
	sym_proc__free(sp);
	return e;
}

static void ulp_close(struct pg_backend *b)
{
	if (!b)
		return;
	ulp_patch__free(b->patch);
	if (b->pidfd >= 0)
		close(b->pidfd);
	free(b);
}

static int ulp_open(const struct pg_backend_opts *o, struct pg_backend **out, struct pg_be_result *r)
{
	struct pg_backend *b;
	char err[1024];
	int e;

	memset(r, 0, sizeof(*r));
	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return pg_be_fail(r, PG_BE_SYSTEM, -ENOMEM, "out of memory");
	b->o = *o;
	b->pidfd = -1;
	e = check_pid(o->pid, r);
	if (e)
		goto fail;
	if (o->patch && !realpath(o->patch, b->patch_real)) {
		/* revert by name of a patch whose file is gone: the journal knows it */
		if (!o->for_revert) {
			e = pg_be_fail(r, PG_BE_INPUT, -errno, "%s: %s", o->patch, strerror(errno));
			goto fail;
		}
		snprintf(b->patch_real, sizeof(b->patch_real), "%s", o->patch);
	}
	snprintf(r->name, sizeof(r->name), "%s", o->patch ? o->patch : "");
	if (!o->for_revert) {
		struct ulp_opts uo = { .trust = o->trust };
		struct ulp_result *u = calloc(1, sizeof(*u));

		/* permissions, digest and signature: refused here, before a gate's baseline */
		e = u ? ulp_validate_trust(b->patch_real, &uo, r->sha256, u) : -ENOMEM;
		if (e) {
			pg_be_fail(r, u ? fail_of(u->fail) : PG_BE_SYSTEM, e, "%s", u ? u->msg : "out of memory");
			free(u);
			goto fail;
		}
		free(u);
		e = ulp_patch__open(b->patch_real, &b->patch, err, sizeof(err));
		if (e) {
			pg_be_fail(r, PG_BE_INPUT, e, "%s", err);
			goto fail;
		}
		if (b->patch->nfuncs <= 0 || b->patch->nfuncs > PG_MAX_FUNCS) {
			e = pg_be_fail(r, PG_BE_INPUT, -E2BIG, "%s replaces %d functions (1 to %d supported)",
				    o->patch, b->patch->nfuncs, PG_MAX_FUNCS);
			goto fail;
		}
		snprintf(r->build_id, sizeof(r->build_id), "%s", b->patch->build_id);
		e = check_target(b, r);
		if (e)
			goto fail;
	}
	b->pidfd = (int)syscall(SYS_pidfd_open, o->pid, 0);
	if (b->pidfd < 0) {
		e = pg_be_fail(r, PG_BE_INPUT, -errno, "pid %d: %s", o->pid, strerror(errno));
		goto fail;
	}
	*out = b;
	return 0;
fail:
	ulp_close(b);
	return e;
}

static int ulp_functions(struct pg_backend *b, struct pg_patch_func *f, unsigned int max)
{
	unsigned int n = 0;

	for (int i = 0; b->patch && i < b->patch->nfuncs && n < max; i++, n++) {
		memset(&f[n], 0, sizeof(f[n]));
		snprintf(f[n].object, sizeof(f[n].object), "%s", b->patch->object);
		snprintf(f[n].func, sizeof(f[n].func), "%s", b->patch->funcs[i].old_sym);
	}
	return (int)n;
}

static int ulp_apply_op(struct pg_backend *b, struct pg_be_result *r)
{
	struct ulp_opts uo = { .state_dir = b->o.state_dir, .max_wait_s = b->o.max_wait_s, .trust = b->o.trust };
	struct ulp_result u;
	int e;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", b->o.patch);
	e = ulp_apply(b->o.pid, b->patch_real, &uo, &u);
	result_of(r, &u, b->o.pid, b->patch->object);
	/* the jumps are written together or not at all: a failed apply leaves nothing */
	r->partial = false;
	return e;
}

/* A process patch switches every thread at once: the transition is over at apply. */
static int ulp_transition(struct pg_backend *b, struct pg_progress *p, struct pg_inside *s,
			  unsigned int max, struct pg_be_result *r)
{
	(void)b;
	(void)s;
	(void)max;
	(void)r;
	*p = (struct pg_progress){ .done = true, .enabled = true };
	return 0;
}

static int ulp_revert_op(struct pg_backend *b, double timeout_s, struct pg_be_result *r)
{
	struct ulp_opts uo = { .state_dir = b->o.state_dir, .max_wait_s = timeout_s };
	char object[PG_PATCH_NAME_MAX] = "";
	struct ulp_result u;
	int e;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", b->o.patch ? b->o.patch : "");
	e = ulp_revert(b->o.pid, b->patch_real[0] ? b->patch_real : NULL, &uo, &u);
	if (b->patch)
		snprintf(object, sizeof(object), "%s", b->patch->object);
	else if (b->patch_real[0])
		patch_object(b->patch_real, object, sizeof(object));
	result_of(r, &u, b->o.pid, object);
	return e;
}

/* Append the journal's patches of @pid to *v (*n of *cap). */
static int status_pid(const struct pg_backend_opts *o, int pid, struct pg_patch_status **v, int *n,
		      int *cap)
{
	struct ulp_opts uo = { .state_dir = o->state_dir };
	struct ulp_status_ent *e = NULL;
	int ne = 0, err;

	err = ulp_status(pid, &uo, &e, &ne);
	if (err)
		return err;
	if (*n + ne > *cap) {
		struct pg_patch_status *p = realloc(*v, (size_t)(*n + ne) * sizeof(*p));

		if (!p) {
			free(e);
			return -ENOMEM;
		}
		*v = p;
		*cap = *n + ne;
	}
	for (int i = 0; i < ne; i++) {
		struct pg_patch_status *s = &(*v)[(*n)++];
		char object[PG_PATCH_NAME_MAX];

		memset(s, 0, sizeof(*s));
		s->pid = pid;
		snprintf(s->patch, sizeof(s->patch), "%s", e[i].patch);
		snprintf(s->journal_state, sizeof(s->journal_state), "%s", e[i].journal_state);
		s->actual = e[i].actual;
		s->consistent = e[i].consistent;
		snprintf(s->sha256, sizeof(s->sha256), "%s", e[i].sha256);
		snprintf(s->build_id, sizeof(s->build_id), "%s", e[i].build_id);
		s->file_changed = e[i].file_changed;
		s->applied_at = e[i].applied_at;
		s->map_lo = e[i].map_lo;
		s->map_hi = e[i].map_hi;
		s->enabled = !strcmp(e[i].actual, "applied");
		patch_object(e[i].patch, object, sizeof(object));
		s->nfuncs = e[i].nfuncs < 0 ? 0 : (unsigned int)e[i].nfuncs;
		for (unsigned int k = 0; k < s->nfuncs; k++)
			func_of_jump(&s->funcs[k], object, e[i].funcs[k]);
	}
	free(e);
	return 0;
}

/*
 * The journal's patches of o->pid, or with pid 0 of every live process
 * that has a journal (ulp-PID-START.json) in the state directory.
 */
static int ulp_status_op(const struct pg_backend_opts *o, struct pg_patch_status **out, int *n,
			 struct pg_be_result *r)
{
	int listed[ULP_REVERT_LOOKUP_MAX], nlisted = 0, cap = 0, e = 0;
	struct dirent *de;
	DIR *d;

	memset(r, 0, sizeof(*r));
	*out = NULL;
	*n = 0;
	if (o->pid) {
		e = status_pid(o, o->pid, out, n, &cap);
		if (e == -ESRCH)
			return pg_be_fail(r, PG_BE_INPUT, e, "pid %d: no such process", o->pid);
		if (e)
			return pg_be_fail(r, PG_BE_SYSTEM, e, "pid %d: %s", o->pid, strerror(-e));
		return 0;
	}
	d = opendir(o->state_dir);
	if (!d)
		return 0;	/* no journal at all */
	while ((de = readdir(d))) {
		unsigned long long st;
		int pid, end = 0;
		bool seen = false;

		if (sscanf(de->d_name, "ulp-%d-%llu.json%n", &pid, &st, &end) != 2 || !end ||
		    de->d_name[end])
			continue;
		for (int i = 0; i < nlisted; i++)
			seen |= listed[i] == pid;
		if (seen || kill(pid, 0))
			continue;	/* listed already, or a process gone since */
		if (nlisted < ULP_REVERT_LOOKUP_MAX)
			listed[nlisted++] = pid;
		e = status_pid(o, pid, out, n, &cap);
		if (e == -ESRCH)
			e = 0;		/* gone meanwhile */
		if (e)
			break;
	}
	closedir(d);
	if (e)
		return pg_be_fail(r, PG_BE_SYSTEM, e, "cannot read the journals in %s: %s", o->state_dir,
			       strerror(-e));
	return 0;
}

static int ulp_health(struct pg_backend *b, struct pg_health *h)
{
	struct pollfd p = { .fd = b->pidfd, .events = POLLIN };
	siginfo_t si = {};

	memset(h, 0, sizeof(*h));
	if (poll(&p, 1, 0) <= 0)
		return 0;
	h->died = true;
	/* our own child only (tests); anyone else's status is not ours to reap */
	if (!waitid(P_PIDFD, (id_t)b->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid)
		h->status = si.si_status;
	return 0;
}

const struct pg_backend_ops pg_ulp_ops = {
	.name = "ulp",
	.kind = PG_BE_ULP,
	.open = ulp_open,
	.functions = ulp_functions,
	.apply = ulp_apply_op,
	.transition = ulp_transition,
	.revert = ulp_revert_op,
	.status = ulp_status_op,
	.health = ulp_health,
	.close = ulp_close,
};
