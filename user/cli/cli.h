/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Subcommand contract shared by user/main.c and the handlers in user/cli/. */
#ifndef PG_CLI_H
#define PG_CLI_H

#include <stdbool.h>
#include <getopt.h>

/* Exit codes: stable, documented in docs/cli.md and `patchgate --help`. */
enum pg_exit {
	PG_EXIT_OK = 0,			/* success, or the patch was committed */
	PG_EXIT_USAGE = 1,		/* usage error or bad input, nothing changed */
	PG_EXIT_REGRESSED = 2,		/* reverted because health regressed */
	PG_EXIT_NO_WINDOW = 3,		/* aborted: no safe window came, nothing applied */
	PG_EXIT_TRANSITION = 4,		/* reverted: the transition timed out */
	PG_EXIT_SYSTEM = 5,		/* system or internal error */
};

/* Options common to every subcommand, parsed before and by each handler. */
struct pg_cli {
	bool json;		/* -j/--json: one JSON object per line */
	bool verbose;		/* --verbose */
	const char *state_dir;	/* --state-dir, default PG_STATE_DIR */
	const char *prog;	/* argv[0] basename */
};

#define PG_STATE_DIR_DEFAULT "/run/patchgate"

struct pg_cmd {
	const char *name;
	int (*handler)(struct pg_cli *cli, int argc, char **argv);
	void (*usage)(const char *prog);
	const char *summary;
};

int cmd_watch(struct pg_cli *cli, int argc, char **argv);
int cmd_residency(struct pg_cli *cli, int argc, char **argv);
int cmd_apply(struct pg_cli *cli, int argc, char **argv);
int cmd_revert(struct pg_cli *cli, int argc, char **argv);
int cmd_status(struct pg_cli *cli, int argc, char **argv);
void usage_watch(const char *prog);
void usage_residency(const char *prog);
void usage_apply(const char *prog);
void usage_revert(const char *prog);
void usage_status(const char *prog);

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
int pg_cli_common(struct pg_cli *cli, int c, const char *arg, void (*usage)(const char *));

/* Prints the "not implemented yet" error and returns PG_EXIT_SYSTEM. */
int pg_cli_not_implemented(struct pg_cli *cli, const char *what);

/* Parse a positive duration in seconds ("1.5", "2s", "500ms"); -EINVAL when bad. */
int pg_parse_seconds(const char *s, double *out);
/* Parse a pid; -EINVAL when not a positive integer. */
int pg_parse_pid(const char *s, int *out);

#endif
