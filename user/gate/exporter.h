/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `patchgate exporter` (gate/exporter.c): every live record of the state
 * directory as Prometheus metrics (view/metrics.h, docs/metrics.md), read
 * afresh at each scrape, served over HTTP by libmicrohttpd and/or written
 * as a node_exporter textfile.  Not in the static guest build (the
 * Makefile's `static` target leaves this file out: libmicrohttpd).
 */
#ifndef PG_GATE_EXPORTER_H
#define PG_GATE_EXPORTER_H

#include <stdbool.h>
#include <sys/socket.h>
#include "view/output.h"
#include "view/metrics.h"

#define EXPORTER_PORT_DEFAULT	9456
#define EXPORTER_TEXTFILE	"patchgate.prom"

struct pg_exporter_opts {
	const char *listen;		/* "ADDR:PORT", or NULL: no HTTP server */
	bool allow_remote;		/* --allow-remote: a non-loopback address may be bound */
	const char *textfile_dir;	/* or NULL */
	double interval_s;		/* between two textfile writes */
	int print;			/* -1, or a format: one scrape to stdout, then exit */
};

/*
 * Parse @s ("PORT", ":PORT", "ADDR:PORT", "[ADDR6]:PORT", "localhost:PORT";
 * numeric addresses only, no name lookups) into @ss.  @loopback says
 * whether it is 127.0.0.0/8 or ::1.  0 or -EINVAL with @why.
 */
int exporter_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			  bool *loopback, char *why, size_t whylen);

/* Run until SIGINT or SIGTERM (exit 0).  Returns an outcome, errors printed. */
int exporter_main(struct pg_ctx *ctx, const struct pg_exporter_opts *o);

#endif
