// SPDX-License-Identifier: GPL-2.0
/* erroring: reading /proc/cmdline fails with EIO: an error-rate regression. */
#include <linux/errno.h>
#include <linux/seq_file.h>
#include "pgvm_klp.h"

static int pgvm_cmdline_proc_show(struct seq_file *m, void *v)
{
	return -EIO;
}

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = pgvm_cmdline_proc_show, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },
	{ }
};

PGVM_KLP_MODULE(objs);
MODULE_DESCRIPTION("patchgate VM test: erroring livepatch");
