/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * ptrace plumbing for the ulp backend: the set of a process's threads
 * (seize all, stop all, resume all, detach all, with the clone race
 * handled) and crash-safe syscall injection into one stopped thread.
 */
#ifndef PG_BACKEND_ULP_PTRACE_H
#define PG_BACKEND_ULP_PTRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/user.h>

struct ulp_task {
	int tid;
	bool stopped;		/* in a ptrace-stop we have seen */
	int pending_sig;	/* signal held back, delivered on resume */
	struct user_regs_struct regs;	/* valid after ulp_tset__stop_all */
};

struct ulp_tset {
	int pid;
	struct ulp_task *t;
	int n, cap;
	int memfd;		/* /proc/PID/mem, O_RDWR */
	uint64_t stop_start_ns;	/* CLOCK_MONOTONIC at the first PTRACE_INTERRUPT */
	uint64_t resume_end_ns;	/* after the last PTRACE_CONT/DETACH */
};

uint64_t ulp_now_ns(void);

/*
 * PTRACE_SEIZE every thread of @pid (TRACECLONE, TRACESYSGOOD, never
 * EXITKILL: if patchgate dies the target runs on), rescanning
 * /proc/PID/task until a pass finds no new thread.  Threads keep running.
 * Returns 0, -ESRCH (gone), -EPERM (not traceable, or already traced).
 */
int ulp_tset__seize(struct ulp_tset **out, int pid);

/*
 * Interrupt every thread and wait until all (including threads born
 * meanwhile) sit in a ptrace-stop; fetch their registers.  Signals that
 * arrive are held back and delivered on resume.  -ESRCH when the process
 * exits meanwhile.
 */
int ulp_tset__stop_all(struct ulp_tset *ts);
/* Stop one thread only (for injection); -ESRCH if it is gone. */
int ulp_tset__stop_one(struct ulp_tset *ts, int tid);
/* Resume every stopped thread (still traced). */
int ulp_tset__cont_all(struct ulp_tset *ts);
/* Reap events of running threads (clone, signals) for up to @wait_ns; -ESRCH if gone. */
int ulp_tset__poll(struct ulp_tset *ts, uint64_t wait_ns);
/* Stop (if needed) and detach every thread; resumes them. */
int ulp_tset__detach_all(struct ulp_tset *ts);
/* Detaches what is still attached; accepts NULL. */
void ulp_tset__free(struct ulp_tset *ts);

struct ulp_task *ulp_tset__find(struct ulp_tset *ts, int tid);

/* Read/write target memory through /proc/PID/mem (text included). */
int ulp_mem_read(struct ulp_tset *ts, uint64_t addr, void *buf, size_t len);
int ulp_mem_write(struct ulp_tset *ts, uint64_t addr, const void *buf, size_t len);

/*
 * Syscall injection into the stopped thread @tid.  begin() saves its
 * registers, writes a register frame below its red zone and a small
 * trampoline at @tramp (bytes of an executable mapping that are never run,
 * e.g. the slack after a text segment): "syscall; pop all; popfq; pop rsp;
 * jmp *saved_rip".  Each call() points the thread at the trampoline and
 * runs exactly the syscall (PTRACE_SYSCALL entry/exit stops).  If
 * patchgate dies at any moment, the released thread finishes the
 * trampoline and returns to where it was, with every register restored
 * and an interrupted syscall restarted.  end() restores the registers.
 */
struct ulp_inject {
	struct ulp_tset *ts;
	int tid;
	struct user_regs_struct saved;	/* as stopped */
	struct user_regs_struct ctx;	/* where to return: saved, restart applied */
	uint64_t tramp, frame, scratch;	/* scratch: below the frame, for strings */
};

int ulp_inject__begin(struct ulp_inject *inj, struct ulp_tset *ts, int tid, uint64_t tramp);
/* Run syscall @nr(@a...) in the target; its return value (or -errno) in *@ret. */
int ulp_inject__call(struct ulp_inject *inj, long nr, const uint64_t a[6], int64_t *ret);
int ulp_inject__end(struct ulp_inject *inj);

#define ULP_TRAMP_SIZE 64

#endif
