// SPDX-License-Identifier: GPL-2.0
/* slow: the same output as pgvm_good, 2 ms later: a latency regression. */
#include <linux/seq_file.h>
#include "pgvm_klp.h"

static int pgvm_cmdline_proc_show(struct seq_file *m, void *v)
{
	pgvm_spin_ns(2000000);
	seq_puts(m, "pgvm_slow patched\n");
	return 0;
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
MODULE_DESCRIPTION("patchgate VM test: slow livepatch");
