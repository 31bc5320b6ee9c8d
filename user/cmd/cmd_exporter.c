// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include "cmd/cli.h"
#include "gate/exporter.h"
#include "view/output.h"

#define EXPORTER_INTERVAL_DEFAULT	15.0

void usage_exporter(const char *prog)
{
	printf("Usage: %s exporter [--listen ADDR:PORT [--allow-remote]] [--textfile-dir DIR\n"
	       "                 [--interval SECONDS]] [--print FORMAT] [--state-dir DIR]\n\n"
	       "Prometheus metrics of every gate running with the state directory (their\n"
	       "live records, live/*.json, read afresh at each scrape): calls, errors,\n"
	       "in-flight and a latency histogram per function, the phase, decisions,\n"
	       "the patch, blockers and stragglers (docs/metrics.md lists every series).\n"
	       "GET /metrics answers in the Prometheus text format, or in OpenMetrics when\n"
	       "the Accept header asks for application/openmetrics-text.  Runs until\n"
	       "SIGINT or SIGTERM (exit 0).  Reading the records needs root or the gates'\n"
	       "uid.  Not in the static guest build (tests/vm): it has no libmicrohttpd.\n\n"
	       "Options:\n"
	       "      --listen ADDR:PORT  serve HTTP there (default 127.0.0.1:%d when\n"
	       "                          --textfile-dir is not given); PORT alone or :PORT\n"
	       "                          is 127.0.0.1; [::1]:PORT for IPv6; numeric only\n"
	       "      --allow-remote      allow an address other than loopback (127.0.0.0/8,\n"
	       "                          ::1), such as 0.0.0.0: the metrics name every\n"
	       "                          patch and target; there is no TLS or auth\n"
	       "      --textfile-dir DIR  write DIR/%s for node_exporter's textfile\n"
	       "                          collector (temporary file + rename, mode 0644)\n"
	       "      --interval SECONDS  between two textfile writes (default %g)\n"
	       "      --print FORMAT      print one scrape to stdout and exit; FORMAT is\n"
	       "                          prometheus or openmetrics\n\n"
	       "Exit codes: 0 stopped by a signal (or printed), 1 bad input: a bad address,\n"
	       "a non-loopback address without --allow-remote, a port in use, a missing or\n"
	       "unsafe state directory, a textfile directory that cannot be written;\n"
	       "5 a system error.\n\n"
	       "Examples:\n"
	       "  %s exporter\n"
	       "  %s exporter --listen 127.0.0.1:9456 --state-dir /run/patchgate\n"
	       "  %s exporter --listen 0.0.0.0:9456 --allow-remote\n"
	       "  %s exporter --textfile-dir /var/lib/prometheus/node-exporter --interval 30\n"
	       "  %s exporter --print openmetrics | promtool check metrics\n",
	       prog, EXPORTER_PORT_DEFAULT, EXPORTER_TEXTFILE, EXPORTER_INTERVAL_DEFAULT,
	       prog, prog, prog, prog, prog);
}

#define OPT_LISTEN	0x2001
#define OPT_REMOTE	0x2002
#define OPT_TEXTFILE	0x2003
#define OPT_INTERVAL	0x2004
#define OPT_PRINT	0x2005

int cmd_exporter(struct pg_ctx *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "allow-remote", no_argument, NULL, OPT_REMOTE },
		{ "textfile-dir", required_argument, NULL, OPT_TEXTFILE },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "print", required_argument, NULL, OPT_PRINT },
		PG_COMMON_LONGOPTS,
		{},
	};
	char listen_default[32];
	struct pg_exporter_opts o = { .interval_s = EXPORTER_INTERVAL_DEFAULT, .print = -1 };
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, PG_COMMON_SHORTOPTS, opts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			o.listen = optarg;
			break;
		case OPT_REMOTE:
			o.allow_remote = true;
			break;
		case OPT_TEXTFILE:
			o.textfile_dir = optarg;
			break;
		case OPT_INTERVAL:
			if (pg_parse_seconds(optarg, &o.interval_s) || o.interval_s < 0.2 ||
			    o.interval_s > 3600) {
				pg_err(cli, PG_EXIT_USAGE, "exporter: invalid interval '%s': from 0.2 "
				       "seconds to an hour", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		case OPT_PRINT:
			if (!strcmp(optarg, "prometheus")) {
				o.print = METRICS_PROM;
			} else if (!strcmp(optarg, "openmetrics")) {
				o.print = METRICS_OPENMETRICS;
			} else {
				pg_err(cli, PG_EXIT_USAGE, "exporter: invalid format '%s': prometheus or "
				       "openmetrics", optarg);
				return PG_EXIT_USAGE;
			}
			break;
		default:
			r = pg_cli_common(cli, c, optarg, usage_exporter);
			if (r < 0)
				return PG_EXIT_OK;
			if (r == 0) {
				pg_err(cli, PG_EXIT_USAGE, "exporter: unknown option (try '%s exporter "
				       "--help')", cli->prog);
				return PG_EXIT_USAGE;
			}
		}
	}
	if (optind != argc) {
		pg_err(cli, PG_EXIT_USAGE, "exporter: unexpected argument '%s'", argv[optind]);
		return PG_EXIT_USAGE;
	}
	if (!o.listen && !o.textfile_dir) {
		snprintf(listen_default, sizeof(listen_default), "127.0.0.1:%d", EXPORTER_PORT_DEFAULT);
		o.listen = listen_default;
	}
	return exporter_main(cli, &o);
}
