// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include "cmd/cli.h"
#include "core/policy.h"
#include "gate/opts.h"
#include "view/output.h"
#include <string.h>
#include <patchgate/abi.h>

#define APPLY_OPT_PREVIOUS 0x1101
#define APPLY_OPT_CONTROL_PID 0x1102

/* The policy keys, from the policy's own table (bash completion reads them here). */
static void usage_policy_keys(void)
{
	unsigned int col = 2;

	printf("Policy keys (--set KEY=VALUE, or the [gate] section of --policy FILE):\n ");
	for (unsigned int i = 0; i < policy_nkeys(); i++) {
		const char *k = policy_key_name(i);

		if (col + 1 + strlen(k) > 76) {
			printf("\n ");
			col = 2;
		}
		printf(" %s", k);
		col += 1 + (unsigned int)strlen(k);
	}
	printf("\n\n");
}

void usage_apply(const char *prog)
{
	printf("Usage: %s apply (--pid PID PATCH.so | --klp MODULE.ko [KEY=VALUE...])\n"
	       "                 [--policy FILE] [--previous FILE] [--no-gate] [--dry-run] [-j]\n\n"
	       "Gate a live patch: take a baseline of the functions it replaces, wait for a\n"
	       "safe window, apply it, bake, then commit it or revert it on its own.\n\n"
	       "Options:\n"
	       "  -p, --pid PID       patch this running process with PATCH.so\n"
	       "  -K, --klp MODULE    load this kernel livepatch module; KEY=VALUE arguments\n"
	       "                      after it are its module parameters, as for insmod\n"
	       "      --previous FILE\n"
	       "                      klp, gated, atomic-replace patch: the module file of the\n"
	       "                      patch it replaces, reloaded if the gate reverts\n"
	       "      --control-pid PID|auto\n"
	       "                      an unpatched process of the same binary (same build-id)\n"
	       "                      whose copies of the replaced functions are the control;\n"
	       "                      auto: the lowest pid of those patchgate has not patched\n"
	       "                      (none found: a warning, and no sibling control)\n"
	       "  -P, --policy FILE   gate policy (INI); see docs/policy.md\n"
	       "      --no-gate       apply at once (still waits for a safe window), no bake\n"
	       "      --dry-run       baseline and window only; report, apply nothing\n"
	       "      --max-wait S    give up waiting for a safe window after S seconds\n"
	       "      --set KEY=VALUE override one policy key (repeatable)\n"
	       "  -e, --errors MODE   count neg (<0) or zero (==0) returns of the replaced\n"
	       "                      functions as errors (the error-rate rule)\n"
	       "  -j, --json          {\"type\":\"decision\"} JSON lines\n\n", prog);
	usage_policy_keys();
	printf("Exit codes: 0 committed, 1 bad input, 2 reverted (regressed),\n"
	       "            3 no safe window, 4 transition timed out, 5 system error,\n"
	       "            6 aborted by an operator (patchgate abort, or top)\n\n"
	       "Examples:\n"
	       "  %s apply --pid 4242 fix-parse.so\n"
	       "  %s apply --pid 4242 fix-parse.so --policy examples/policies/strict.ini -j\n"
	       "  %s apply --klp livepatch_fix.ko --dry-run\n"
	       "  %s apply --klp livepatch_fix.ko debug=1 --no-gate\n"
	       "  %s apply --pid 4242 fix.so --set bake=2m --set p99_ratio_max=1.1 --errors neg\n"
	       "  %s apply --pid 4242 fix.so --control-pid 4243\n"
	       "  %s apply --pid 4242 fix.so --control-pid auto\n",
	       prog, prog, prog, prog, prog, prog, prog);
}

/*
 * Module parameters from KEY=VALUE arguments into one finit_module
 * string, as insmod passes them: KEY is letters, digits, '_' and '-';
 * a VALUE with blanks is quoted (the kernel strips the quotes).  Returns
 * 0, or -1 with the error printed.
 */
static int klp_params(struct pg_ctx *cli, char **args, int n, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		const char *a = args[i], *eq = strchr(a, '='), *v = eq ? eq + 1 : NULL;
		size_t klen = eq ? (size_t)(eq - a) : 0;
		bool quote;
		int w;

		if (!eq || !klen || strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789_-") != klen) {
			pg_err(cli, PG_EXIT_USAGE, "apply: module parameter '%s' is not KEY=VALUE "
			       "(KEY: letters, digits, '_', '-')", a);
			return -1;
		}
		if (strpbrk(v, "\"\n")) {
			pg_err(cli, PG_EXIT_USAGE, "apply: module parameter '%s': a value cannot hold "
			       "'\"' or a newline", a);
			return -1;
		}
		quote = strpbrk(v, " \t") != NULL;
		w = snprintf(out + off, len - off, "%s%.*s=%s%s%s", off ? " " : "", (int)klen, a,
			     quote ? "\"" : "", v, quote ? "\"" : "");
		if (w < 0 || (size_t)w >= len - off) {
			pg_err(cli, PG_EXIT_USAGE, "apply: module parameters longer than %zu bytes",
			       len - 1);
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

int cmd_apply(struct pg_ctx *cli, int argc, char **argv)
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
		{ "previous", required_argument, NULL, APPLY_OPT_PREVIOUS },
		{ "control-pid", required_argument, NULL, APPLY_OPT_CONTROL_PID },
		PG_COMMON_LONGOPTS,
		{},
	};
	struct pg_apply_opts o = { .max_wait_s = -1.0 };
	const char *klp = NULL;
	struct pg_cli_target t = {};
	char params[4096];
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:K:P:W:e:" PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case 'K':
			klp = optarg;
			break;
		case APPLY_OPT_PREVIOUS:
			o.previous = optarg;
			break;
		case APPLY_OPT_CONTROL_PID: {
			char *end;
			long v;

			if (!strcmp(optarg, "auto")) {
				o.control_pid = PG_CONTROL_PID_AUTO;
				break;
			}
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v <= 0 || v > INT_MAX) {
				pg_err(cli, PG_EXIT_USAGE, "apply: invalid --control-pid '%s'", optarg);
				return PG_EXIT_USAGE;
			}
			o.control_pid = (int)v;
			break;
		}
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
			if (pg_cli_err_mode(cli, "apply", optarg, &o.err_mode))
				return PG_EXIT_USAGE;
			break;
		case 'W':
			if (pg_parse_seconds(optarg, &o.max_wait_s)) {
				pg_err(cli, PG_EXIT_USAGE, "apply: invalid --max-wait '%s'", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		default:
			/* the common options, --pid and --kernel */
			r = pg_cli_option(cli, "apply", c, optarg, usage_apply, &t);
			if (r >= 0)
				return r;
		}
	}
	if (!!t.pid == !!klp) {
		pg_err(cli, PG_EXIT_USAGE, "apply: give exactly one of --pid PID PATCH.so or --klp MODULE.ko");
		return PG_EXIT_USAGE;
	}
	if (t.pid && optind + 1 != argc) {
		pg_err(cli, PG_EXIT_USAGE, "apply: --pid needs exactly one PATCH.so");
		return PG_EXIT_USAGE;
	}
	if (klp && klp_params(cli, argv + optind, argc - optind, params, sizeof(params)))
		return PG_EXIT_USAGE;
	if (o.previous && !klp) {
		pg_err(cli, PG_EXIT_USAGE, "apply: --previous is for a kernel livepatch (--klp)");
		return PG_EXIT_USAGE;
	}
	if (o.control_pid && (klp || o.no_gate)) {
		pg_err(cli, PG_EXIT_USAGE, "apply: --control-pid is for a gated process patch (--pid, "
		       "without --no-gate)");
		return PG_EXIT_USAGE;
	}
	if (o.no_gate && o.dry_run) {
		pg_err(cli, PG_EXIT_USAGE, "apply: --dry-run and --no-gate exclude each other");
		return PG_EXIT_USAGE;
	}
	o.pid = t.pid;
	o.klp = !!klp;
	o.patch_path = klp ? klp : argv[optind];
	o.klp_params = klp ? params : NULL;
	if (!o.no_gate)
		return gate_apply_main(cli, &o);
	return plain_apply_main(cli, &o);
}
