/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ptrace plumbing for the ulp backend: the set of a process's threads
 * (seize all, stop all, resume all, detach all, with the clone race
 * handled) and crash-safe syscall injection into one stopped thread.
 */
#ifndef PG_BACKEND_ULP_PTRACE_H
#define PG_BACKEND_ULP_PTRACE_H

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

/*
 * Signals are never dropped.  A thread that reports a signal-delivery-stop
 * while it is being stopped is simply left in that stop (dsig): it is a
 * ptrace-stop like any other, and resuming or detaching it with dsig lets
 * the kernel deliver the signal with its own siginfo, or ignore it, as it
 * would have.  Between rounds a signal is passed on at once.  Only the
 * thread that runs injected syscalls has to take signals out of the way
 * (held); they are queued back to it when the injection ends.
 */
struct ulp_task {
	int tid;
	bool stopped;		/* in a ptrace-stop we have seen */
	int dsig;		/* stopped in the delivery of this signal: resume with it */
	siginfo_t *held;	/* taken out during injection, queued back at its end */
	int nheld;
	bool late;		/* did not stop by a deadline: never waited for again */
	struct user_regs_struct regs;	/* valid after ulp_tset__stop_all */
};

struct ulp_tset {
	int pid;
	struct ulp_task *t;
	int n, cap;
	int memfd;		/* /proc/PID/mem, O_RDWR */
	int *sharers, nsharers;	/* other processes on the same mm (CLONE_VM): their threads are ours too */
	uint64_t stop_start_ns;	/* CLOCK_MONOTONIC at the first PTRACE_INTERRUPT */
	uint64_t resume_end_ns;	/* after the last PTRACE_CONT/DETACH */
	/*
	 * Deadlines.  deadline: CLOCK_MONOTONIC ns by which stop_all and
	 * stop_one give up (-ETIMEDOUT, the threads that did not stop marked
	 * late); 0 waits without limit.  inj_wait_ns: how long one injected
	 * syscall may take (0: no limit).
	 */
	uint64_t deadline;
	uint64_t inj_wait_ns;
	double max_wait_s;	/* the --max-wait behind deadline, for messages */
	char waited[160];	/* on -ETIMEDOUT: what was waited for */
};


/*
 * The processes other than @pid that share its memory (created with
 * CLONE_VM but not CLONE_THREAD, such as a vfork child before its exec):
 * same executable, and kcmp(KCMP_VM) says same mm.  *out (caller frees).
 */
int ulp_mm_sharers(int pid, int **out, int *nout);

/*
 * PTRACE_SEIZE every thread of @pid and of the processes sharing its memory (TRACECLONE, TRACESYSGOOD, never
 * EXITKILL: if patchgate dies the target runs on), rescanning
 * /proc/PID/task until a pass finds no new thread.  Threads keep running.
 * Returns 0, -ESRCH (gone), -EPERM (not traceable, or already traced).
 */
int ulp_tset__seize(struct ulp_tset **out, int pid);

/*
 * Interrupt every thread and wait until all (including threads born
 * meanwhile) sit in a ptrace-stop; fetch their registers.  A thread that
 * meets a signal on its way stays in that signal's delivery stop, which
 * resuming it delivers.  -ESRCH when the process exits meanwhile,
 * -ETIMEDOUT at ts->deadline (the threads not stopped marked late, the
 * others stopped; ts->waited says what for).
 */
int ulp_tset__stop_all(struct ulp_tset *ts);
/* Stop one thread only (for injection); -ESRCH if it is gone, -ETIMEDOUT past ts->deadline. */
int ulp_tset__stop_one(struct ulp_tset *ts, int tid);
/* Resume every stopped thread (still traced). */
int ulp_tset__cont_all(struct ulp_tset *ts);
/* Reap events of running threads (clone, signals) for up to @wait_ns; -ESRCH if gone. */
int ulp_tset__poll(struct ulp_tset *ts, uint64_t wait_ns);
/*
 * Stop (if needed) and detach every thread; resumes them.  A late thread
 * is not waited for again (nor any thread for more than a few seconds):
 * it stays attached, running, until patchgate exits, which releases it.
 */
int ulp_tset__detach_all(struct ulp_tset *ts);
/* Detaches what is still attached; accepts NULL. */
void ulp_tset__free(struct ulp_tset *ts);

struct ulp_task *ulp_tset__find(struct ulp_tset *ts, int tid);

/* The threads marked late, named for a message: "thread TID (comm, state ..., in KFUNC)". */
void ulp_tset__describe_late(struct ulp_tset *ts, char *buf, size_t len);

/* Read/write target memory through /proc/PID/mem (text included). */
int ulp_mem_read(struct ulp_tset *ts, uint64_t addr, void *buf, size_t len);
int ulp_mem_write(struct ulp_tset *ts, uint64_t addr, const void *buf, size_t len);

/*
 * Syscall injection into the stopped thread @tid.  begin() saves its
 * registers, reads its seccomp filters, and writes a small trampoline
 * and a register frame at @tramp (ULP_TRAMP_SIZE bytes of an executable
 * mapping that are never run, e.g. the slack after a text segment):
 * "syscall; pop all; popfq; pop rsp; jmp *saved_rip".  Each call() first
 * runs the syscall through the thread's seccomp filters (-EPERM, nothing
 * injected, when one would not allow it), then points the thread at the
 * trampoline and runs exactly the syscall (PTRACE_SYSCALL entry/exit
 * stops).  If patchgate dies at any moment, the released thread finishes
 * the trampoline and returns to where it was, with every register
 * restored and an interrupted syscall restarted.  Nothing is ever written
 * to the thread's stack: it may be a fiber's or a sigaltstack of a few
 * KiB, with other data right below it.  scratch() maps an anonymous
 * region of patchgate's own for the data a syscall points to (and moves
 * the frame there); end() unmaps it and restores the registers.
 */
struct ulp_seccomp;

struct ulp_inject {
	struct ulp_tset *ts;
	int tid;
	struct user_regs_struct saved;	/* as stopped */
	struct user_regs_struct ctx;	/* where to return: saved, restart applied */
	uint64_t tramp;			/* trampoline code, its own frame after it */
	uint64_t frame;			/* the frame the trampoline pops */
	uint64_t scratch, scratch_len;	/* scratch(): 0 until then */
	struct ulp_seccomp *sc;		/* the thread's filters, NULL: none */
	char why[512];			/* why call() or begin() refused */
};

/* -EPERM with inj->why set when the thread's seccomp state forbids injection. */
int ulp_inject__begin(struct ulp_inject *inj, struct ulp_tset *ts, int tid, uint64_t tramp);
/* Run syscall @nr(@a...) in the target; its return value (or -errno) in *@ret. */
int ulp_inject__call(struct ulp_inject *inj, long nr, const uint64_t a[6], int64_t *ret);
/* Map ULP_SCRATCH_LEN bytes rw in the target (inj->scratch); -errno. */
int ulp_inject__scratch(struct ulp_inject *inj);
/* Unmap the scratch, restore the registers. */
int ulp_inject__end(struct ulp_inject *inj);

/* The address the kernel and seccomp see for an injected syscall. */
#define ULP_TRAMP_SYSCALL_IP(tramp) ((tramp) + 2)

/* code (48 bytes) then the frame of 17 registers */
#define ULP_TRAMP_CODE 48
#define ULP_TRAMP_SIZE (ULP_TRAMP_CODE + 17 * 8)
/* scratch: data at its bottom, the frame near its top with room below for a signal frame */
#define ULP_SCRATCH_LEN (64 << 10)

#endif
