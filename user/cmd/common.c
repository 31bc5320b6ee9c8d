// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cli.h"
#include "core/duration.h"
#include "view/output.h"
#include <patchgate/abi.h>

int pg_cli_common(struct pg_ctx *cli, int c, const char *arg, void (*usage)(const char *))
{
	switch (c) {
	case 'j':
		cli->json = true;
		return 1;
	case PG_OPT_VERBOSE:
		cli->verbose = true;
		return 1;
	case PG_OPT_STATE_DIR:
		cli->state_dir = arg;
		return 1;
	case 'h':
		usage(cli->prog);
		return -1;
	default:
		return 0;
	}
}

int pg_cli_option(struct pg_ctx *cli, const char *cmd, int c, const char *arg,
		  void (*usage)(const char *), struct pg_cli_target *t)
{
	int r = pg_cli_common(cli, c, arg, usage);

	if (r < 0)
		return PG_EXIT_OK;
	if (r > 0)
		return -1;
	switch (c) {
	case 'p':
		if (pg_parse_pid(arg, &t->pid)) {
			pg_err(cli, PG_EXIT_USAGE, "%s: invalid pid '%s'", cmd, arg);
			return PG_EXIT_USAGE;
		}
		return -1;
	case 'k':
		t->kernel = true;
		return -1;
	default:
		pg_err(cli, PG_EXIT_USAGE, "%s: bad option (try 'patchgate %s --help')", cmd, cmd);
		return PG_EXIT_USAGE;
	}
}

int pg_cli_target_only(struct pg_ctx *cli, const char *cmd, int argc, char **argv,
		       void (*usage)(const char *), struct pg_cli_target *t)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "kernel", no_argument, NULL, 'k' },
		PG_COMMON_LONGOPTS,
		{},
	};
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:k" PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		r = pg_cli_option(cli, cmd, c, optarg, usage, t);
		if (r >= 0)
			return r;
	}
	return -1;
}

int pg_cli_not_implemented(struct pg_ctx *cli, const char *what)
{
	pg_err(cli, PG_EXIT_SYSTEM, "%s: not implemented yet", what);
	return PG_EXIT_SYSTEM;
}

int pg_parse_seconds(const char *s, double *out)
{
	return pg_duration_parse_s(s, out);
}

int pg_cli_err_mode(struct pg_ctx *cli, const char *cmd, const char *arg, int *mode)
{
	if (!strcmp(arg, "neg"))
		*mode = PG_ERR_NEG;
	else if (!strcmp(arg, "zero"))
		*mode = PG_ERR_ZERO;
	else {
		pg_err(cli, PG_EXIT_USAGE, "%s: --errors takes 'neg' or 'zero', not '%s'", cmd, arg);
		return PG_EXIT_USAGE;
	}
	return 0;
}

int pg_parse_pid(const char *s, int *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > 0x3fffffff)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/*
 * The one place an outcome becomes the process's exit code.  Lower layers
 * return an enum pg_exit outcome; anything else (a negative errno that
 * escaped, an out-of-range value) is a system error, never an accidental
 * "success" or an exit status the contract does not list.
 */
int cmd_exit(int outcome)
{
	static const int codes[] = {
		[PG_EXIT_OK] = 0,
		[PG_EXIT_USAGE] = 1,
		[PG_EXIT_REGRESSED] = 2,
		[PG_EXIT_NO_WINDOW] = 3,
		[PG_EXIT_TRANSITION] = 4,
		[PG_EXIT_SYSTEM] = 5,
		[PG_EXIT_OPERATOR] = 6,
	};

	if (outcome < 0 || outcome >= (int)(sizeof(codes) / sizeof(codes[0])))
		return codes[PG_EXIT_SYSTEM];
	return codes[outcome];
}
