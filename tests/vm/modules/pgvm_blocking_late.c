// SPDX-License-Identifier: GPL-2.0
/*
 * blocking_late: pgvm_blocking's patch of pgvm_block_read(), enabled 3 s
 * after the module starts loading (finit_module blocks meanwhile).  A task
 * that enters the old function in those 3 s, after a gate judged the window
 * clear, stalls the transition: a deterministic straggler.
 */
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/uaccess.h>
#include <linux/module.h>
#include <linux/livepatch.h>

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

static struct klp_patch pgvm_patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init pgvm_late_init(void)
{
	msleep(3000);
	return klp_enable_patch(&pgvm_patch);
}

static void __exit pgvm_late_exit(void)
{
}

module_init(pgvm_late_init);
module_exit(pgvm_late_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("patchgate VM test: livepatch enabled 3 s into its init");
