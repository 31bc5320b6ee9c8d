// SPDX-License-Identifier: GPL-2.0
/*
 * cum1: the first of two cumulative (atomic-replace) patches: /proc/cmdline
 * and /proc/version.  pgvm_cum2 replaces it.
 */
#include <linux/seq_file.h>
#include "pgvm_klp.h"

static int pgvm_cum1_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "pgvm_cum1 cmdline\n");
	return 0;
}

static int pgvm_cum1_version_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "pgvm_cum1 version\n");
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = pgvm_cum1_cmdline_proc_show, },
	{ .old_name = "version_proc_show", .new_func = pgvm_cum1_version_proc_show, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },	/* vmlinux */
	{ }
};

PGVM_KLP_REPLACE_MODULE(objs);
MODULE_DESCRIPTION("patchgate VM test: cumulative patch 1 (cmdline, version)");
