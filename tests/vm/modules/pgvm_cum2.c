// SPDX-License-Identifier: GPL-2.0
/*
 * cum2: a cumulative (atomic-replace) patch over pgvm_cum1 that keeps the
 * /proc/cmdline change and drops the /proc/version one: the kernel adds a
 * nop function for version_proc_show while it replaces pgvm_cum1.
 */
#include <linux/seq_file.h>
#include "pgvm_klp.h"

static int pgvm_cum2_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "pgvm_cum2 cmdline\n");
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = pgvm_cum2_cmdline_proc_show, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },	/* vmlinux */
	{ }
};

PGVM_KLP_REPLACE_MODULE(objs);
MODULE_DESCRIPTION("patchgate VM test: cumulative patch 2 (cmdline only)");
