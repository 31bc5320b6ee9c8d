// SPDX-License-Identifier: GPL-2.0
/*
 * helper: /proc/pgvm_block.  A read sleeps inside pgvm_block_read() until
 * something is written to the same file, so a test can park a task in a
 * known function (the target of pgvm_blocking) and wake it on demand.
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/wait.h>
#include <linux/uaccess.h>

static DECLARE_WAIT_QUEUE_HEAD(pgvm_wq);
static atomic_t pgvm_gen = ATOMIC_INIT(0);

/* noinline: it must keep its own frame and symbol to be patched and found. */
noinline ssize_t pgvm_block_read(struct file *f, char __user *buf, size_t len, loff_t *pos)
{
	int gen = atomic_read(&pgvm_gen);
	static const char msg[] = "woken\n";

	if (*pos)
		return 0;
	if (wait_event_interruptible(pgvm_wq, atomic_read(&pgvm_gen) != gen))
		return -EINTR;
	if (len > sizeof(msg) - 1)
		len = sizeof(msg) - 1;
	if (copy_to_user(buf, msg, len))
		return -EFAULT;
	*pos = len;
	return len;
}
EXPORT_SYMBOL_GPL(pgvm_block_read);

static ssize_t pgvm_block_write(struct file *f, const char __user *buf, size_t len, loff_t *pos)
{
	atomic_inc(&pgvm_gen);
	wake_up_all(&pgvm_wq);
	return len;
}

static const struct proc_ops pgvm_ops = {
	.proc_read = pgvm_block_read,
	.proc_write = pgvm_block_write,
	.proc_lseek = noop_llseek,
};

static int __init pgvm_helper_init(void)
{
	return proc_create("pgvm_block", 0600, NULL, &pgvm_ops) ? 0 : -ENOMEM;
}

static void __exit pgvm_helper_exit(void)
{
	remove_proc_entry("pgvm_block", NULL);
}

module_init(pgvm_helper_init);
module_exit(pgvm_helper_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("patchgate VM test helper: a task parks in pgvm_block_read");
