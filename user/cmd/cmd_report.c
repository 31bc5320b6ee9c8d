// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "cmd/cli.h"
#include "gate/opts.h"
#include "view/output.h"

void usage_report(const char *prog)
{
	printf("Usage: %s report AUDIT.log [--gate N | --last] --out FILE.png|FILE.svg|FILE.html [-j]\n\n"
	       "Draw one gated apply from its audit log: per function, the latency\n"
	       "distribution (cumulative, on a log axis) of the baseline and of the bake\n"
	       "with their p50 and p99 marked, the verdict and its numbers, and the\n"
	       "timeline of the gate's phases.  The curves come from the histograms the\n"
	       "gate keeps beside the log at its final decision (<state-dir>/hist/);\n"
	       "without them the recorded p50/p90/p99 are drawn.  gnuplot draws the\n"
	       "picture; .html is a single page, readable offline, with the picture\n"
	       "inline and the decision records as tables.  The file is written whole\n"
	       "or not at all.\n\n"
	       "Options:\n"
	       "  -g, --gate N       the Nth gated apply in the log (1: the first)\n"
	       "  -l, --last         the last one (the default)\n"
	       "  -o, --out FILE     where to write; the extension picks the format:\n"
	       "                     .png, .svg, .html\n"
	       "  -j, --json         a {\"type\":\"report\"} record of what was written\n\n"
	       "Exit codes: 0 written; 1 bad input (no such audit log, a line that is\n"
	       "not an audit record, no such gate, an unknown extension, an unwritable\n"
	       "FILE); 5 gnuplot missing or failing, or another system error.\n\n"
	       "Examples:\n"
	       "  %s report /run/patchgate/audit.log --out gate.png\n"
	       "  %s report /run/patchgate/audit.log --gate 3 --out gate3.svg\n"
	       "  %s report /run/patchgate/audit.log --last --out review.html -j\n",
	       prog, prog, prog, prog);
}

int cmd_report(struct pg_ctx *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gate", required_argument, NULL, 'g' },
		{ "last", no_argument, NULL, 'l' },
		{ "out", required_argument, NULL, 'o' },
		PG_COMMON_LONGOPTS,
		{},
	};
	struct pg_report_opts o = {};
	bool last = false;
	char *end;
	long n;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "g:lo:" PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || n < 1 || n > 1000000000) {
				pg_err(cli, PG_EXIT_USAGE, "report: invalid --gate '%s': a number from 1",
				       optarg);
				return PG_EXIT_USAGE;
			}
			o.gate = (unsigned int)n;
			break;
		case 'l':
			last = true;
			break;
		case 'o':
			o.out = optarg;
			break;
		default:
			r = pg_cli_common(cli, c, optarg, usage_report);
			if (r < 0)
				return PG_EXIT_OK;
			if (r == 0) {
				pg_err(cli, PG_EXIT_USAGE, "report: unknown option (try '%s report --help')",
				       cli->prog);
				return PG_EXIT_USAGE;
			}
		}
	}
	if (last && o.gate) {
		pg_err(cli, PG_EXIT_USAGE, "report: give at most one of --gate N or --last");
		return PG_EXIT_USAGE;
	}
	if (optind + 1 != argc) {
		pg_err(cli, PG_EXIT_USAGE, optind == argc ? "report: which audit log? (try '%s report --help')"
		       : "report: one audit log only (try '%s report --help')", cli->prog);
		return PG_EXIT_USAGE;
	}
	o.audit = argv[optind];
	if (!o.out || !*o.out) {
		pg_err(cli, PG_EXIT_USAGE, "report: --out FILE.png|FILE.svg|FILE.html is required");
		return PG_EXIT_USAGE;
	}
	return report_main(cli, &o);
}
