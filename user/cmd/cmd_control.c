// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* promote, abort, hold, resume: an operator action sent to a running gate. */
#include <stdio.h>
#include <string.h>
#include "cmd/cli.h"
#include "gate/live.h"
#include "view/output.h"

static void usage_action(const char *prog, const char *action, const char *what)
{
	printf("Usage: %s %s PID|MODULE [--timeout SECONDS] [--state-dir DIR] [-j]\n\n"
	       "%s\n\n"
	       "The request goes over the gate's control socket in the state directory\n"
	       "(live/PID.sock or live/kernel-MODULE.sock).  Only root and the uid the gate\n"
	       "runs as may act; the gate records the action, with the acting uid, in its\n"
	       "audit log.\n\n"
	       "Arguments:\n"
	       "  PID             the target process of a gated apply --pid\n"
	       "  MODULE          the livepatch of a gated apply --klp (name or file name)\n\n"
	       "Options:\n"
	       "      --timeout S  wait this long for the gate's answer (default 5)\n"
	       "  -j, --json       an {\"type\":\"operator\"} record\n\n"
	       "Exit codes: 0 the gate took it; 1 refused (the phase does not take it),\n"
	       "not allowed, or no gate running there -- nothing changed; 5 no answer.\n\n"
	       "Examples:\n"
	       "  %s %s 4242\n"
	       "  %s %s livepatch_fix -j\n"
	       "  sudo %s --state-dir /run/patchgate %s 4242\n",
	       prog, action, what, prog, action, prog, action, prog, action);
}

void usage_promote(const char *prog)
{
	usage_action(prog, "promote", "Commit a patch in BAKE now, before the bake ends: the gate ends\n"
		     "COMMITTED (exit 0) without waiting for the verdict.");
}

void usage_abort(const char *prog)
{
	usage_action(prog, "abort", "Abort a gate: before the patch goes in, nothing is applied; after,\n"
		     "it is reverted now.  The gate ends with exit code 6.");
}

void usage_hold(const char *prog)
{
	usage_action(prog, "hold", "Hold a gate in BAKE: no verdict is taken and the bake's clock stops\n"
		     "until resume.  A hang, a new kernel taint or the target's death still\n"
		     "revert.");
}

void usage_resume(const char *prog)
{
	usage_action(prog, "resume", "Resume a held gate: the verdict goes on, with the bake time that was\n"
		     "left at the hold.");
}

int cmd_control(struct pg_ctx *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 'T' },
		PG_COMMON_LONGOPTS,
		{},
	};
	void (*usage)(const char *) = !strcmp(argv[0], "promote") ? usage_promote :
				      !strcmp(argv[0], "abort") ? usage_abort :
				      !strcmp(argv[0], "hold") ? usage_hold : usage_resume;
	double timeout = 5.0;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		if (c == 'T') {
			if (pg_parse_seconds(optarg, &timeout) || timeout <= 0 || timeout > 3600) {
				pg_err(cli, PG_EXIT_USAGE, "%s: invalid --timeout '%s' (0 < seconds <= 3600)",
				       argv[0], optarg);
				return PG_EXIT_USAGE;
			}
			continue;
		}
		r = pg_cli_common(cli, c, optarg, usage);
		if (r < 0)
			return PG_EXIT_OK;
		if (r == 0) {
			pg_err(cli, PG_EXIT_USAGE, "%s: unknown option (try '%s %s --help')", argv[0],
			       cli->prog, argv[0]);
			return PG_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		pg_err(cli, PG_EXIT_USAGE, "%s: give exactly one PID or MODULE (try '%s %s --help')",
		       argv[0], cli->prog, argv[0]);
		return PG_EXIT_USAGE;
	}
	if (!argv[optind][0] || strchr(argv[optind], '/')) {
		pg_err(cli, PG_EXIT_USAGE, "%s: invalid target '%s': a pid or a module's name",
		       argv[0], argv[optind]);
		return PG_EXIT_USAGE;
	}
	return live_control_main(cli, argv[0], argv[optind], timeout);
}
