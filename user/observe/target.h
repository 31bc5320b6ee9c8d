/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Checks and resolution shared by every command that takes --pid. */
#ifndef PG_OBSERVE_TARGET_H
#define PG_OBSERVE_TARGET_H

#include "cli/cli.h"
#include "observe/symbols.h"

/*
 * 0 when @pid names a live process that is not patchgate itself; else
 * prints why (prefixed with @cmd) and returns PG_EXIT_USAGE.
 */
int target_check_pid(struct pg_cli *cli, const char *cmd, int pid);
/* Resolve @n specs (SYMBOL or OBJECT:SYMBOL) in @pid; PG_EXIT_USAGE with a message on failure. */
int target_resolve(struct pg_cli *cli, const char *cmd, int pid, int n, char **specs,
		   struct sym_func *out);

#endif
