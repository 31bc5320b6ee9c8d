// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A process as a probe target: functions resolved through the ELF symbols
 * of its mappings (lib/symbols.c), probes by the uprobe engine _impl
 * (probe_uprobe.c), residency by a libdw unwind of every thread (ustack.c).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "lib/procmaps.h"
#include "probe/probe_impl.h"
#include "probe/ustack.h"

#define USTACK_MAX_HITS 65536

/*
 * A live process that is not patchgate itself; then a pidfd, opened
 * before any probe is attached so that an exit in between is still seen.
 */
static int ptarget_open(struct probe_target *t, char *err, size_t errlen)
{
	char path[64];

	if (t->pid == getpid()) {
		snprintf(err, errlen, "pid %d is patchgate itself", t->pid);
		return -EINVAL;
	}
	if (kill(t->pid, 0) && errno == ESRCH) {
		snprintf(err, errlen, "no process with pid %d", t->pid);
		return -ESRCH;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", procmaps__view_pid(t->pid));
	if (access(path, F_OK) && errno != EACCES) {
		snprintf(err, errlen, "pid %d has no executable (a kernel thread?)", t->pid);
		return -EINVAL;
	}
	t->exit_fd = (int)syscall(SYS_pidfd_open, t->pid, 0);
	if (t->exit_fd < 0) {
		int e = -errno;

		snprintf(err, errlen, "pid %d: %s", t->pid, strerror(-e));
		return e == -ESRCH ? -ESRCH : e;
	}
	return 0;
}

static void ptarget_close(struct probe_target *t)
{
	sym_proc__free(t->priv);
	t->priv = NULL;
}

/* The mappings' symbols, read at the first use and again after probe_target__rescan(). */
static struct sym_proc *ptarget_syms(struct probe_target *t, char *err, size_t errlen)
{
	if (!t->priv) {
		t->priv = sym_proc__new(t->pid);
		if (!t->priv)
			snprintf(err, errlen, "cannot read the mappings of pid %d: %s", t->pid,
				 strerror(errno));
	}
	return t->priv;
}

static int ptarget_resolve(struct probe_target *t, const char *spec, struct probe_func *f,
			   char *err, size_t errlen)
{
	struct sym_proc *sp = ptarget_syms(t, err, errlen);

	if (!sp)
		return -ESRCH;
	return sym_proc__resolve(sp, spec, &f->sym, err, errlen);
}

/* The executable mappings of @object (a path) in the process, as one range. */
static int ptarget_object_code(struct probe_target *t, const char *object, struct probe_func *out,
			       int max, char *err, size_t errlen)
{
	char path[64], line[PATH_MAX + 256], perms[8], file[PATH_MAX];
	unsigned long long lo, hi, start = 0, end = 0;
	const char *base;
	FILE *f;

	if (max < 1)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/maps", procmaps__view_pid(t->pid));
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read the mappings of pid %d: %s", t->pid, strerror(errno));
		return -ESRCH;
	}
	while (fgets(line, sizeof(line), f)) {
		file[0] = '\0';
		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %4095[^\n]", &lo, &hi, perms, file) < 3 ||
		    !strchr(perms, 'x') || strcmp(file, object))
			continue;
		if (!start || lo < start)
			start = lo;
		if (hi > end)
			end = hi;
	}
	fclose(f);
	if (!start) {
		snprintf(err, errlen, "pid %d has no code mapped from %s", t->pid, object);
		return -ENOENT;
	}
	base = strrchr(object, '/') ? strrchr(object, '/') + 1 : object;
	snprintf(out->sym.name, sizeof(out->sym.name), "%s", base);
	snprintf(out->sym.object, sizeof(out->sym.object), "%s", object);
	out->sym.addr = start;
	out->sym.size = end - start;
	out->whole_object = true;
	return 1;
}

const struct probe_target_impl probe_process_target = {
	.open = ptarget_open,
	.resolve = ptarget_resolve,
	.object_code = ptarget_object_code,
	.rescan = ptarget_close,
	.close = ptarget_close,
	.engine = &probe_uprobe_impl,
	.resid = &probe_ustack_resid,
};

/* ---- residency: a libdw unwind of every thread ---------------------------- */

static int ustack_open_impl(struct probe_resid *r, const struct probe_func *funcs, int n, char *err,
			    size_t errlen)
{
	(void)funcs;
	(void)n;
	(void)err;
	(void)errlen;
	r->priv = NULL;		/* each scan unwinds afresh */
	return 0;
}

static int ustack_scan_impl(struct probe_resid *r, struct pg_inside *out, int max, uint64_t *walked,
			    char *err, size_t errlen)
{
	struct ustack_range ranges[PG_MAX_FUNCS];
	struct ustack_hit *hits;
	int n, cap = max > 0 ? max : 1;

	(void)walked;
	if (cap > USTACK_MAX_HITS)
		cap = USTACK_MAX_HITS;
	hits = calloc(cap, sizeof(*hits));
	if (!hits) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < r->n; i++) {
		const struct sym_func *s = &r->funcs[i].sym;

		ranges[i].start = s->addr;
		/* a symbol without a size covers at least its first instruction */
		ranges[i].end = s->addr + (s->size ? s->size : 1);
		ranges[i].by_symbol = r->funcs[i].whole_object;
	}
	n = ustack_scan(probe_target__pid(r->target), ranges, r->n, hits, cap, err, errlen);
	for (int i = 0; i < n && i < max; i++) {
		const struct ustack_hit *h = &hits[i];
		struct pg_inside *b = &out[i];

		memset(b, 0, sizeof(*b));
		b->pid = probe_target__pid(r->target);
		b->tid = h->tid;
		snprintf(b->comm, sizeof(b->comm), "%s", h->comm);
		snprintf(b->func, sizeof(b->func), "%.63s",
			 h->sym[0] ? h->sym : r->funcs[h->func].sym.name);
		/* "S": blocked in a system call inside the function; "R": running its code */
		snprintf(b->state, sizeof(b->state), "%s", h->in_syscall ? "S" : "R");
		b->flags = (h->in_syscall ? PG_INSIDE_IN_SYSCALL : 0) | (h->frame == 0 ? PG_INSIDE_AT_PC : 0);
	}
	free(hits);
	return n;
}

static void ustack_close_impl(struct probe_resid *r)
{
	(void)r;
}

const struct probe_resid_impl probe_ustack_resid = {
	.open = ustack_open_impl,
	.scan = ustack_scan_impl,
	.close = ustack_close_impl,
	/*
	 * A process's apply stops every thread and retries until no stack
	 * refers to a replaced function: a thread passing through does not
	 * block, one seen in two scans while sleeping or five while running
	 * does.
	 */
	.confirm_sleeping = 2,
	.confirm_running = 5,
};
