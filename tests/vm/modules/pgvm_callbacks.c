// SPDX-License-Identifier: GPL-2.0
/*
 * callbacks: objects that only carry callbacks, as the kernel's callback
 * selftests build them: their function list is one all-zero klp_func, which
 * the compiler puts in .bss (no relocation, no file bytes).  The pgvm_helper
 * object is such an object; the vmlinux object also patches
 * cmdline_proc_show, so the reader must walk past the empty list to it.
 * Each callback logs "pgvm_callbacks: <callback> <object>".
 */
#include <linux/seq_file.h>
#include "pgvm_klp.h"

static int pgvm_cb_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "pgvm_callbacks patched\n");
	return 0;
}

static const char *pgvm_cb_obj(struct klp_object *obj)
{
	return obj->name ? obj->name : "vmlinux";
}

static int pgvm_cb_pre_patch(struct klp_object *obj)
{
	pr_info("pgvm_callbacks: pre_patch %s\n", pgvm_cb_obj(obj));
	return 0;
}

static void pgvm_cb_post_patch(struct klp_object *obj)
{
	pr_info("pgvm_callbacks: post_patch %s\n", pgvm_cb_obj(obj));
}

static void pgvm_cb_pre_unpatch(struct klp_object *obj)
{
	pr_info("pgvm_callbacks: pre_unpatch %s\n", pgvm_cb_obj(obj));
}

static void pgvm_cb_post_unpatch(struct klp_object *obj)
{
	pr_info("pgvm_callbacks: post_unpatch %s\n", pgvm_cb_obj(obj));
}

#define PGVM_CALLBACKS {						\
	.pre_patch = pgvm_cb_pre_patch,					\
	.post_patch = pgvm_cb_post_patch,				\
	.pre_unpatch = pgvm_cb_pre_unpatch,				\
	.post_unpatch = pgvm_cb_post_unpatch,				\
}

/* all zero: .bss */
static struct klp_func pgvm_cb_none[] = {
	{ }
};

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = pgvm_cb_cmdline_proc_show, },
	{ }
};

static struct klp_object objs[] = {
	{ .name = "pgvm_helper", .funcs = pgvm_cb_none, .callbacks = PGVM_CALLBACKS, },
	{ .funcs = funcs, .callbacks = PGVM_CALLBACKS, },	/* vmlinux */
	{ }
};

PGVM_KLP_MODULE(objs);
MODULE_DESCRIPTION("patchgate VM test: livepatch with a callback-only object");
