// SPDX-License-Identifier: GPL-2.0
/* multi: patches /proc/cmdline and /proc/version at once. */
#include <linux/seq_file.h>
#include "pgvm_klp.h"

static int pgvm_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "pgvm_multi cmdline\n");
	return 0;
}

static int pgvm_version_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "pgvm_multi version\n");
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = pgvm_cmdline_proc_show, },
	{ .old_name = "version_proc_show", .new_func = pgvm_version_proc_show, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },
	{ }
};

PGVM_KLP_MODULE(objs);
MODULE_DESCRIPTION("patchgate VM test: livepatch of two functions");
