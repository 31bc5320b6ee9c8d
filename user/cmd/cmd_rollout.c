// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cmd/cli.h"
#include "core/rollout.h"
#include "gate/opts.h"
#include "view/output.h"

#define ROLLOUT_OPT_EXE		0x1201
#define ROLLOUT_OPT_PIDS	0x1202
#define ROLLOUT_OPT_RINGS	0x1203
#define ROLLOUT_OPT_RESUME	0x1204
#define ROLLOUT_OPT_STATUS	0x1205

void usage_rollout(const char *prog)
{
	printf("Usage: %s rollout PATCH.so (--exe PATH | --pids LIST) [--rings LIST]\n"
	       "                   [--policy FILE] [--set KEY=VALUE]... [-j]\n"
	       "       %s rollout --resume [-j]\n"
	       "       %s rollout --status [-j]\n\n"
	       "Gate a process patch over every process of one binary, ring by ring.  The\n"
	       "processes are found by build-id: those that map PATH, as their executable or\n"
	       "as a library.  A ring's processes are gated at the same time, each with an\n"
	       "unpatched process of a later ring as its concurrent control (the last ring:\n"
	       "before against after).  The plan and its progress are journalled in the state\n"
	       "directory: a rollout that was killed goes on with --resume.\n\n"
	       "Options:\n"
	       "      --exe PATH      the processes that map PATH (by its build-id); processes\n"
	       "                      of it that start during the rollout are found at each\n"
	       "                      ring (policy key new_processes)\n"
	       "      --pids LIST     these processes (comma-separated), of one binary\n"
	       "      --rings LIST    cumulative ring sizes, a count or a percentage each\n"
	       "                      (default: the policy's [rollout] rings, else %s)\n"
	       "  -P, --policy FILE   the gate policy ([gate]) and the rollout's ([rollout]:\n"
	       "                      rings, on_regression = revert_ring | revert_all,\n"
	       "                      on_no_window = skip | retry | abort, retries,\n"
	       "                      new_processes = patch | report); see docs/policy.md\n"
	       "      --set KEY=VALUE override one gate policy key (repeatable)\n"
	       "      --resume        go on with the rollout a killed `rollout` left\n"
	       "      --status        where the state directory's rollout is, or stopped\n"
	       "  -j, --json          {\"type\":\"rollout_ring\"} and {\"type\":\"rollout\"} JSON lines\n\n"
	       "Exit codes: 0 committed everywhere, 1 bad input (nothing changed),\n"
	       "            2 a ring regressed (reverted per on_regression), 3 no safe window\n"
	       "            (on_no_window = abort; or skipped members), 4 a transition timed\n"
	       "            out, 5 system error, 6 aborted by an operator\n\n"
	       "Examples:\n"
	       "  %s rollout fix.so --exe /usr/sbin/demo-service\n"
	       "  %s rollout fix.so --exe /usr/lib/x86_64-linux-gnu/libfoo.so.1 --rings 1,50%%,100%%\n"
	       "  %s rollout fix.so --pids 4242,4243,4244 --policy rollout.ini -j\n"
	       "  %s rollout --resume\n"
	       "  %s rollout --status -j\n",
	       prog, prog, prog, RO_DEF_RINGS, prog, prog, prog, prog, prog);
}

/* --pids 1,2,3 into @o (at most RO_MAX_MEMBERS).  0, or prints and returns PG_EXIT_USAGE. */
static int parse_pids(struct pg_ctx *cli, const char *arg, struct pg_rollout_opts *o)
{
	char *copy = strdup(arg), *save = NULL, *tok;

	o->pids = calloc(RO_MAX_MEMBERS, sizeof(*o->pids));
	if (!copy || !o->pids) {
		free(copy);
		pg_err(cli, PG_EXIT_SYSTEM, "rollout: out of memory");
		return PG_EXIT_SYSTEM;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->npids >= RO_MAX_MEMBERS || pg_parse_pid(tok, &o->pids[o->npids])) {
			pg_err(cli, PG_EXIT_USAGE, "rollout: --pids '%s': expected up to %d pids, "
			       "comma-separated", arg, RO_MAX_MEMBERS);
			free(copy);
			return PG_EXIT_USAGE;
		}
		o->npids++;
	}
	free(copy);
	if (!o->npids) {
		pg_err(cli, PG_EXIT_USAGE, "rollout: --pids: no pid given");
		return PG_EXIT_USAGE;
	}
	return 0;
}

static int rollout_args(struct pg_ctx *cli, int argc, char **argv, struct pg_rollout_opts *o)
{
	bool job = o->resume || o->status;

	if (o->resume && o->status) {
		pg_err(cli, PG_EXIT_USAGE, "rollout: --resume and --status exclude each other");
		return PG_EXIT_USAGE;
	}
	if (job && (optind != argc || o->exe || o->npids || o->rings || o->policy_path || o->nsets)) {
		pg_err(cli, PG_EXIT_USAGE, "rollout: --%s takes the journal's rollout as it is: no "
		       "patch, targets, rings or policy", o->resume ? "resume" : "status");
		return PG_EXIT_USAGE;
	}
	if (job)
		return 0;
	if (optind + 1 != argc) {
		pg_err(cli, PG_EXIT_USAGE, "rollout: give exactly one PATCH.so");
		return PG_EXIT_USAGE;
	}
	if (!!o->exe == !!o->npids) {
		pg_err(cli, PG_EXIT_USAGE, "rollout: give exactly one of --exe PATH or --pids LIST");
		return PG_EXIT_USAGE;
	}
	o->patch_path = argv[optind];
	return 0;
}

int cmd_rollout(struct pg_ctx *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "exe", required_argument, NULL, ROLLOUT_OPT_EXE },
		{ "pids", required_argument, NULL, ROLLOUT_OPT_PIDS },
		{ "rings", required_argument, NULL, ROLLOUT_OPT_RINGS },
		{ "policy", required_argument, NULL, 'P' },
		{ "set", required_argument, NULL, 's' },
		{ "resume", no_argument, NULL, ROLLOUT_OPT_RESUME },
		{ "status", no_argument, NULL, ROLLOUT_OPT_STATUS },
		PG_COMMON_LONGOPTS,
		{},
	};
	struct pg_rollout_opts o = {};
	int c, r = -1;

	optind = 1;
	while (r < 0 && (c = getopt_long(argc, argv, "P:s:" PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case ROLLOUT_OPT_EXE:
			o.exe = optarg;
			break;
		case ROLLOUT_OPT_PIDS:
			if (o.npids) {
				pg_err(cli, PG_EXIT_USAGE, "rollout: give --pids once");
				r = PG_EXIT_USAGE;
				break;
			}
			r = parse_pids(cli, optarg, &o);
			if (!r)
				r = -1;
			break;
		case ROLLOUT_OPT_RINGS:
			o.rings = optarg;
			break;
		case 'P':
			o.policy_path = optarg;
			break;
		case 's':
			if (o.nsets >= (int)(sizeof(o.sets) / sizeof(o.sets[0]))) {
				pg_err(cli, PG_EXIT_USAGE, "rollout: too many --set options");
				r = PG_EXIT_USAGE;
				break;
			}
			o.sets[o.nsets++] = optarg;
			break;
		case ROLLOUT_OPT_RESUME:
			o.resume = true;
			break;
		case ROLLOUT_OPT_STATUS:
			o.status = true;
			break;
		default:
			r = pg_cli_option(cli, "rollout", c, optarg, usage_rollout, &(struct pg_cli_target){});
		}
	}
	if (r >= 0)
		goto out;	/* --help, or an error said */
	r = rollout_args(cli, argc, argv, &o);
	if (!r)
		r = rollout_main(cli, &o);
out:
	free(o.pids);
	return r;
}
