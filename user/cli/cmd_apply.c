// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include "cli/cli.h"
#include "cli/cmds.h"
#include "ui/output.h"
#include <string.h>
#include <patchgate/abi.h>

void usage_apply(const char *prog)
{
	printf("Usage: %s apply (--pid PID PATCH.so | --klp MODULE.ko) [--policy FILE]\n"
	       "                 [--no-gate] [--dry-run] [-j]\n\n"
	       "Gate a live patch: take a baseline of the functions it replaces, wait for a\n"
	       "safe window, apply it, bake, then commit it or revert it on its own.\n\n"
	       "Options:\n"
	       "  -p, --pid PID       patch this running process with PATCH.so\n"
	       "  -K, --klp MODULE    load this kernel livepatch module\n"
	       "  -P, --policy FILE   gate policy (INI); see docs/policy.md\n"
	       "      --no-gate       apply at once (still waits for a safe window), no bake\n"
	       "      --dry-run       baseline and window only; report, apply nothing\n"
	       "      --max-wait S    give up waiting for a safe window after S seconds\n"
	       "      --set KEY=VALUE override one policy key (repeatable)\n"
	       "  -e, --errors MODE   count neg (<0) or zero (==0) returns of the replaced\n"
	       "                      functions as errors (the error-rate rule)\n"
	       "  -j, --json          {\"type\":\"decision\"} JSON lines\n\n"
	       "Exit codes: 0 committed, 1 bad input, 2 reverted (regressed),\n"
	       "            3 no safe window, 4 transition timed out, 5 system error\n\n"
	       "Examples:\n"
	       "  %s apply --pid 4242 fix-parse.so\n"
	       "  %s apply --pid 4242 fix-parse.so --policy examples/policies/strict.ini -j\n"
	       "  %s apply --klp livepatch_fix.ko --dry-run\n"
	       "  %s apply --pid 4242 fix.so --set bake=2m --set p99_ratio_max=1.1 --errors neg\n",
	       prog, prog, prog, prog, prog);
}

int cmd_apply(struct pg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "klp", required_argument, NULL, 'K' },
		{ "policy", required_argument, NULL, 'P' },
		{ "no-gate", no_argument, NULL, 'G' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "max-wait", required_argument, NULL, 'W' },
		{ "set", required_argument, NULL, 's' },
		{ "errors", required_argument, NULL, 'e' },
		PG_COMMON_LONGOPTS,
		{},
	};
	struct pg_apply_opts o = { .max_wait_s = -1.0 };
	const char *klp = NULL;
	int pid = 0, c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:K:P:W:" PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		r = pg_cli_common(cli, c, optarg, usage_apply);
		if (r < 0)
			return PG_EXIT_OK;
		if (r > 0)
			continue;
		switch (c) {
		case 'p':
			if (pg_parse_pid(optarg, &pid)) {
				pg_err(cli, PG_EXIT_USAGE, "apply: invalid pid '%s'", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'K':
			klp = optarg;
			break;
		case 'P':
			o.policy_path = optarg;
			break;
		case 'G':
			o.no_gate = true;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 's':
			if (o.nsets >= (int)(sizeof(o.sets) / sizeof(o.sets[0]))) {
				pg_err(cli, PG_EXIT_USAGE, "apply: too many --set options");
				return PG_EXIT_USAGE;
			}
			o.sets[o.nsets++] = optarg;
			break;
		case 'e':
			if (!strcmp(optarg, "neg"))
				o.err_mode = PG_ERR_NEG;
			else if (!strcmp(optarg, "zero"))
				o.err_mode = PG_ERR_ZERO;
			else {
				pg_err(cli, PG_EXIT_USAGE, "apply: --errors takes 'neg' or 'zero', not '%s'", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case 'W':
			if (pg_parse_seconds(optarg, &o.max_wait_s)) {
				pg_err(cli, PG_EXIT_USAGE, "apply: invalid --max-wait '%s'", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		default:
			pg_err(cli, PG_EXIT_USAGE, "apply: bad option (try 'patchgate apply --help')");
			return PG_EXIT_USAGE;
		}
	}
	if (!!pid == !!klp) {
		pg_err(cli, PG_EXIT_USAGE, "apply: give exactly one of --pid PID PATCH.so or --klp MODULE.ko");
		return PG_EXIT_USAGE;
	}
	if (pid && optind + 1 != argc) {
		pg_err(cli, PG_EXIT_USAGE, "apply: --pid needs exactly one PATCH.so");
		return PG_EXIT_USAGE;
	}
	if (klp && optind != argc) {
		pg_err(cli, PG_EXIT_USAGE, "apply: unexpected argument '%s'", argv[optind]);
		return PG_EXIT_USAGE;
	}
	if (o.no_gate && o.dry_run) {
		pg_err(cli, PG_EXIT_USAGE, "apply: --dry-run and --no-gate exclude each other");
		return PG_EXIT_USAGE;
	}
	o.pid = pid;
	o.klp = !!klp;
	o.patch_path = klp ? klp : argv[optind];
	if (!o.no_gate)
		return gate_apply_main(cli, &o);
	return o.klp ? klp_apply_main(cli, &o) : ulp_apply_main(cli, &o);
}
