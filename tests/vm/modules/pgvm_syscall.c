// SPDX-License-Identifier: GPL-2.0
/*
 * syscall: a livepatch of the getpid system call (the same answer) and of
 * cmdline_proc_show (2 ms slower, as pgvm_slow), so that a gate reverts it
 * on a latency regression while getpid runs under load.  The syscall
 * wrapper has no BTF: the gate cannot time it with fentry and only scans
 * stacks for it (56-gate-syscall-revert).
 */
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include "pgvm_klp.h"

static asmlinkage long pgvm_sys_getpid(const struct pt_regs *regs)
{
	return task_tgid_vnr(current);
}

static int pgvm_cmdline_proc_show(struct seq_file *m, void *v)
{
	pgvm_spin_ns(2000000);
	seq_puts(m, "pgvm_syscall patched\n");
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "__x64_sys_getpid", .new_func = pgvm_sys_getpid, },
	{ .old_name = "cmdline_proc_show", .new_func = pgvm_cmdline_proc_show, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },	/* vmlinux */
	{ }
};

PGVM_KLP_MODULE(objs);
MODULE_DESCRIPTION("patchgate VM test: syscall livepatch, reverted under load");
