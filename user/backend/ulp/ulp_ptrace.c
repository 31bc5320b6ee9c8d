// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Thread set and syscall injection for the ulp backend.
 *
 * Why the trampoline: a ptrace tracer that dies releases its tracees
 * wherever they are, with whatever registers it last set.  An injector
 * that parks a thread on a bare "syscall" instruction would, if killed,
 * let the thread run on from there with clobbered registers.  Ours parks
 * it on code that restores the thread's own registers from a frame beside
 * that code (or in patchgate's own scratch mapping) and jumps back, so
 * SIGKILL of patchgate never corrupts a thread.
 */
#include <dirent.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "backend/ulp/ulp_ptrace.h"
#include "backend/ulp/ulp_seccomp.h"
#include "lib/clock.h"
#include "lib/procmaps.h"


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
			free(ts->t[i].held);
			ts->t[i] = ts->t[--ts->n];
			return;
		}
	}
}

/* Append the thread ids of @pid now to *v (*n of *cap).  -errno. */
static int add_tids(int pid, int **v, int *n, int *cap)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((de = readdir(d))) {
		int tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		if (*n == *cap) {
			int c = *cap ? *cap * 2 : 64, *nv = realloc(*v, (size_t)c * sizeof(*nv));

			if (!nv) {
				closedir(d);
				return -ENOMEM;
			}
			*v = nv;
			*cap = c;
		}
		(*v)[(*n)++] = tid;
	}
	closedir(d);
	return 0;
}

/* Thread ids of @pid and of the processes sharing its memory, now; caller frees.  -errno. */
static int list_tids(struct ulp_tset *ts, int **out, int *nout)
{
	int *v = NULL, n = 0, cap = 0, err;

	err = add_tids(ts->pid, &v, &n, &cap);
	for (int i = 0; !err && i < ts->nsharers; i++)
		if (add_tids(ts->sharers[i], &v, &n, &cap) == -ENOMEM)	/* one gone meanwhile: fine */
			err = -ENOMEM;
	if (!err && !n)
		err = -ESRCH;
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*nout = n;
	return 0;
}

int ulp_mm_sharers(int pid, int **out, int *nout)
{
	const int ts_pid = pid;
	struct stat self, st;
	struct dirent *de;
	char fn[64];
	int *v = NULL, n = 0, cap = 0;
	DIR *d;

	*out = NULL;
	*nout = 0;
	pid = procmaps__view_pid(pid);	/* the main thread may have exited */
	snprintf(fn, sizeof(fn), "/proc/%d/exe", pid);
	if (stat(fn, &self))
		return 0;	/* no mm to share (or none readable): nothing to find */
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int other = atoi(de->d_name);

		if (other <= 0 || other == ts_pid)
			continue;
		/* the executable belongs to the mm: a sharer maps the same one */
		snprintf(fn, sizeof(fn), "/proc/%d/exe", other);
		if (stat(fn, &st) || st.st_dev != self.st_dev || st.st_ino != self.st_ino)
			continue;
		if (syscall(SYS_kcmp, pid, other, KCMP_VM, 0, 0) != 0)
			continue;
		if (n == cap) {
			int c = cap ? cap * 2 : 8, *nv = realloc(v, (size_t)c * sizeof(*nv));

			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
			cap = c;
		}
		v[n++] = other;
	}
	closedir(d);
	*out = v;
	*nout = n;
	return 0;
}

/* A thread that has exited but is still listed (the zombie of a main thread that called pthread_exit). */
static bool thread_exited(int tid)
{
	char st = pg_proc_state(tid);

	return st == '?' || st == 'Z' || st == 'X';
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
	snprintf(path, sizeof(path), "/proc/%d/mem", procmaps__view_pid(pid));
	ts->memfd = open(path, O_RDWR | O_CLOEXEC);
	if (ts->memfd < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto cleanup;
	}
	/* processes created with CLONE_VM but not CLONE_THREAD run the same code: threads to us */
	err = ulp_mm_sharers(pid, &ts->sharers, &ts->nsharers);
	if (err)
		goto cleanup;
	/* threads created by not-yet-seized threads escape TRACECLONE: rescan */
	do {
		int *tids = NULL, n = 0;

		added = 0;
		err = list_tids(ts, &tids, &n);
		if (err)
			goto cleanup;
		for (int i = 0; i < n; i++) {
			if (ulp_tset__find(ts, tids[i]))
				continue;
			if (ptrace(PTRACE_SEIZE, tids[i], 0, opts)) {
				if (errno == ESRCH || thread_exited(tids[i]))	/* exited (a main thread's zombie) */
					continue;
				/* born to a seized thread: already ours through TRACECLONE */
				if (errno == EPERM && pg_proc_tracer(pid, tids[i]) == getpid()) {
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
 * stopped (else it is resumed at once).  A signal-delivery-stop that is
 * kept stays what it is (the signal is delivered when the thread is
 * resumed, dsig); one that is not kept is resumed with its signal, so the
 * kernel delivers it now with its own siginfo.
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
		/* signal-delivery stop (SIGSTOP and SIGTRAP included: both are real signals here) */
		if (keep) {
			t->stopped = true;
			t->dsig = sig;
			return 0;
		}
		ptrace(PTRACE_CONT, tid, 0, (long)sig);
		t->stopped = false;
		t->dsig = 0;
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

/* Every thread in a ptrace-stop (the late ones aside when @skip_late). */
static bool all_stopped(struct ulp_tset *ts, bool skip_late)
{
	for (int i = 0; i < ts->n; i++)
		if (!ts->t[i].stopped && !(skip_late && ts->t[i].late))
			return false;
	return true;
}

/*
 * waitpid(-1, __WALL), giving up at @deadline (0: never): -ETIMEDOUT.
 * Polls (a blocking waitpid cannot time out): yield first, as a stop
 * usually comes within microseconds, then sleep 50 us, 1 ms after 100 ms.
 */
static int wait_any(int *st, uint64_t deadline)
{
	uint64_t t0 = 0;
	unsigned int spins = 0;

	for (;;) {
		int w = waitpid(-1, st, __WALL | (deadline ? WNOHANG : 0));
		uint64_t now;

		if (w > 0)
			return w;
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD ? -ESRCH : -errno;
		}
		now = pg_mono_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (!t0)
			t0 = now;
		if (spins++ < 64) {
			sched_yield();
		} else {
			struct timespec d = { 0, now - t0 > 100000000ull ? 1000000 : 50000 };

			nanosleep(&d, NULL);
		}
	}
}

void ulp_tset__describe_late(struct ulp_tset *ts, char *buf, size_t len)
{
	size_t o = 0;
	int shown = 0, more = 0;

	buf[0] = '\0';
	for (int i = 0; i < ts->n; i++) {
		char fn[96], comm[32], wchan[64] = "", state;
		FILE *f;

		if (!ts->t[i].late)
			continue;
		if (shown++) {
			more++;
			continue;
		}
		/* /proc/TID: also a thread of another process sharing the memory */
		snprintf(fn, sizeof(fn), "/proc/%d/comm", ts->t[i].tid);
		snprintf(comm, sizeof(comm), "?");
		f = fopen(fn, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		state = pg_proc_state(ts->t[i].tid);
		snprintf(fn, sizeof(fn), "/proc/%d/wchan", ts->t[i].tid);
		f = fopen(fn, "re");
		if (f) {
			if (!fgets(wchan, sizeof(wchan), f) || !strcmp(wchan, "0"))
				wchan[0] = '\0';
			fclose(f);
		}
		o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "thread %d (%s, state %c%s%s)", ts->t[i].tid,
				      comm, state, wchan[0] ? ", in the kernel at " : "", wchan);
	}
	if (more && o < len)
		snprintf(buf + o, len - o, " and %d more", more);
}

/* Threads not stopped at a timeout are late: named, and never waited for again. */
static int mark_late(struct ulp_tset *ts, const char *what)
{
	for (int i = 0; i < ts->n; i++)
		if (!ts->t[i].stopped)
			ts->t[i].late = true;
	snprintf(ts->waited, sizeof(ts->waited), "%s", what);
	return -ETIMEDOUT;
}

/*
 * Wait until every known thread (the late ones aside when @skip_late) sits
 * in a ptrace-stop, until ts->deadline.  No /proc rescan is needed here:
 * once every thread is seized, a new thread is auto-attached
 * (TRACECLONE), and a stopped parent has reported its clone event (which
 * adds the child) or has not cloned yet.
 */
static int wait_all_stopped(struct ulp_tset *ts, bool skip_late)
{
	int st, tid, err;

	while (!all_stopped(ts, skip_late)) {
		tid = wait_any(&st, ts->deadline);
		if (tid == -ETIMEDOUT)
			return mark_late(ts, "every thread to stop");
		if (tid < 0)
			return tid;
		err = handle_status(ts, tid, st, true);
		if (err)
			return err;
		if (!ts->n)
			return -ESRCH;
	}
	return 0;
}

static int stop_all(struct ulp_tset *ts, bool skip_late)
{
	int err;

	struct sched_param old;
	int pol;

	ts->stop_start_ns = pg_mono_ns();
	pol = fifo_on(&old);
	for (int i = 0; i < ts->n; i++)
		if (!ts->t[i].stopped && !(skip_late && ts->t[i].late))
			ptrace(PTRACE_INTERRUPT, ts->t[i].tid, 0, 0);
	fifo_off(pol, &old);
	err = wait_all_stopped(ts, skip_late);
	if (err)
		return err;
	for (int i = 0; i < ts->n; i++) {
		if (!ts->t[i].stopped)
			continue;
		if (ptrace(PTRACE_GETREGS, ts->t[i].tid, 0, &ts->t[i].regs))
			return errno == ESRCH ? -ESRCH : -errno;
	}
	return 0;
}

int ulp_tset__stop_all(struct ulp_tset *ts)
{
	return stop_all(ts, false);
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
		w = wait_any(&st, ts->deadline);
		if (w == -ETIMEDOUT) {
			t = ulp_tset__find(ts, tid);
			if (t)
				t->late = true;
			snprintf(ts->waited, sizeof(ts->waited), "a thread to stop for the injection");
			return w;
		}
		if (w < 0)
			return w;
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
		ptrace(PTRACE_CONT, t->tid, 0, (long)t->dsig);
		t->dsig = 0;
		t->stopped = false;
	}
	ts->resume_end_ns = pg_mono_ns();
	fifo_off(pol, &old);
	return 0;
}

int ulp_tset__poll(struct ulp_tset *ts, uint64_t wait_ns)
{
	uint64_t end = pg_mono_ns() + wait_ns;
	int st, tid, err;

	for (;;) {
		while ((tid = waitpid(-1, &st, __WALL | WNOHANG)) > 0) {
			err = handle_status(ts, tid, st, false);
			if (err)
				return err;
		}
		if (!ts->n || (tid < 0 && errno == ECHILD))
			return -ESRCH;
		if (pg_mono_ns() >= end)
			return 0;
		{
			uint64_t left = end - pg_mono_ns();
			struct timespec d = { 0, left > 500000 ? 500000 : (long)left };

			nanosleep(&d, NULL);
		}
	}
}

#define ULP_CLEANUP_WAIT_NS 5000000000ull	/* stopping to detach: late threads are not waited for */

int ulp_tset__detach_all(struct ulp_tset *ts)
{
	struct sched_param old;
	int err = 0, pol;

	if (!all_stopped(ts, true)) {
		uint64_t d = ts->deadline;

		ts->deadline = pg_mono_ns() + ULP_CLEANUP_WAIT_NS;
		err = stop_all(ts, true);
		ts->deadline = d;
		if (err == -ESRCH || err == -ETIMEDOUT)
			err = 0;
	}
	pol = fifo_on(&old);
	for (int i = 0; i < ts->n; i++) {
		/* a thread still running (late) cannot be detached: patchgate's exit releases it */
		if (ts->t[i].stopped)
			ptrace(PTRACE_DETACH, ts->t[i].tid, 0, (long)ts->t[i].dsig);
		free(ts->t[i].held);
	}
	ts->resume_end_ns = pg_mono_ns();
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
	free(ts->sharers);
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

static size_t tramp_code(uint8_t c[ULP_TRAMP_CODE], uint64_t rip)
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

/* ---- signals of the injecting thread ------------------------------------ */

/* The thread sits in the delivery of a signal: take it out (with its siginfo) to queue it back later. */
static int hold_signal(struct ulp_task *t, int sig)
{
	siginfo_t si, *nh;

	memset(&si, 0, sizeof(si));
	if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si)) {
		si.si_signo = sig;
		si.si_code = SI_KERNEL;
	}
	nh = realloc(t->held, (size_t)(t->nheld + 1) * sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	t->held = nh;
	t->held[t->nheld++] = si;
	t->dsig = 0;
	return 0;
}

/* Signals whose delivery the kernel would skip: ignored, or default action "ignore". */
static uint64_t ignored_signals(int pid)
{
	unsigned long long ign = 0, cgt = 0, dfl_ign;
	char fn[64], line[256];
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/status", pid);
	f = fopen(fn, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "SigIgn: %llx", &ign);
		sscanf(line, "SigCgt: %llx", &cgt);
	}
	fclose(f);
	dfl_ign = (1ull << (SIGCHLD - 1)) | (1ull << (SIGURG - 1)) | (1ull << (SIGWINCH - 1)) |
		  (1ull << (SIGCONT - 1));
	return ign | (dfl_ign & ~cgt & ~ign);
}

/*
 * Queue the held signals back to their thread, oldest first.  Queued ones
 * (sigqueue, timers, message queues, AIO: si_code < 0) keep their whole
 * siginfo; the kernel lets no process forge the others (kill, tgkill,
 * kernel-generated), which are sent again by number with tgkill.  A
 * signal the process ignores now is dropped, as the kernel would.
 */
static void requeue_held(struct ulp_tset *ts, struct ulp_task *t)
{
	uint64_t ign = t->nheld ? ignored_signals(ts->pid) : 0;

	for (int i = 0; i < t->nheld; i++) {
		siginfo_t *si = &t->held[i];
		int sig = si->si_signo;

		if (sig <= 0 || sig > 64 || (ign & (1ull << (sig - 1))))
			continue;
		if (si->si_code < 0 && si->si_code != SI_TKILL &&
		    !syscall(SYS_rt_tgsigqueueinfo, ts->pid, t->tid, sig, si))
			continue;
		syscall(SYS_tgkill, ts->pid, t->tid, sig);
	}
	free(t->held);
	t->held = NULL;
	t->nheld = 0;
}

int ulp_inject__begin(struct ulp_inject *inj, struct ulp_tset *ts, int tid, uint64_t tramp)
{
	uint8_t code[ULP_TRAMP_CODE];
	uint64_t frame[17];
	int64_t rax;
	int err;

	memset(inj, 0, sizeof(*inj));
	inj->ts = ts;
	inj->tid = tid;
	inj->tramp = tramp;
	{
		struct ulp_task *t = ulp_tset__find(ts, tid);

		/* stopped in a signal's delivery: the injected syscalls must not swallow it */
		if (t && t->dsig && hold_signal(t, t->dsig))
			return -ENOMEM;
	}
	if (ptrace(PTRACE_GETREGS, tid, 0, &inj->saved))
		return -errno;
	/* before anything is written: may the thread run our syscalls at all? */
	err = ulp_seccomp__read(ts->pid, tid, &inj->sc, inj->why, sizeof(inj->why));
	if (err)
		return err;
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
	/*
	 * The frame sits right after the code, in the same never-run bytes:
	 * the thread's stack is not written (it may be a small fiber stack
	 * with someone's heap right below it).
	 */
	inj->frame = tramp + ULP_TRAMP_CODE;
	memset(code, 0xcc, sizeof(code));
	tramp_code(code, inj->ctx.rip);
	frame_fill(&inj->ctx, frame);
	err = ulp_mem_write(ts, inj->frame, frame, sizeof(frame));
	if (!err)
		err = ulp_mem_write(ts, tramp, code, sizeof(code));
	if (err)
		ulp_seccomp__free(inj->sc);
	return err;
}

int ulp_inject__scratch(struct ulp_inject *inj)
{
	const uint64_t a[6] = { 0, ULP_SCRATCH_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				(uint64_t)-1, 0 };
	uint64_t frame[17], at;
	int64_t r;
	int err;

	err = ulp_inject__call(inj, SYS_mmap, a, &r);
	if (err)
		return err;
	if (r < 0 && r > -4096)
		return (int)r;
	inj->scratch = (uint64_t)r;
	inj->scratch_len = ULP_SCRATCH_LEN;
	/*
	 * The frame moves up here: were patchgate killed and a signal
	 * delivered to the thread on its way back, the kernel would push the
	 * signal frame below its stack pointer, which must be writable
	 * memory with room, not the text slack.
	 */
	at = inj->scratch + inj->scratch_len - 512;
	frame_fill(&inj->ctx, frame);
	err = ulp_mem_write(inj->ts, at, frame, sizeof(frame));
	if (!err)
		inj->frame = at;
	return err;
}

/* Wait for a syscall stop of the injecting thread; other threads' events are handled. */
static int wait_sysstop(struct ulp_inject *inj, long nr)
{
	struct ulp_tset *ts = inj->ts;
	uint64_t deadline = ts->inj_wait_ns ? pg_mono_ns() + ts->inj_wait_ns : 0;
	int st, w, err;

	for (;;) {
		w = wait_any(&st, deadline);
		if (w == -ETIMEDOUT) {
			struct ulp_task *t = ulp_tset__find(ts, inj->tid);

			if (t)
				t->late = true;
			snprintf(ts->waited, sizeof(ts->waited), "the injected syscall %ld to return", nr);
			return w;
		}
		if (w < 0)
			return w;
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
		if (WIFSTOPPED(st) && !(st >> 16)) {
			struct ulp_task *t = ulp_tset__find(ts, w);

			/* a signal on its way in: held, queued back at the end */
			if (t && hold_signal(t, WSTOPSIG(st)))
				return -ENOMEM;
		}
		/* any other stop (signal held, stale interrupt): carry on */
		if (ptrace(PTRACE_SYSCALL, w, 0, 0))
			return -errno;
	}
}

int ulp_inject__call(struct ulp_inject *inj, long nr, const uint64_t a[6], int64_t *ret)
{
	const struct ulp_sc_call c = { .nr = nr, .a = { a[0], a[1], a[2], a[3], a[4], a[5] },
				       .known = ULP_SC_ALL_KNOWN };
	struct user_regs_struct r = inj->ctx;
	int err;

	if (ulp_seccomp__allows(inj->sc, &c, ULP_TRAMP_SYSCALL_IP(inj->tramp), inj->why, sizeof(inj->why)))
		return -EPERM;
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
	err = wait_sysstop(inj, nr);	/* entry */
	if (err)
		return err;
	if (ptrace(PTRACE_SYSCALL, inj->tid, 0, 0))
		return -errno;
	err = wait_sysstop(inj, nr);	/* exit */
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

	if (inj->scratch) {
		const uint64_t a[6] = { inj->scratch, inj->scratch_len };
		int64_t r;

		/* the frame back in the slack first: the trampoline pops it after the munmap */
		inj->frame = inj->tramp + ULP_TRAMP_CODE;
		if (!ulp_inject__call(inj, SYS_munmap, a, &r) && !r)
			inj->scratch = 0;
	}
	ulp_seccomp__free(inj->sc);
	inj->sc = NULL;
	/*
	 * Resume point is ctx, not saved: we leave from a syscall-exit stop,
	 * where the kernel no longer applies the restart it would have
	 * applied leaving the original interrupt stop.
	 */
	if (ptrace(PTRACE_SETREGS, inj->tid, 0, &inj->ctx))
		return -errno;
	if (t) {
		t->stopped = true;
		t->dsig = 0;	/* a syscall-exit stop now: a signal passed on resume would be lost */
		requeue_held(inj->ts, t);
	}
	return 0;
}
