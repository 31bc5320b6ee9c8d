// SPDX-License-Identifier: GPL-2.0
/*
 * param: a livepatch with module parameters: /proc/cmdline prints
 * "pgvm_param <msg> <count>", both given at load time.
 */
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include "pgvm_klp.h"

static char *pgvm_msg = "unset";
module_param_named(msg, pgvm_msg, charp, 0444);
MODULE_PARM_DESC(msg, "what /proc/cmdline says");

static int pgvm_count;
module_param_named(count, pgvm_count, int, 0444);
MODULE_PARM_DESC(count, "a number /proc/cmdline says");

static int pgvm_param_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "pgvm_param %s %d\n", pgvm_msg, pgvm_count);
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = pgvm_param_cmdline_proc_show, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },	/* vmlinux */
	{ }
};

PGVM_KLP_MODULE(objs);
MODULE_DESCRIPTION("patchgate VM test: livepatch with module parameters");
