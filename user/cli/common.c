// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "ui/output.h"

int pg_cli_common(struct pg_cli *cli, int c, const char *arg, void (*usage)(const char *))
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

int pg_cli_not_implemented(struct pg_cli *cli, const char *what)
{
	pg_err(cli, PG_EXIT_SYSTEM, "%s: not implemented yet", what);
	return PG_EXIT_SYSTEM;
}

int pg_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -EINVAL;
	if (!strcmp(end, "ms"))
		v /= 1000.0;
	else if (!strcmp(end, "us"))
		v /= 1e6;
	else if (!strcmp(end, "m"))
		v *= 60.0;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	if (!(v >= 0.0) || v > 1e7)
		return -EINVAL;
	*out = v;
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
