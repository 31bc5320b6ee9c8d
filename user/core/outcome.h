/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How an operation ended.  The numbers are the contract automation reads
 * (docs/ctx.md, `patchgate --help`): they are the process's exit codes, and
 * only user/cmd/ hands one to exit() (cmd_exit_code()).  Lower layers
 * return an outcome, or a negative errno that the layer above turns into
 * one.
 */
#ifndef PG_CORE_OUTCOME_H
#define PG_CORE_OUTCOME_H

enum pg_exit {
	PG_EXIT_OK = 0,			/* success, or the patch was committed */
	PG_EXIT_USAGE = 1,		/* usage error or bad input, nothing changed */
	PG_EXIT_REGRESSED = 2,		/* reverted because health regressed */
	PG_EXIT_NO_WINDOW = 3,		/* aborted: no safe window came, nothing applied */
	PG_EXIT_TRANSITION = 4,		/* reverted: the transition timed out */
	PG_EXIT_SYSTEM = 5,		/* system or internal error */
	PG_EXIT_OPERATOR = 6,		/* aborted by an operator (reverted, or nothing applied) */
};

#endif
