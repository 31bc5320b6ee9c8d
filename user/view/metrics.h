/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The "live" records of running gates as Prometheus metrics
 * (docs/metrics.md): the text exposition format 0.0.4 or OpenMetrics 1.0.
 * The same series, labels and values in both; only the family metadata
 * differs (OpenMetrics has counter families without "_total", "stateset",
 * "info", "# UNIT" and "# EOF").  `patchgate exporter` serves and writes
 * what this renders; nothing here reads a file or a clock.
 */
#ifndef PG_VIEW_METRICS_H
#define PG_VIEW_METRICS_H

#include <stddef.h>
#include <json-c/json.h>

enum metrics_format {
	METRICS_PROM = 0,	/* text/plain; version=0.0.4 */
	METRICS_OPENMETRICS,	/* application/openmetrics-text; version=1.0.0 */
};

#define METRICS_CT_PROM	"text/plain; version=0.0.4; charset=utf-8"
#define METRICS_CT_OM	"application/openmetrics-text; version=1.0.0; charset=utf-8"

/* One gate: its "live" record and its health ("running", "finished", "gone"). */
struct metrics_gate {
	json_object *rec;
	const char *health;
};

/*
 * Every series of @n gates in @fmt, as one NUL-terminated buffer the caller
 * frees; its length in @len.  NULL with errno when out of memory.
 */
char *metrics_render(const struct metrics_gate *g, int n, enum metrics_format fmt, size_t *len);

/*
 * The format an HTTP Accept header asks for: OpenMetrics when it names
 * application/openmetrics-text with a q at least that of text/plain (and
 * above 0), the text format otherwise (also for a missing header).
 */
enum metrics_format metrics_negotiate(const char *accept);

#endif
