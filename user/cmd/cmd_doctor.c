// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include "cmd/cli.h"
#include "gate/doctor.h"
#include "view/output.h"

void usage_doctor(const char *prog)
{
	printf("Usage: %s doctor [--process | --kernel] [-j]\n\n"
	       "Check this machine for what each command needs: capabilities, kernel\n"
	       "features (BTF, bpf(2), uprobe and kprobe events, fentry, livepatch, module\n"
	       "loading), ptrace_scope, the state directory and the libbpf it runs with.\n"
	       "Each check names the commands that need it, what it found, and how to get\n"
	       "what is missing; the kernel's config (/boot/config-RELEASE or\n"
	       "/proc/config.gz) is quoted in the hints.  Notes (tracefs, the kernel\n"
	       "config, CAP_DAC_OVERRIDE) never fail the run.\n\n"
	       "Options:\n"
	       "      --process   only what patching processes needs (--pid commands)\n"
	       "      --kernel    only what kernel livepatches need (--kernel, --klp)\n"
	       "  -j, --json      {\"type\":\"check\"} JSON lines, then {\"type\":\"doctor\"}\n\n"
	       "Exit codes: 0 everything needed is there, 1 something is missing (or a\n"
	       "            usage error)\n\n"
	       "Examples:\n"
	       "  %s doctor\n"
	       "  %s doctor --process -j\n"
	       "  %s doctor --kernel\n", prog, prog, prog, prog);
}

#define DOCTOR_OPT_PROCESS 0x1201

int cmd_doctor(struct pg_ctx *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "process", no_argument, NULL, DOCTOR_OPT_PROCESS },
		{ "kernel", no_argument, NULL, 'k' },
		PG_COMMON_LONGOPTS,
		{},
	};
	enum gate_doctor_scope scope = GATE_DOCTOR_ALL;
	bool process = false, kernel = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k" PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		if (c == DOCTOR_OPT_PROCESS) {
			process = true;
			continue;
		}
		if (c == 'k') {
			kernel = true;
			continue;
		}
		r = pg_cli_common(cli, c, optarg, usage_doctor);
		if (r < 0)
			return PG_EXIT_OK;
		if (r == 0) {
			pg_err(cli, PG_EXIT_USAGE, "doctor: bad option (try 'patchgate doctor --help')");
			return PG_EXIT_USAGE;
		}
	}
	if (process && kernel) {
		pg_err(cli, PG_EXIT_USAGE, "doctor: give at most one of --process or --kernel");
		return PG_EXIT_USAGE;
	}
	if (optind != argc) {
		pg_err(cli, PG_EXIT_USAGE, "doctor: unexpected argument '%s'", argv[optind]);
		return PG_EXIT_USAGE;
	}
	if (process)
		scope = GATE_DOCTOR_PROCESS;
	else if (kernel)
		scope = GATE_DOCTOR_KERNEL;
	return gate_doctor(cli, scope);
}
