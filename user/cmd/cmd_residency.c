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
	struct pg_cli_target t = {};
	int r;

	r = pg_cli_target_only(cli, "residency", argc, argv, usage_residency, &t);
	if (r >= 0)
		return r;
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
