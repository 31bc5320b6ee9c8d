// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include "cmd/cli.h"
#include "gate/opts.h"
#include "view/output.h"

void usage_status(const char *prog)
{
	printf("Usage: %s status [--pid PID | --kernel] [-j]\n\n"
	       "List applied live patches: their functions, when each went in, and the\n"
	       "gate phase it is in.  For a process the journal is checked against the\n"
	       "target's actual bytes; for the kernel, /sys/kernel/livepatch is read,\n"
	       "with any transition stragglers.\n\n"
	       "Options:\n"
	       "  -p, --pid PID   one process\n"
	       "  -k, --kernel    kernel livepatches only\n"
	       "  -j, --json      {\"type\":\"patch\"} JSON lines\n\n"
	       "Examples:\n"
	       "  %s status\n"
	       "  %s status --pid 4242 -j\n"
	       "  %s status --kernel\n", prog, prog, prog, prog);
}

int cmd_status(struct pg_ctx *cli, int argc, char **argv)
{
	struct pg_cli_target t = {};
	int r;

	r = pg_cli_target_only(cli, "status", argc, argv, usage_status, &t);
	if (r >= 0)
		return r;
	if (t.pid && t.kernel) {
		pg_err(cli, PG_EXIT_USAGE, "status: give at most one of --pid PID or --kernel");
		return PG_EXIT_USAGE;
	}
	if (optind != argc) {
		pg_err(cli, PG_EXIT_USAGE, "status: unexpected argument '%s'", argv[optind]);
		return PG_EXIT_USAGE;
	}
	struct pg_status_opts o = { .pid = t.pid, .kernel = t.kernel };

	return plain_status_main(cli, &o);
}
