// SPDX-License-Identifier: GPL-2.0
/*
 * hang: cmdline_proc_show() that does not return for 10 s (a killable
 * sleep, like a call stuck on I/O), then answers "pgvm_hang patched".
 * Self-limiting, so a reverse transition completes once the sleepers leave.
 */
#include <linux/sched.h>
#include <linux/seq_file.h>
#include "pgvm_klp.h"

static int pgvm_cmdline_proc_show_hang(struct seq_file *m, void *v)
{
	schedule_timeout_killable(10 * HZ);
	seq_puts(m, "pgvm_hang patched\n");
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = pgvm_cmdline_proc_show_hang, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },
	{ }
};

PGVM_KLP_MODULE(objs);
MODULE_DESCRIPTION("patchgate VM test: livepatch whose calls hang for 10 s");
