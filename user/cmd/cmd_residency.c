// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include "cmd/cli.h"
#include "gate/opts.h"
#include "view/output.h"
#include <patchgate/abi.h>

void usage_residency(const char *prog)
{
	printf("Usage: %s residency (--pid PID | --kernel) [-j] FUNC...\n\n"
	       "List the threads (process) or tasks (kernel) that have FUNC on their stack\n"
	       "right now: tid, comm, function, and for the kernel the task state.\n\n"
	       "Options:\n"
	       "  -p, --pid PID   look inside this process\n"
	       "  -k, --kernel    walk the kernel stack of every task (iter/task)\n"
	       "  -j, --json      one {\"type\":\"resident\"} object per thread and function\n\n"
	       "Examples:\n"
	       "  %s residency --pid 4242 handle_request\n"
	       "  %s residency --kernel -j pipe_read\n", prog, prog, prog);
}

int cmd_residency(struct pg_ctx *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "kernel", no_argument, NULL, 'k' },
		PG_COMMON_LONGOPTS,
		{},
	};
	struct pg_cli_target t = {};
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:k" PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		/* no options of its own: the common ones, --pid and --kernel */
		r = pg_cli_option(cli, "residency", c, optarg, usage_residency, &t);
		if (r >= 0)
			return r;
	}
	if (!!t.pid == t.kernel) {
		pg_err(cli, PG_EXIT_USAGE, "residency: give exactly one of --pid PID or --kernel");
		return PG_EXIT_USAGE;
	}
	if (optind >= argc) {
		pg_err(cli, PG_EXIT_USAGE, "residency: name at least one FUNC");
		return PG_EXIT_USAGE;
	}
	struct pg_residency_opts o = {
		.pid = t.pid,
		.kernel = t.kernel,
		.nfuncs = argc - optind,
		.funcs = argv + optind,
	};

	if (o.nfuncs > PG_MAX_FUNCS) {
		pg_err(cli, PG_EXIT_USAGE, "residency: at most %d functions at once", PG_MAX_FUNCS);
		return PG_EXIT_USAGE;
	}
	return residency_main(cli, &o);
}
