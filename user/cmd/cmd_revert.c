// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include "cmd/cli.h"
#include "gate/opts.h"
#include "view/output.h"

void usage_revert(const char *prog)
{
	printf("Usage: %s revert (--pid PID [PATCH.so] | --klp NAME) [-j]\n\n"
	       "Take a live patch back.  For a process, the saved bytes are restored under\n"
	       "the same stop-the-world check as apply (the newest patch when PATCH.so is\n"
	       "not named).  For the kernel, the patch is disabled, the reverse transition\n"
	       "is awaited, and the module is removed.\n\n"
	       "Options:\n"
	       "  -p, --pid PID      the patched process\n"
	       "  -K, --klp NAME     the livepatch (as in /sys/kernel/livepatch/NAME)\n"
	       "      --force-transition  write 'force' to a stalled transition (klp only;\n"
	       "                     the module can then never be removed)\n"
	       "  -j, --json         JSON lines\n\n"
	       "Examples:\n"
	       "  %s revert --pid 4242\n"
	       "  %s revert --pid 4242 fix-parse.so -j\n"
	       "  %s revert --klp livepatch_fix\n", prog, prog, prog, prog);
}

int cmd_revert(struct pg_ctx *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "klp", required_argument, NULL, 'K' },
		{ "force-transition", no_argument, NULL, 'F' },
		PG_COMMON_LONGOPTS,
		{},
	};
	struct pg_revert_opts o = {};
	const char *klp = NULL;
	struct pg_cli_target t = {};
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:K:" PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case 'K':
			klp = optarg;
			break;
		case 'F':
			o.force_transition = true;
			break;
		default:
			/* the common options, --pid and --kernel */
			r = pg_cli_option(cli, "revert", c, optarg, usage_revert, &t);
			if (r >= 0)
				return r;
		}
	}
	if (!!t.pid == !!klp) {
		pg_err(cli, PG_EXIT_USAGE, "revert: give exactly one of --pid PID or --klp NAME");
		return PG_EXIT_USAGE;
	}
	if (argc - optind > (t.pid ? 1 : 0)) {
		pg_err(cli, PG_EXIT_USAGE, "revert: unexpected argument '%s'", argv[optind]);
		return PG_EXIT_USAGE;
	}
	o.pid = t.pid;
	o.klp_name = klp;
	o.patch_path = optind < argc ? argv[optind] : NULL;
	return plain_revert_main(cli, &o);
}
