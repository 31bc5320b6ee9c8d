// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include "cmd/cli.h"
#include "gate/top.h"
#include "view/output.h"

void usage_top(const char *prog)
{
	printf("Usage: %s top [-d SECONDS] [--once] [--state-dir DIR] [-j]\n\n"
	       "A live dashboard of every gate running with the state directory (their\n"
	       "live records, live/*.json) and of the patches applied (the journals; the\n"
	       "kernel's livepatches).  One row per gate or patch, coloured by phase;\n"
	       "Enter shows a gate's functions, p99 over time, latency histogram,\n"
	       "blockers and last decisions.  P, A and H promote, abort and hold or\n"
	       "resume the selected gate, after a confirmation.  h shows every key.\n"
	       "A gate that died without finishing shows as \"gone\".\n\n"
	       "Options:\n"
	       "  -d, --delay SECONDS  refresh every SECONDS (default 1, at least 0.25)\n"
	       "      --once           print one plain frame to stdout and exit (-j: the\n"
	       "                       live records, as status -j prints them)\n"
	       "Colours follow the phase; set NO_COLOR to turn them off.\n\n"
	       "Examples:\n"
	       "  %s top\n"
	       "  %s top -d 0.5 --state-dir /run/patchgate\n"
	       "  %s top --once | grep BAKE\n", prog, prog, prog, prog);
}

int cmd_top(struct pg_ctx *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "once", no_argument, NULL, 'O' },
		PG_COMMON_LONGOPTS,
		{},
	};
	const char *nc = getenv("NO_COLOR");
	struct pg_top_opts o = { .delay_s = 1.0, .color = !nc || !nc[0] };
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:" PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (pg_parse_seconds(optarg, &o.delay_s) || o.delay_s < 0.25 || o.delay_s > 3600) {
				pg_err(cli, PG_EXIT_USAGE, "top: invalid delay '%s': at least 0.25 seconds "
				       "(and at most an hour)", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'O':
			o.once = true;
			break;
		default:
			r = pg_cli_common(cli, c, optarg, usage_top);
			if (r < 0)
				return PG_EXIT_OK;
			if (r == 0) {
				pg_err(cli, PG_EXIT_USAGE, "top: unknown option (try '%s top --help')",
				       cli->prog);
				return PG_EXIT_USAGE;
			}
		}
	}
	if (optind != argc) {
		pg_err(cli, PG_EXIT_USAGE, "top: unexpected argument '%s' (ad-hoc watch mode is not "
		       "implemented; use '%s watch')", argv[optind], cli->prog);
		return PG_EXIT_USAGE;
	}
	return top_main(cli, &o);
}
