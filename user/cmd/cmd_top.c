// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include "cmd/cli.h"
#include "gate/top.h"
#include "view/output.h"
#include <patchgate/abi.h>

void usage_top(const char *prog)
{
	printf("Usage: %s top [-d SECONDS] [--once] [--state-dir DIR] [-j]\n"
	       "       %s top (--pid PID | --kernel) [-d SECONDS] [--once] [--errors neg|zero]\n"
	       "                  [-j] FUNC...\n\n"
	       "A live dashboard of every gate running with the state directory (their\n"
	       "live records, live/*.json) and of the patches applied (the journals; the\n"
	       "kernel's livepatches).  One row per gate or patch, coloured by phase;\n"
	       "Enter shows a gate's functions, p99 over time, latency histogram,\n"
	       "blockers and last decisions.  P, A and H promote, abort and hold or\n"
	       "resume the selected gate, after a confirmation.  h shows every key.\n"
	       "A gate that died without finishing shows as \"gone\".\n\n"
	       "Ad-hoc watch mode: with --pid or --kernel and FUNCs, top attaches the\n"
	       "probes itself (as watch does) and shows each function's calls/s, calls\n"
	       "in flight, p50/p90/p99 and max latency and error rate, refreshed in\n"
	       "place, with the selected function's p99 over time.  FUNC is SYMBOL or\n"
	       "OBJECT:SYMBOL, as for watch.  The probes are detached when top ends.\n\n"
	       "Options:\n"
	       "  -d, --delay SECONDS  refresh every SECONDS (default 1, at least 0.25)\n"
	       "      --once           print one plain frame to stdout and exit (-j: the\n"
	       "                       live records, as status -j prints them; in watch\n"
	       "                       mode, the \"attached\" record, then after one\n"
	       "                       delay of counting a \"func\" record per function)\n"
	       "  -p, --pid PID        watch mode: probe FUNC in this process\n"
	       "  -k, --kernel         watch mode: probe kernel FUNC (fentry, kprobe fallback)\n"
	       "  -e, --errors MODE    watch mode: count neg (<0) or zero (==0) returns as errors\n"
	       "Colours follow the phase; set NO_COLOR to turn them off.\n\n"
	       "Examples:\n"
	       "  %s top\n"
	       "  %s top -d 0.5 --state-dir /run/patchgate\n"
	       "  %s top --once | grep BAKE\n"
	       "  %s top --pid 4242 handle_request libz.so.1:crc32\n"
	       "  %s top --kernel --once -d 2 vfs_read vfs_write\n",
	       prog, prog, prog, prog, prog, prog, prog);
}

int cmd_top(struct pg_ctx *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "once", no_argument, NULL, 'O' },
		{ "pid", required_argument, NULL, 'p' },
		{ "kernel", no_argument, NULL, 'k' },
		{ "errors", required_argument, NULL, 'e' },
		PG_COMMON_LONGOPTS,
		{},
	};
	const char *nc = getenv("NO_COLOR");
	struct pg_top_opts o = { .delay_s = 1.0, .color = !nc || !nc[0] };
	struct pg_watch_opts w = { .err_mode = PG_ERR_NONE };
	struct pg_cli_target t = {};
	bool errors = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:p:ke:" PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
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
		case 'e':
			if (pg_cli_err_mode(cli, "top", optarg, &w.err_mode))
				return PG_EXIT_USAGE;
			errors = true;
			break;
		default:
			/* the common options, --pid and --kernel */
			r = pg_cli_option(cli, "top", c, optarg, usage_top, &t);
			if (r >= 0)
				return r;
		}
	}
	if (!t.pid && !t.kernel) {
		if (optind != argc) {
			pg_err(cli, PG_EXIT_USAGE, "top: unexpected argument '%s' (to watch functions, "
			       "give --pid PID or --kernel before them)", argv[optind]);
			return PG_EXIT_USAGE;
		}
		if (errors) {
			pg_err(cli, PG_EXIT_USAGE, "top: --errors needs watch mode (--pid or --kernel)");
			return PG_EXIT_USAGE;
		}
		return top_main(cli, &o);
	}
	if (t.pid && t.kernel) {
		pg_err(cli, PG_EXIT_USAGE, "top: give one of --pid PID or --kernel, not both");
		return PG_EXIT_USAGE;
	}
	if (optind >= argc) {
		pg_err(cli, PG_EXIT_USAGE, "top: watch mode needs at least one FUNC");
		return PG_EXIT_USAGE;
	}
	if (argc - optind > PG_MAX_FUNCS) {
		pg_err(cli, PG_EXIT_USAGE, "top: at most %d functions at once", PG_MAX_FUNCS);
		return PG_EXIT_USAGE;
	}
	w.pid = t.pid;
	w.kernel = t.kernel;
	w.interval_s = o.delay_s;
	w.nfuncs = argc - optind;
	w.funcs = argv + optind;
	return top_watch_main(cli, &o, &w);
}
