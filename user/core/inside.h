/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A thread (process targets) or task (kernel targets) inside a function
 * right now: what residency lists, what blocks a window, what a klp
 * transition waits for, and what hangs in a patch.  The one type for all of
 * them, whichever backend or probe found it.
 */
#ifndef PG_CORE_INSIDE_H
#define PG_CORE_INSIDE_H

#include <stdint.h>

#define PG_INSIDE_COMM_LEN	16	/* TASK_COMM_LEN */
#define PG_INSIDE_FUNC_LEN	64

/* pg_inside.flags */
#define PG_INSIDE_KTHREAD	(1u << 0)	/* a kernel thread */
#define PG_INSIDE_BEST_EFFORT	(1u << 1)	/* stack of a running task: may be stale */
#define PG_INSIDE_AT_PC		(1u << 2)	/* its PC is in the function (else a frame or stack word) */
#define PG_INSIDE_IN_SYSCALL	(1u << 3)	/* blocked in a system call when seen */

struct pg_inside {
	int32_t pid;				/* tgid */
	int32_t tid;
	char comm[PG_INSIDE_COMM_LEN];
	char func[PG_INSIDE_FUNC_LEN];		/* the function, or where a straggler sleeps */
	char state[16];				/* "R", "S", "D", ... ; "" when unknown */
	uint32_t flags;				/* PG_INSIDE_* */
};

#endif
