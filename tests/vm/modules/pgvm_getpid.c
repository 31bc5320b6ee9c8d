// SPDX-License-Identifier: GPL-2.0
/*
 * getpid: a livepatch of a syscall, as the kernel's own selftest patches
 * one.  The replacement returns what the original does; the scenario that
 * loads it (46) is about the transitions under load, not the result.
 */
#include <linux/ptrace.h>
#include <linux/sched.h>
#include "pgvm_klp.h"

static asmlinkage long pgvm_sys_getpid(const struct pt_regs *regs)
{
	return task_tgid_vnr(current);
}

static struct klp_func funcs[] = {
	{ .old_name = "__x64_sys_getpid", .new_func = pgvm_sys_getpid, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },
	{ }
};

PGVM_KLP_MODULE(objs);
MODULE_DESCRIPTION("patchgate VM test: getpid livepatch");
