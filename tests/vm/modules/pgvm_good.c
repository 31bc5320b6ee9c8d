// SPDX-License-Identifier: GPL-2.0
/* good: /proc/cmdline prints a marker instead of the command line. */
#include <linux/seq_file.h>
#include "pgvm_klp.h"

static int pgvm_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "pgvm_good patched\n");
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = pgvm_cmdline_proc_show, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },	/* vmlinux */
	{ }
};

PGVM_KLP_MODULE(objs);
MODULE_DESCRIPTION("patchgate VM test: good livepatch");
