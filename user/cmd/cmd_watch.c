// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include "cmd/cli.h"
#include "gate/opts.h"
#include "view/output.h"
#include <patchgate/abi.h>

void usage_watch(const char *prog)
{
	printf("Usage: %s watch (--pid PID | --kernel) [--interval S] [--duration S]\n"
	       "                 [--errors neg|zero] [-j] FUNC...\n\n"
	       "Trace FUNC in a running process (or the kernel) and report, every interval:\n"
	       "calls, calls/s, in-flight, latency p50/p90/p99/max, error returns, and\n"
	       "whether each probe site is optimised (nop5) or traps.\n\n"
	       "FUNC is SYMBOL (main executable first, then every loaded object) or\n"
	       "OBJECT:SYMBOL, e.g. libz.so.1:crc32.\n\n"
	       "Options:\n"
	       "  -p, --pid PID        trace this process\n"
	       "  -k, --kernel         trace kernel functions (fentry/fexit, kprobe fallback)\n"
	       "  -i, --interval S     report every S seconds (default 1)\n"
	       "  -d, --duration S     stop after S seconds (default: until Ctrl-C or exit)\n"
	       "  -e, --errors MODE    count neg (<0) or zero (==0) returns as errors\n"
	       "  -j, --json           one JSON object per function per interval\n"
	       "      --empty-probes   attach programs that do nothing (the cost floor, for\n"
	       "                       benchmarks; reports no figures)\n\n"
	       "Examples:\n"
	       "  %s watch --pid 4242 handle_request\n"
	       "  %s watch --pid 4242 --errors neg -i 0.5 -d 10 -j parse_header libz.so.1:crc32\n"
	       "  %s watch --kernel --duration 5 vfs_read\n", prog, prog, prog, prog);
}

int cmd_watch(struct pg_ctx *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "kernel", no_argument, NULL, 'k' },
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "errors", required_argument, NULL, 'e' },
		{ "empty-probes", no_argument, NULL, 'E' },
		PG_COMMON_LONGOPTS,
		{},
	};
	struct pg_watch_opts o = { .interval_s = 1.0, .err_mode = PG_ERR_NONE };
	double interval = 1.0, duration = 0.0;
	struct pg_cli_target t = {};
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:ki:d:e:" PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case 'E':
			o.empty_probes = true;
			break;
		case 'i':
			if (pg_parse_seconds(optarg, &interval) || interval <= 0) {
				pg_err(cli, PG_EXIT_USAGE, "watch: invalid interval '%s'", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'd':
			if (pg_parse_seconds(optarg, &duration)) {
				pg_err(cli, PG_EXIT_USAGE, "watch: invalid duration '%s'", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'e':
			if (pg_cli_err_mode(cli, "watch", optarg, &o.err_mode))
				return PG_EXIT_USAGE;
			break;
		default:
			/* the common options, --pid and --kernel */
			r = pg_cli_option(cli, "watch", c, optarg, usage_watch, &t);
			if (r >= 0)
				return r;
		}
	}
	if (!!t.pid == t.kernel) {
		pg_err(cli, PG_EXIT_USAGE, "watch: give exactly one of --pid PID or --kernel");
		return PG_EXIT_USAGE;
	}
	if (optind >= argc) {
		pg_err(cli, PG_EXIT_USAGE, "watch: name at least one FUNC");
		return PG_EXIT_USAGE;
	}
	if (argc - optind > PG_MAX_FUNCS) {
		pg_err(cli, PG_EXIT_USAGE, "watch: at most %d functions at once", PG_MAX_FUNCS);
		return PG_EXIT_USAGE;
	}
	o.pid = t.pid;
	o.kernel = t.kernel;
	o.interval_s = interval;
	o.duration_s = duration;
	o.nfuncs = argc - optind;
	o.funcs = argv + optind;
	return watch_main(cli, &o);
}
