/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which threads of a process have given functions on their stack right
 * now: every thread is unwound with libdw (CFI from .eh_frame/.debug_frame)
 * through ptrace, and each frame's PC is matched against the functions'
 * address ranges.
 */
#ifndef PG_OBSERVE_USTACK_H
#define PG_OBSERVE_USTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ustack_range {
	uint64_t start, end;	/* runtime addresses, end exclusive */
	bool by_symbol;		/* a whole object's code: name each hit by its symbol */
};

struct ustack_hit {
	int tid;
	int func;		/* index into the ranges */
	int frame;		/* 0 = innermost */
	bool in_syscall;	/* blocked in a system call when it was stopped */
	char comm[16];
	char sym[64];		/* by_symbol ranges: the symbol at the frame's PC ("" if none) */
};

/*
 * Unwind every thread of @pid and report each (thread, function) pair
 * found, at most once per pair, into @hits (up to @max).  Returns the
 * number of hits, or a negative errno with a message in @err.
 */
int ustack_scan(int pid, const struct ustack_range *ranges, int nranges,
		struct ustack_hit *hits, int max, char *err, size_t errlen);

#endif
