// SPDX-License-Identifier: GPL-2.0
/*
 * helper: /proc/pgvm_block.  A read sleeps (killable, state D) inside pgvm_block_read() until
 * something is written to the same file, so a test can park a task in a
 * known function (the target of pgvm_blocking) and wake it on demand.
 */
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/wait.h>
#include <linux/uaccess.h>

static DECLARE_WAIT_QUEUE_HEAD(pgvm_wq);
static atomic_t pgvm_gen = ATOMIC_INIT(0);
static bool pgvm_dying;

/* noinline: it must keep its own frame and symbol to be patched and found. */
noinline ssize_t pgvm_block_read(struct file *f, char __user *buf, size_t len, loff_t *pos)
{
	int gen = atomic_read(&pgvm_gen);
	static const char msg[] = "woken\n";

	if (*pos)
		return 0;
	/*
	 * Killable, not interruptible: the livepatch core sends a fake signal
	 * to tasks that stall a transition for 15 s, which would end an
	 * interruptible sleep; a killable one stalls until woken, like a task
	 * blocked on I/O.
	 */
	if (wait_event_killable(pgvm_wq, atomic_read(&pgvm_gen) != gen || READ_ONCE(pgvm_dying)))
		return -EINTR;
	if (READ_ONCE(pgvm_dying))
		return -ENODEV;
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
	/* let sleeping readers out, or remove_proc_entry() waits for them forever */
	WRITE_ONCE(pgvm_dying, true);
	wake_up_all(&pgvm_wq);
	remove_proc_entry("pgvm_block", NULL);
}

module_init(pgvm_helper_init);
module_exit(pgvm_helper_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("patchgate VM test helper: a task parks in pgvm_block_read");
