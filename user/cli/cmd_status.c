// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/cmds.h"
#include "ui/output.h"

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

int cmd_status(struct pg_cli *cli, int argc, char **argv)
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
		r = pg_cli_common(cli, c, optarg, usage_status);
		if (r < 0)
			return PG_EXIT_OK;
		if (r > 0)
			continue;
		switch (c) {
		case 'p':
			if (pg_parse_pid(optarg, &pid)) {
				pg_err(cli, PG_EXIT_USAGE, "status: invalid pid '%s'", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'k':
			kernel = true;
			break;
		default:
			pg_err(cli, PG_EXIT_USAGE, "status: bad option (try 'patchgate status --help')");
			return PG_EXIT_USAGE;
		}
	}
	if (pid && kernel) {
		pg_err(cli, PG_EXIT_USAGE, "status: give at most one of --pid PID or --kernel");
		return PG_EXIT_USAGE;
	}
	if (optind != argc) {
		pg_err(cli, PG_EXIT_USAGE, "status: unexpected argument '%s'", argv[optind]);
		return PG_EXIT_USAGE;
	}
	struct pg_status_opts o = { .pid = pid, .kernel = kernel };

	/* with neither flag: processes known to the journal, then the kernel's patches */
	if (kernel)
		return klp_status_main(cli, &o);
	r = ulp_status_main(cli, &o);
	if (r || pid || access("/sys/kernel/livepatch", F_OK))
		return r;
	return klp_status_main(cli, &o);
}
