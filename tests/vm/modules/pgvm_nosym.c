// SPDX-License-Identifier: GPL-2.0
/* nosym: replaces a function no kernel has; must be refused before loading. */
#include "pgvm_klp.h"

static int pgvm_replacement(void)
{
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "pgvm_no_such_function", .new_func = pgvm_replacement, },
	{ }
};

static struct klp_object objs[] = {
	{ .funcs = funcs, },
	{ }
};

PGVM_KLP_MODULE(objs);
MODULE_DESCRIPTION("patchgate VM test: livepatch of a missing function");
