// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* patchgate: a safety gate for live patching.  Subcommand dispatch only. */
#include <stdio.h>
#include <string.h>
#include "cmd/cli.h"
#include "gate/doctor.h"
#include "view/output.h"
/* PG_VERSION: git describe at build time, or the package's version (Makefile) */
#include "pg_version.h"

static const struct pg_cmd cmds[] = {
	{ "watch", cmd_watch, usage_watch, "trace target functions: calls, in-flight, latency, errors" },
	{ "residency", cmd_residency, usage_residency, "list threads or tasks inside target functions now" },
	{ "apply", cmd_apply, usage_apply, "gate and apply a live patch (process or klp module)" },
	{ "rollout", cmd_rollout, usage_rollout, "gate a patch over every process of a binary, in rings" },
	{ "revert", cmd_revert, usage_revert, "take a live patch back" },
	{ "status", cmd_status, usage_status, "list applied patches and their phase" },
	{ "doctor", cmd_doctor, usage_doctor, "check this machine for what each command needs" },
	{ "top", cmd_top, usage_top, "live dashboard of running gates and applied patches" },
	{ "report", cmd_report, usage_report, "draw a gated apply from its audit log (png, svg, html)" },
	{ "promote", cmd_control, usage_promote, "commit a baking patch now (running gate)" },
	{ "abort", cmd_control, usage_abort, "abort a running gate: revert now (exit 6)" },
	{ "hold", cmd_control, usage_hold, "pause a running gate's verdict and bake" },
	{ "resume", cmd_control, usage_resume, "resume a held gate" },
#ifndef PG_NO_EXPORTER
	/* not in the static guest build: libmicrohttpd (Makefile, `static`) */
	{ "exporter", cmd_exporter, usage_exporter, "Prometheus metrics of running gates (HTTP, textfile)" },
#endif
};

static void usage(const char *prog)
{
	printf("Usage: %s [--version] [--help] COMMAND [OPTIONS] ...\n\n", prog);
	printf("A safety gate for live patching: measure the functions a patch replaces,\n"
	       "apply it in a safe window, bake, then commit or revert on its own.\n\n");
	printf("Commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		printf("  %-10s %s\n", cmds[i].name, cmds[i].summary);
	printf("  %-10s %s\n", "help", "show help for a command");
	printf("\nOptions:\n"
	       "  -j, --json           JSON lines on stdout (errors too)\n"
	       "      --verbose        say more\n"
	       "      --state-dir DIR  journals, audit log, phase files (default %s)\n"
	       "  -h, --help           this help; 'COMMAND --help' for a command's\n"
	       "  -V, --version        the version, the libbpf built with, and the kernel\n"
	       "                       features found now (BTF, livepatch, fentry, uprobe_multi,\n"
	       "                       uprobe_session, uprobe_nop5)\n", PG_STATE_DIR_DEFAULT);
	printf("\nExit codes:\n"
	       "  0  success, or the patch was committed\n"
	       "  1  usage error or bad input; nothing changed\n"
	       "  2  reverted because health regressed\n"
	       "  3  aborted: no safe window came; nothing applied\n"
	       "  4  reverted because the transition timed out\n"
	       "  5  system or internal error\n"
	       "  6  aborted by an operator (abort): reverted, or nothing applied\n");
	printf("\nExamples:\n"
	       "  %s watch --pid 4242 --interval 1 handle_request\n"
	       "  %s apply --pid 4242 fix-cve.so --policy /etc/patchgate/strict.ini\n"
	       "  %s apply --klp livepatch_fix.ko -j\n"
	       "  %s doctor --process\n"
	       "  %s --version -j\n"
	       "  %s help apply\n", prog, prog, prog, prog, prog, prog);
}

static const struct pg_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct pg_ctx cli = {
		.state_dir = PG_STATE_DIR_DEFAULT,
		.prog = "patchgate",
	};
	const struct pg_cmd *cmd;
	int i = 1;

	/* leading common flags: patchgate -j status */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			cli.json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(cli.prog);
			return PG_EXIT_OK;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			/* after -j too: "patchgate --version -j" */
			for (int j = i + 1; j < argc; j++)
				if (!strcmp(argv[j], "-j") || !strcmp(argv[j], "--json"))
					cli.json = true;
			return gate_version(&cli, PG_VERSION);
		} else {
			pg_err(&cli, PG_EXIT_USAGE, "unknown option '%s' (try '%s --help')", argv[i], cli.prog);
			return PG_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(cli.prog);
		return PG_EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage(cli.prog);
			return PG_EXIT_OK;
		}
		cmd = find_cmd(argv[i + 1]);
		if (!cmd) {
			pg_err(&cli, PG_EXIT_USAGE, "unknown command '%s' (try '%s --help')", argv[i + 1], cli.prog);
			return PG_EXIT_USAGE;
		}
		cmd->usage(cli.prog);
		return PG_EXIT_OK;
	}
	cmd = find_cmd(argv[i]);
	if (!cmd) {
		pg_err(&cli, PG_EXIT_USAGE, "unknown command '%s' (try '%s --help')", argv[i], cli.prog);
		return PG_EXIT_USAGE;
	}
	/* the handler sees argv[0] == command name, as getopt expects */
	return cmd_exit(cmd->handler(&cli, argc - i, argv + i));
}
