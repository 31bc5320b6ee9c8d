// SPDX-License-Identifier: GPL-2.0
/* plain: an ordinary module, not a livepatch; must be refused by apply --klp. */
#include <linux/module.h>

static int __init pgvm_plain_init(void)
{
	return 0;
}

static void __exit pgvm_plain_exit(void)
{
}

module_init(pgvm_plain_init);
module_exit(pgvm_plain_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("patchgate VM test: not a livepatch");
