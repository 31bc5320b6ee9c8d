// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A target that makes syscall injection and stopping hard, for
 * test_hazards_inject.sh and test_hazards_stop.sh.
 *
 *   ulp-hostile MODE
 *
 * MODE:
 *   plain            the main thread calls pg_compute() once a millisecond
 *   fiber            ... on a 4 KiB stack of its own (makecontext), with
 *                    canary bytes below (16 KiB) and above (4 KiB) it
 *   seccomp-kill-mmap       a filter (every thread) kills the process on mmap
 *   seccomp-trap-exec-mmap  ... traps (SIGSYS) an mmap asking for PROT_EXEC
 *   seccomp-trap-openat     ... traps openat
 *   seccomp-strict   the main thread enters seccomp strict mode and serves
 *                    the commands itself; another thread calls pg_compute
 *   park             as plain, and one more thread sits inside pg_compute
 *                    for good (pg_compute(7) naps in a loop)
 *   vfork            a thread calls pg_compute; the main thread vforks a
 *                    child that prints "vforked PID", sleeps 10 s and exits
 *                    (the main thread cannot be stopped meanwhile), then
 *                    calls pg_compute as plain
 *   clonevm          as plain, and a process sharing the memory (clone with
 *                    CLONE_VM, not CLONE_THREAD) calls pg_compute; it
 *                    prints "clonevm PID"
 *   clonevm-park     ... that process sits inside pg_compute for good
 *   zombie-leader    a thread calls pg_compute; the main thread calls
 *                    pthread_exit (the process lives on without it)
 *   rt               as plain, and a thread "sigthread" (its tid: the
 *                    command sigtid); every thread handles SIGRTMIN
 *                    (SA_SIGINFO), counting the signals and summing their
 *                    si_value (the command count)
 *
 *   ulp-hostile sigsend PID TID SECONDS
 *                    send SIGRTMIN (si_code SI_QUEUE, si_value 1, 2, ...) at
 *                    1 kHz for SECONDS, in turn to thread TID and to the
 *                    process PID; then print "sent N SUM" (N accepted)
 * Commands on stdin, one answer line each on stdout (read/write only: no
 * stdio, no malloc, nothing a filter or strict mode would stop):
 *   value    "value N": pg_compute(1) now (3 unpatched)
 *   canary   "canary ok" or "canary damaged N" (bytes changed around the fiber stack)
 *   count    "count N SUM": SIGRTMIN handled so far, and the sum of their si_value
 *   sigtid   "sigtid TID" of the thread sigthread (mode rt)
 * Built like ulp-target (nop5 entries), with the same statics the good
 * patch uses (helper_add, pg_bias).
 */
#define _GNU_SOURCE
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define CANARY 0xa5
#define LOW (16 << 10)
#define STK (4 << 10)
#define HIGH (4 << 10)

__attribute__((used)) static int pg_bias = 1000000;
static volatile int pg_zero;

__attribute__((noinline, used)) static int helper_add(int a, int b)
{
	return a + b;
}

static void nap(void);

/* pg_compute(7) never returns: a thread parked inside the function a patch replaces */
__attribute__((noinline)) int pg_compute(int x)
{
	while (x == 7 && !pg_zero)
		nap();
	return x * 3 + pg_zero;
}

static atomic_long rt_count, rt_sum;
static atomic_int sig_tid;

static unsigned char *fiber_block;
static ucontext_t main_uc, fiber_uc;

static void say(const char *s)
{
	if (write(1, s, strlen(s)) < 0)
		_exit(2);
}

static void nap(void)
{
	struct timespec d = { 0, 1000000 };

	syscall(SYS_nanosleep, &d, NULL);
}

static void loop(void)
{
	for (;;) {
		if (pg_compute(2) == 0)
			say("impossible\n");
		nap();
	}
}

static int canary_damage(void)
{
	int n = 0;

	for (int i = 0; fiber_block && i < LOW; i++)
		n += fiber_block[i] != CANARY;
	for (int i = 0; fiber_block && i < HIGH; i++)
		n += fiber_block[LOW + STK + i] != CANARY;
	return n;
}

/* Serve commands on stdin with read and write alone. */
static void serve(void)
{
	char line[64], out[64];
	size_t n = 0;

	for (;;) {
		ssize_t r = read(0, line + n, 1);

		if (r <= 0)
			syscall(SYS_exit, 0);	/* in strict mode only exit is allowed */
		if (line[n] != '\n' && n < sizeof(line) - 2) {
			n++;
			continue;
		}
		line[n] = '\0';
		n = 0;
		if (!strcmp(line, "value")) {
			snprintf(out, sizeof(out), "value %d\n", pg_compute(1));
			say(out);
		} else if (!strcmp(line, "count")) {
			snprintf(out, sizeof(out), "count %ld %ld\n", (long)rt_count, (long)rt_sum);
			say(out);
		} else if (!strcmp(line, "sigtid")) {
			snprintf(out, sizeof(out), "sigtid %d\n", (int)sig_tid);
			say(out);
		} else if (!strcmp(line, "canary")) {
			int d = canary_damage();

			if (d)
				snprintf(out, sizeof(out), "canary damaged %d\n", d);
			else
				snprintf(out, sizeof(out), "canary ok\n");
			say(out);
		} else {
			say("unknown\n");
		}
	}
}

static void *serve_thread(void *arg)
{
	(void)arg;
	serve();
	return NULL;
}

static void *loop_thread(void *arg)
{
	(void)arg;
	if (arg)
		sig_tid = (int)syscall(SYS_gettid);
	loop();
	return NULL;
}

static void *park_thread(void *arg)
{
	(void)arg;
	pg_compute(7);
	return NULL;
}

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	atomic_fetch_add(&rt_count, 1);
	atomic_fetch_add(&rt_sum, si->si_value.sival_int);
}

/* the process sharing the memory: plain syscalls only (it shares the main thread's TLS) */
static int clonevm_main(void *arg)
{
	char m[64];

	snprintf(m, sizeof(m), "clonevm %d\n", (int)syscall(SYS_getpid));
	say(m);
	if (arg)
		pg_compute(7);
	loop();
	return 0;
}

/* ulp-hostile sigsend PID TID SECONDS */
static int sigsend(int pid, int tid, double secs)
{
	struct timespec d = { 0, 1000000 }, t0, t;
	long n = 0, sum = 0;
	char out[64];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int seq = 1;; seq++) {
		siginfo_t si;
		long r;

		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
			break;
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGRTMIN;
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		si.si_value.sival_int = seq;
		if (seq & 1)
			r = syscall(SYS_rt_tgsigqueueinfo, pid, tid, SIGRTMIN, &si);
		else
			r = syscall(SYS_rt_sigqueueinfo, pid, SIGRTMIN, &si);
		if (!r) {
			n++;
			sum += seq;
		}
		nanosleep(&d, NULL);
	}
	snprintf(out, sizeof(out), "sent %ld %ld\n", n, sum);
	say(out);
	return 0;
}

#define LD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))

/* One filter, every thread: @nr (only with PROT_EXEC in arg 2 when @exec_only) gets @action. */
static void filter(int nr, int exec_only, unsigned int action)
{
	struct sock_filter any[] = {
		LD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		LD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter exec[] = {
		LD(arch),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		LD(nr),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 0, 3),
		LD(args[2]),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 4 /* PROT_EXEC */, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = exec_only ? sizeof(exec) / sizeof(exec[0]) : sizeof(any) / sizeof(any[0]),
		.filter = exec_only ? exec : any,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)) {
		perror("ulp-hostile: seccomp");
		exit(1);
	}
}

static void fiber_main(void)
{
	loop();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "plain";
	char ready[64];
	pthread_t th;

	if (!strcmp(mode, "sigsend") && argc == 5)
		return sigsend(atoi(argv[2]), atoi(argv[3]), atof(argv[4]));
	snprintf(ready, sizeof(ready), "ready %d\n", getpid());
	if (!strcmp(mode, "rt")) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_rt;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigaction(SIGRTMIN, &sa, NULL);
	}
	if (!strcmp(mode, "seccomp-strict")) {
		pthread_create(&th, NULL, loop_thread, NULL);
		say(ready);
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0)) {
			perror("ulp-hostile: strict");
			return 1;
		}
		serve();
	}
	pthread_create(&th, NULL, serve_thread, NULL);
	if (!strcmp(mode, "fiber")) {
		fiber_block = malloc(LOW + STK + HIGH);
		if (!fiber_block)
			return 1;
		memset(fiber_block, CANARY, LOW + STK + HIGH);
		getcontext(&fiber_uc);
		fiber_uc.uc_stack.ss_sp = fiber_block + LOW;
		fiber_uc.uc_stack.ss_size = STK;
		fiber_uc.uc_link = NULL;
		makecontext(&fiber_uc, fiber_main, 0);
		say(ready);
		swapcontext(&main_uc, &fiber_uc);
		return 1;
	}
	if (!strcmp(mode, "seccomp-kill-mmap"))
		filter(SYS_mmap, 0, SECCOMP_RET_KILL_PROCESS);
	else if (!strcmp(mode, "seccomp-trap-exec-mmap"))
		filter(SYS_mmap, 1, SECCOMP_RET_TRAP);
	else if (!strcmp(mode, "seccomp-trap-openat"))
		filter(SYS_openat, 0, SECCOMP_RET_TRAP);
	else if (!strcmp(mode, "vfork")) {
		pthread_t lt;

		pthread_create(&lt, NULL, loop_thread, NULL);
		say(ready);
		if (vfork() == 0) {
			struct timespec d = { 10, 0 };
			char m[64];

			snprintf(m, sizeof(m), "vforked %d\n", (int)syscall(SYS_getpid));
			say(m);
			syscall(SYS_nanosleep, &d, NULL);
			_exit(0);
		}
		loop();
	} else if (!strcmp(mode, "clonevm") || !strcmp(mode, "clonevm-park")) {
		char *stk = malloc(256 << 10);

		say(ready);
		if (!stk || clone(clonevm_main, stk + (256 << 10), CLONE_VM | SIGCHLD,
				  strcmp(mode, "clonevm") ? stk : NULL) < 0)
			return 1;
		loop();
	} else if (!strcmp(mode, "zombie-leader")) {
		pthread_t lt;

		pthread_create(&lt, NULL, loop_thread, NULL);
		say(ready);
		pthread_exit(NULL);
	} else if (!strcmp(mode, "park"))
		pthread_create(&th, NULL, park_thread, NULL);
	else if (!strcmp(mode, "rt")) {
		pthread_create(&th, NULL, loop_thread, &th);
		while (!sig_tid)
			nap();
	} else if (strcmp(mode, "plain"))
		return 1;
	say(ready);
	loop();
	return (int)(helper_add(0, 0) + pg_bias * 0);
}
