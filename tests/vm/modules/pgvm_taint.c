// SPDX-License-Identifier: GPL-2.0
/*
 * taint: /proc/cmdline prints a marker, and the first call of the new
 * code taints the kernel (TAINT_USER, no WARN): a health regression the
 * gate must see without any WARN.
 */
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include "pgvm_klp.h"

static int pgvm_cmdline_proc_show(struct seq_file *m, void *v)
{
	if (!test_taint(TAINT_USER))
		add_taint(TAINT_USER, LOCKDEP_STILL_OK);
	seq_puts(m, "pgvm_taint patched\n");
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
MODULE_DESCRIPTION("patchgate VM test: livepatch that taints the kernel without a WARN");
