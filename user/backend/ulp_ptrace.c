// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Thread set and syscall injection for the ulp backend.
 *
 * Why the trampoline: a ptrace tracer that dies releases its tracees
 * wherever they are, with whatever registers it last set.  An injector
 * that parks a thread on a bare "syscall" instruction would, if killed,
 * let the thread run on from there with clobbered registers.  Ours parks
 * it on code that restores the thread's own registers from a frame on its
 * stack and jumps back, so SIGKILL of patchgate never corrupts a thread.
 */
#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "backend/ulp_ptrace.h"

uint64_t ulp_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Waking a thread (interrupt, resume) lets it preempt us on a small
 * machine, so loops that wake many run under SCHED_FIFO when allowed;
 * waiting for stops does not (each stop would switch to us at once).
 */
static int fifo_on(struct sched_param *old)
{
	struct sched_param p = { .sched_priority = 1 };
	int policy = sched_getscheduler(0);

	sched_getparam(0, old);
	if (policy == SCHED_FIFO || sched_setscheduler(0, SCHED_FIFO, &p))
		return -1;
	return policy;
}

static void fifo_off(int policy, const struct sched_param *old)
{
	if (policy >= 0)
		sched_setscheduler(0, policy, old);
}

struct ulp_task *ulp_tset__find(struct ulp_tset *ts, int tid)
{
	for (int i = 0; i < ts->n; i++)
		if (ts->t[i].tid == tid)
			return &ts->t[i];
	return NULL;
}

static struct ulp_task *task_add(struct ulp_tset *ts, int tid)
{
	struct ulp_task *t = ulp_tset__find(ts, tid);

	if (t)
		return t;
	if (ts->n == ts->cap) {
		int cap = ts->cap ? ts->cap * 2 : 64;
		struct ulp_task *nt = realloc(ts->t, cap * sizeof(*nt));

		if (!nt)
			return NULL;
		ts->t = nt;
		ts->cap = cap;
	}
	t = &ts->t[ts->n++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	return t;
}

static void task_del(struct ulp_tset *ts, int tid)
{
	for (int i = 0; i < ts->n; i++) {
		if (ts->t[i].tid == tid) {
			ts->t[i] = ts->t[--ts->n];
			return;
		}
	}
}

/* Thread ids of @pid now; caller frees.  -errno. */
static int list_tids(int pid, int **out, int *nout)
{
	char path[64];
	struct dirent *de;
	int *v = NULL, n = 0, cap = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		int tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		if (n == cap) {
			int *nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = tid;
	}
	closedir(d);
	*out = v;
	*nout = n;
	return n ? 0 : -ESRCH;
}

static int tracer_of(int tid)
{
	char fn[64], line[128];
	int tracer = -1;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/status", tid);
	f = fopen(fn, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

int ulp_tset__seize(struct ulp_tset **out, int pid)
{
	const long opts = PTRACE_O_TRACECLONE | PTRACE_O_TRACESYSGOOD;
	struct ulp_tset *ts;
	char path[64];
	int err = 0, added;

	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return -ENOMEM;
	ts->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	ts->memfd = open(path, O_RDWR | O_CLOEXEC);
	if (ts->memfd < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto cleanup;
	}
	/* threads created by not-yet-seized threads escape TRACECLONE: rescan */
	do {
		int *tids = NULL, n = 0;

		added = 0;
		err = list_tids(pid, &tids, &n);
		if (err)
			goto cleanup;
		for (int i = 0; i < n; i++) {
			if (ulp_tset__find(ts, tids[i]))
				continue;
			if (ptrace(PTRACE_SEIZE, tids[i], 0, opts)) {
				if (errno == ESRCH)	/* exited meanwhile */
					continue;
				/* born to a seized thread: already ours through TRACECLONE */
				if (errno == EPERM && tracer_of(tids[i]) == getpid()) {
					if (!task_add(ts, tids[i])) {
						err = -ENOMEM;
						free(tids);
						goto cleanup;
					}
					added++;
					continue;
				}
				err = -errno;
				free(tids);
				goto cleanup;
			}
			if (!task_add(ts, tids[i])) {
				err = -ENOMEM;
				free(tids);
				goto cleanup;
			}
			added++;
		}
		free(tids);
	} while (added);
	if (!ts->n) {
		err = -ESRCH;
		goto cleanup;
	}
cleanup:
	if (err) {
		ulp_tset__free(ts);
		return err;
	}
	*out = ts;
	return 0;
}

/*
 * Account for one wait status of @tid.  @keep: leave a stopped thread
 * stopped (else it is resumed at once).  Signal-delivery stops are never
 * kept: the signal is held in pending_sig and the thread continued, the
 * pending interrupt then stops it again.
 */
static int handle_status(struct ulp_tset *ts, int tid, int st, bool keep)
{
	struct ulp_task *t = ulp_tset__find(ts, tid);
	int sig, ev;

	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		task_del(ts, tid);
		return 0;
	}
	if (!WIFSTOPPED(st))
		return 0;
	if (!t) {
		t = task_add(ts, tid);	/* auto-attached clone seen first */
		if (!t)
			return -ENOMEM;
	}
	sig = WSTOPSIG(st);
	ev = st >> 16;
	if (ev == PTRACE_EVENT_CLONE) {
		unsigned long child = 0;

		if (!ptrace(PTRACE_GETEVENTMSG, tid, 0, &child) && child)
			if (!task_add(ts, (int)child))
				return -ENOMEM;
		t = ulp_tset__find(ts, tid);
	} else if (!ev && sig != (SIGTRAP | 0x80)) {
		/* signal-delivery stop: hold the signal (SIGSTOP/SIGTSTP included) */
		if (sig != SIGTRAP)
			t->pending_sig = sig;
		ptrace(PTRACE_CONT, tid, 0, 0);
		t->stopped = false;
		return 0;
	}
	if (keep) {
		t->stopped = true;
		return 0;
	}
	ptrace(PTRACE_CONT, tid, 0, 0);
	t->stopped = false;
	return 0;
}

static bool all_stopped(struct ulp_tset *ts)
{
	for (int i = 0; i < ts->n; i++)
		if (!ts->t[i].stopped)
			return false;
	return true;
}

/*
 * Wait until every known thread sits in a ptrace-stop.  No /proc rescan is
 * needed here: once every thread is seized, a new thread is auto-attached
 * (TRACECLONE), and a stopped parent has reported its clone event (which
 * adds the child) or has not cloned yet.
 */
static int wait_all_stopped(struct ulp_tset *ts)
{
	int st, tid, err;

	while (!all_stopped(ts)) {
		tid = waitpid(-1, &st, __WALL);
		if (tid < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD ? -ESRCH : -errno;
		}
		err = handle_status(ts, tid, st, true);
		if (err)
			return err;
		if (!ts->n)
			return -ESRCH;
	}
	return 0;
}

int ulp_tset__stop_all(struct ulp_tset *ts)
{
	int err;

	struct sched_param old;
	int pol;

	ts->stop_start_ns = ulp_now_ns();
	pol = fifo_on(&old);
	for (int i = 0; i < ts->n; i++)
		if (!ts->t[i].stopped)
			ptrace(PTRACE_INTERRUPT, ts->t[i].tid, 0, 0);
	fifo_off(pol, &old);
	err = wait_all_stopped(ts);
	if (err)
		return err;
	for (int i = 0; i < ts->n; i++) {
		if (ptrace(PTRACE_GETREGS, ts->t[i].tid, 0, &ts->t[i].regs))
			return errno == ESRCH ? -ESRCH : -errno;
	}
	return 0;
}

int ulp_tset__stop_one(struct ulp_tset *ts, int tid)
{
	struct ulp_task *t = ulp_tset__find(ts, tid);
	int st, w, err;

	if (!t)
		return -ESRCH;
	if (t->stopped)
		return 0;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0))
		return -errno;
	for (;;) {
		w = waitpid(-1, &st, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD ? -ESRCH : -errno;
		}
		err = handle_status(ts, w, st, w == tid);
		if (err)
			return err;
		t = ulp_tset__find(ts, tid);
		if (!t)
			return -ESRCH;
		if (t->stopped)
			return 0;
	}
}

int ulp_tset__cont_all(struct ulp_tset *ts)
{
	struct sched_param old;
	int pol = fifo_on(&old);

	for (int i = 0; i < ts->n; i++) {
		struct ulp_task *t = &ts->t[i];

		if (!t->stopped)
			continue;
		ptrace(PTRACE_CONT, t->tid, 0, (long)t->pending_sig);
		t->pending_sig = 0;
		t->stopped = false;
	}
	ts->resume_end_ns = ulp_now_ns();
	fifo_off(pol, &old);
	return 0;
}

int ulp_tset__poll(struct ulp_tset *ts, uint64_t wait_ns)
{
	uint64_t end = ulp_now_ns() + wait_ns;
	int st, tid, err;

	for (;;) {
		while ((tid = waitpid(-1, &st, __WALL | WNOHANG)) > 0) {
			err = handle_status(ts, tid, st, false);
			if (err)
				return err;
		}
		if (!ts->n || (tid < 0 && errno == ECHILD))
			return -ESRCH;
		if (ulp_now_ns() >= end)
			return 0;
		{
			uint64_t left = end - ulp_now_ns();
			struct timespec d = { 0, left > 500000 ? 500000 : (long)left };

			nanosleep(&d, NULL);
		}
	}
}

int ulp_tset__detach_all(struct ulp_tset *ts)
{
	struct sched_param old;
	int err = 0, pol;

	if (!all_stopped(ts)) {
		err = ulp_tset__stop_all(ts);
		if (err && err != -ESRCH)
			return err;
	}
	pol = fifo_on(&old);
	for (int i = 0; i < ts->n; i++)
		ptrace(PTRACE_DETACH, ts->t[i].tid, 0, (long)ts->t[i].pending_sig);
	ts->resume_end_ns = ulp_now_ns();
	fifo_off(pol, &old);
	ts->n = 0;
	return err;
}

void ulp_tset__free(struct ulp_tset *ts)
{
	if (!ts)
		return;
	if (ts->n)
		ulp_tset__detach_all(ts);
	if (ts->memfd > 0)
		close(ts->memfd);
	free(ts->t);
	free(ts);
}

int ulp_mem_read(struct ulp_tset *ts, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = pread(ts->memfd, buf, len, (off_t)addr);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int ulp_mem_write(struct ulp_tset *ts, uint64_t addr, const void *buf, size_t len)
{
	ssize_t n = pwrite(ts->memfd, buf, len, (off_t)addr);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* ---- syscall injection -------------------------------------------------- */

#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516

/* Frame order popped by the trampoline (lowest address first). */
static void frame_fill(const struct user_regs_struct *r, uint64_t f[17])
{
	f[0] = r->r15; f[1] = r->r14; f[2] = r->r13; f[3] = r->r12;
	f[4] = r->r11; f[5] = r->r10; f[6] = r->r9;  f[7] = r->r8;
	f[8] = r->rdi; f[9] = r->rsi; f[10] = r->rbp; f[11] = r->rbx;
	f[12] = r->rdx; f[13] = r->rcx; f[14] = r->rax;
	f[15] = r->eflags & ~0x100ull;	/* never TF */
	f[16] = r->rsp;
}

static size_t tramp_code(uint8_t *c, uint64_t rip)
{
	static const uint8_t body[] = {
		0x0f, 0x05,				/* syscall */
		0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c,	/* pop r15..r12 */
		0x41, 0x5b, 0x41, 0x5a, 0x41, 0x59, 0x41, 0x58,	/* pop r11..r8 */
		0x5f, 0x5e, 0x5d, 0x5b, 0x5a, 0x59, 0x58,	/* rdi rsi rbp rbx rdx rcx rax */
		0x9d,					/* popfq */
		0x5c,					/* pop rsp */
		0xff, 0x25, 0x00, 0x00, 0x00, 0x00,	/* jmp *0(%rip) */
	};
	memcpy(c, body, sizeof(body));
	memcpy(c + sizeof(body), &rip, 8);
	return sizeof(body) + 8;
}

int ulp_inject__begin(struct ulp_inject *inj, struct ulp_tset *ts, int tid, uint64_t tramp)
{
	uint8_t code[ULP_TRAMP_SIZE];
	uint64_t frame[17];
	size_t clen;
	int64_t rax;
	int err;

	memset(inj, 0, sizeof(*inj));
	inj->ts = ts;
	inj->tid = tid;
	inj->tramp = tramp;
	if (ptrace(PTRACE_GETREGS, tid, 0, &inj->saved))
		return -errno;
	inj->ctx = inj->saved;
	/* what the kernel would do on resume: restart an interrupted syscall */
	rax = (int64_t)inj->saved.rax;
	if ((int64_t)inj->saved.orig_rax >= 0 &&
	    (rax == -ERESTARTSYS || rax == -ERESTARTNOINTR || rax == -ERESTARTNOHAND ||
	     rax == -ERESTART_RESTARTBLOCK)) {
		inj->ctx.rax = rax == -ERESTART_RESTARTBLOCK ? SYS_restart_syscall : inj->saved.orig_rax;
		inj->ctx.rip -= 2;
	}
	inj->ctx.orig_rax = (unsigned long long)-1;
	/* below the 128-byte red zone, 16-aligned */
	inj->frame = ((inj->saved.rsp - 256 - sizeof(frame)) & ~15ull);
	inj->scratch = inj->frame - 4096 - 256;
	frame_fill(&inj->ctx, frame);
	err = ulp_mem_write(ts, inj->frame, frame, sizeof(frame));
	if (err)
		return err;
	clen = tramp_code(code, inj->ctx.rip);
	return ulp_mem_write(ts, tramp, code, clen);
}

/* Wait for a syscall stop of the injecting thread; other threads' events are handled. */
static int wait_sysstop(struct ulp_inject *inj)
{
	struct ulp_tset *ts = inj->ts;
	int st, w, err;

	for (;;) {
		w = waitpid(-1, &st, __WALL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD ? -ESRCH : -errno;
		}
		if (w != inj->tid) {
			struct ulp_task *o = ulp_tset__find(ts, w);

			/* other threads: keep stopped ones stopped */
			err = handle_status(ts, w, st, o ? o->stopped || (st >> 16) == PTRACE_EVENT_STOP : true);
			if (err)
				return err;
			continue;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			task_del(ts, w);
			return -ESRCH;
		}
		if (WIFSTOPPED(st) && WSTOPSIG(st) == (SIGTRAP | 0x80))
			return 0;
		if (WIFSTOPPED(st) && !(st >> 16) && WSTOPSIG(st) != SIGTRAP) {
			struct ulp_task *t = ulp_tset__find(ts, w);

			if (t)
				t->pending_sig = WSTOPSIG(st);
		}
		/* any other stop (signal held, stale interrupt): carry on */
		if (ptrace(PTRACE_SYSCALL, w, 0, 0))
			return -errno;
	}
}

int ulp_inject__call(struct ulp_inject *inj, long nr, const uint64_t a[6], int64_t *ret)
{
	struct user_regs_struct r = inj->ctx;
	int err;

	r.rip = inj->tramp;
	r.rsp = inj->frame;
	r.rax = (unsigned long long)nr;
	r.orig_rax = (unsigned long long)-1;
	r.rdi = a[0];
	r.rsi = a[1];
	r.rdx = a[2];
	r.r10 = a[3];
	r.r8 = a[4];
	r.r9 = a[5];
	r.eflags &= ~0x100ull;
	if (ptrace(PTRACE_SETREGS, inj->tid, 0, &r))
		return -errno;
	if (ptrace(PTRACE_SYSCALL, inj->tid, 0, 0))
		return -errno;
	err = wait_sysstop(inj);	/* entry */
	if (err)
		return err;
	if (ptrace(PTRACE_SYSCALL, inj->tid, 0, 0))
		return -errno;
	err = wait_sysstop(inj);	/* exit */
	if (err)
		return err;
	if (ptrace(PTRACE_GETREGS, inj->tid, 0, &r))
		return -errno;
	*ret = (int64_t)r.rax;
	/* back to a state where dying is harmless (the trampoline restores) */
	return 0;
}

int ulp_inject__end(struct ulp_inject *inj)
{
	struct ulp_task *t = ulp_tset__find(inj->ts, inj->tid);

	/*
	 * Resume point is ctx, not saved: we leave from a syscall-exit stop,
	 * where the kernel no longer applies the restart it would have
	 * applied leaving the original interrupt stop.
	 */
	if (ptrace(PTRACE_SETREGS, inj->tid, 0, &inj->ctx))
		return -errno;
	if (t)
		t->stopped = true;
	return 0;
}
