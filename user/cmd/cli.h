/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Subcommand contract shared by user/cmd/main.c and the handlers beside it. */
#ifndef PG_CLI_H
#define PG_CLI_H

#include <stdbool.h>
#include <getopt.h>
#include "core/outcome.h"
#include "view/output.h"

struct pg_cmd {
	const char *name;
	int (*handler)(struct pg_ctx *cli, int argc, char **argv);
	void (*usage)(const char *prog);
	const char *summary;
};

int cmd_watch(struct pg_ctx *cli, int argc, char **argv);
int cmd_residency(struct pg_ctx *cli, int argc, char **argv);
int cmd_apply(struct pg_ctx *cli, int argc, char **argv);
int cmd_revert(struct pg_ctx *cli, int argc, char **argv);
int cmd_status(struct pg_ctx *cli, int argc, char **argv);
int cmd_doctor(struct pg_ctx *cli, int argc, char **argv);
int cmd_control(struct pg_ctx *cli, int argc, char **argv);	/* promote, abort, hold, resume */
int cmd_top(struct pg_ctx *cli, int argc, char **argv);
int cmd_exporter(struct pg_ctx *cli, int argc, char **argv);
int cmd_report(struct pg_ctx *cli, int argc, char **argv);
int cmd_rollout(struct pg_ctx *cli, int argc, char **argv);
void usage_watch(const char *prog);
void usage_residency(const char *prog);
void usage_apply(const char *prog);
void usage_revert(const char *prog);
void usage_status(const char *prog);
void usage_doctor(const char *prog);
void usage_promote(const char *prog);
void usage_abort(const char *prog);
void usage_hold(const char *prog);
void usage_resume(const char *prog);
void usage_top(const char *prog);
void usage_exporter(const char *prog);
void usage_report(const char *prog);
void usage_rollout(const char *prog);

/*
 * Common long options every handler appends to its own table: --json, -j,
 * --verbose, --state-dir, --help.  pg_cli_common() handles them and returns
 * 1 when @c was one of them, 0 otherwise.
 */
#define PG_OPT_STATE_DIR 0x1001
#define PG_OPT_VERBOSE   0x1002
#define PG_COMMON_LONGOPTS \
	{ "json", no_argument, NULL, 'j' }, \
	{ "verbose", no_argument, NULL, PG_OPT_VERBOSE }, \
	{ "state-dir", required_argument, NULL, PG_OPT_STATE_DIR }, \
	{ "help", no_argument, NULL, 'h' }
#define PG_COMMON_SHORTOPTS "jh"

/* Returns 1 if handled, 0 if not a common option, -1 on --help (usage printed). */
int pg_cli_common(struct pg_ctx *cli, int c, const char *arg, void (*usage)(const char *));

/* The target options several commands take: -p/--pid PID, -k/--kernel. */
struct pg_cli_target {
	int pid;
	bool kernel;
};

/*
 * An option that is not the handler's own, from the default: branch of
 * its getopt loop: the common options, then --pid and --kernel into @t.
 * Returns -1 when handled (go on), or an outcome to return at once:
 * PG_EXIT_OK after --help, PG_EXIT_USAGE (printed, naming @cmd) for a bad
 * pid or an unknown option.
 */
int pg_cli_option(struct pg_ctx *cli, const char *cmd, int c, const char *arg,
		  void (*usage)(const char *), struct pg_cli_target *t);

/* Prints the "not implemented yet" error and returns PG_EXIT_SYSTEM. */
int pg_cli_not_implemented(struct pg_ctx *cli, const char *what);

/* A duration option in seconds, in the one grammar of core/duration.h ("1.5", "500ms", "1h"). */
int pg_parse_seconds(const char *s, double *out);
/* The exit code for an outcome (enum pg_exit); anything else is PG_EXIT_SYSTEM's. */
int cmd_exit(int outcome);
/* Parse a pid; -EINVAL when not a positive integer. */
/*
 * The options of a command that takes only the common ones, -p/--pid and
 * -k/--kernel (status, residency), into @t.  Returns -1 to go on (optind
 * at the first argument), or the exit code to end with.
 */
int pg_cli_target_only(struct pg_ctx *cli, const char *cmd, int argc, char **argv,
		       void (*usage)(const char *), struct pg_cli_target *t);
int pg_parse_pid(const char *s, int *out);
/* -e/--errors MODE: 'neg' or 'zero' into *mode (enum pg_err_mode); else prints why, returns the exit code. */
int pg_cli_err_mode(struct pg_ctx *cli, const char *cmd, const char *arg, int *mode);

#endif
