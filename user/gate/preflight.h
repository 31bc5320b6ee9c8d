/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a command checks before it does anything: the capabilities it
 * needs (docs/security.md has the measured table) and the state
 * directory's ownership and mode (lib/statedir.h).  A missing capability
 * is named, rather than met later as EPERM deep in a syscall.
 */
#ifndef PG_GATE_PREFLIGHT_H
#define PG_GATE_PREFLIGHT_H

#include "view/output.h"

/* What a command is about to do; each brings its capabilities. */
enum gate_need {
	GATE_NEED_PTRACE	= 1 << 0,	/* a process: its maps, memory, threads (CAP_SYS_PTRACE) */
	GATE_NEED_UPROBE	= 1 << 1,	/* BPF on uprobes (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN) */
	GATE_NEED_KBPF		= 1 << 2,	/* BPF on kernel functions, task iterators (CAP_BPF, CAP_PERFMON) */
	GATE_NEED_MODULE	= 1 << 3,	/* load or remove a livepatch module (CAP_SYS_MODULE) */
	GATE_NEED_STATEDIR	= 1 << 4,	/* write the state directory (checked, created 0700) */
	GATE_NEED_STATEDIR_RO	= 1 << 5,	/* read it: checked when it exists */
	GATE_NEED_MEM		= 1 << 6,	/* open /proc/PID/mem (0600, its owner's): CAP_DAC_OVERRIDE
						 * when @pid belongs to another uid */
};

/*
 * Check @need (a mask of enum gate_need) for command @cmd on process @pid
 * (0: none, or every process with a journal).  0, or
 * PG_EXIT_USAGE after printing which capability is missing (or why the
 * state directory is refused); PG_EXIT_SYSTEM when it cannot be told.
 */
int gate_preflight(struct pg_ctx *ctx, const char *cmd, unsigned int need, int pid);

#endif
