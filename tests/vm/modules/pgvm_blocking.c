// SPDX-License-Identifier: GPL-2.0
/*
 * blocking: patches pgvm_block_read() of pgvm_helper.  A task asleep in
 * the old function keeps the transition from completing until it wakes.
 */
#include <linux/fs.h>
#include <linux/uaccess.h>
#include "pgvm_klp.h"

static ssize_t pgvm_block_read_new(struct file *f, char __user *buf, size_t len, loff_t *pos)
{
	static const char msg[] = "patched\n";

	if (*pos)
		return 0;
	if (len > sizeof(msg) - 1)
		len = sizeof(msg) - 1;
	if (copy_to_user(buf, msg, len))
		return -EFAULT;
	*pos = len;
	return len;
}

static struct klp_func funcs[] = {
	{ .old_name = "pgvm_block_read", .new_func = pgvm_block_read_new, },
	{ }
};

static struct klp_object objs[] = {
	{ .name = "pgvm_helper", .funcs = funcs, },
	{ }
};

PGVM_KLP_MODULE(objs);
MODULE_DESCRIPTION("patchgate VM test: livepatch that stalls on a sleeping task");
