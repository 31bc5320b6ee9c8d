// SPDX-License-Identifier: GPL-2.0
/*
 * state: a livepatch that patches no function at all, only declares a
 * system state (klp_state) and sets it up and tears it down from its
 * callbacks, as the kernel's state selftests do.  Its one object's function
 * list is empty (.bss).  The state's data is a counter that the callbacks
 * log: "pgvm_state: state set up" / "pgvm_state: state torn down".
 */
#include <linux/slab.h>
#include "pgvm_klp.h"

#define PGVM_STATE_ID	0x7001

static struct klp_patch pgvm_patch;

static int pgvm_state_pre_patch(struct klp_object *obj)
{
	struct klp_state *s = klp_get_state(&pgvm_patch, PGVM_STATE_ID);

	if (!s)
		return -EINVAL;
	s->data = kzalloc(sizeof(int), GFP_KERNEL);
	if (!s->data)
		return -ENOMEM;
	pr_info("pgvm_state: state set up\n");
	return 0;
}

static void pgvm_state_post_unpatch(struct klp_object *obj)
{
	struct klp_state *s = klp_get_state(&pgvm_patch, PGVM_STATE_ID);

	if (!s)
		return;
	kfree(s->data);
	s->data = NULL;
	pr_info("pgvm_state: state torn down\n");
}

static struct klp_func pgvm_state_none[] = {
	{ }
};

static struct klp_object objs[] = {
	{
		.funcs = pgvm_state_none,	/* vmlinux */
		.callbacks = {
			.pre_patch = pgvm_state_pre_patch,
			.post_unpatch = pgvm_state_post_unpatch,
		},
	},
	{ }
};

static struct klp_state states[] = {
	{ .id = PGVM_STATE_ID, .version = 1, },
	{ }
};

static struct klp_patch pgvm_patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.states = states,
};

static int __init pgvm_state_init(void)
{
	return klp_enable_patch(&pgvm_patch);
}

static void __exit pgvm_state_exit(void)
{
}

module_init(pgvm_state_init);
module_exit(pgvm_state_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("patchgate VM test: a state-only livepatch (no functions)");
