// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include "cli/cli.h"
#include "cli/cmds.h"
#include "ui/output.h"
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

int cmd_residency(struct pg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "kernel", no_argument, NULL, 'k' },
		PG_COMMON_LONGOPTS,
		{},
	};
	bool kernel = false;
	int pid = 0, c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:k" PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		r = pg_cli_common(cli, c, optarg, usage_residency);
		if (r < 0)
			return PG_EXIT_OK;
		if (r > 0)
			continue;
		switch (c) {
		case 'p':
			if (pg_parse_pid(optarg, &pid)) {
				pg_err(cli, PG_EXIT_USAGE, "residency: invalid pid '%s'", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'k':
			kernel = true;
			break;
		default:
			pg_err(cli, PG_EXIT_USAGE, "residency: bad option (try 'patchgate residency --help')");
			return PG_EXIT_USAGE;
		}
	}
	if (!!pid == kernel) {
		pg_err(cli, PG_EXIT_USAGE, "residency: give exactly one of --pid PID or --kernel");
		return PG_EXIT_USAGE;
	}
	if (optind >= argc) {
		pg_err(cli, PG_EXIT_USAGE, "residency: name at least one FUNC");
		return PG_EXIT_USAGE;
	}
	struct pg_residency_opts o = {
		.pid = pid,
		.kernel = kernel,
		.nfuncs = argc - optind,
		.funcs = argv + optind,
	};

	if (o.nfuncs > PG_MAX_FUNCS) {
		pg_err(cli, PG_EXIT_USAGE, "residency: at most %d functions at once", PG_MAX_FUNCS);
		return PG_EXIT_USAGE;
	}
	return kernel ? kresidency_main(cli, &o) : uresidency_main(cli, &o);
}
