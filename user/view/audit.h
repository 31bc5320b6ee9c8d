/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Gate audit records (user/core/gate.h) as JSON lines and plain text. */
#ifndef PG_UI_AUDIT_H
#define PG_UI_AUDIT_H

#include <stddef.h>
#include <json-c/json.h>
#include "core/gate.h"

/*
 * One record (pg_json_record: "type": @type, "v") with "kind": "ulp"|"klp";
 * @type is "decision" for gate_step decisions (stdout and the audit log),
 * "phase" for the phase file, "progress" for gate_snapshot.  Every number behind the
 * decision is included: per function n, quantiles, ratios, p-values, error
 * rates; the policy in force; blockers or stragglers.  Durations are in
 * seconds, latencies in ns.  The caller owns the result (json_object_put);
 * NULL when out of memory.
 */
json_object *audit_to_json(const struct gate_audit *a, const char *type);

/*
 * The "histograms" record of the final decision @a (docs/json.md): per
 * function of @a its baseline and post-patch histograms, @base[i] and
 * @post[i] (NULL: none, written as null), as their non-empty buckets with
 * the bounds.  "kind", "seq" and "to" come from @a; the caller adds
 * "patch", "target" and "wall_time".  NULL when out of memory.
 */
struct pg_hist;
json_object *audit_hists_to_json(const struct gate_audit *a, const struct pg_hist *const base[],
				 const struct pg_hist *const post[]);

/*
 * One plain line for a terminal: "BAKE -> REVERTING (regressed): <detail>".
 * Returns snprintf's result.
 */
int audit_format(const struct gate_audit *a, char *buf, size_t len);

/*
 * A progress line from a snapshot: phase, elapsed time, and per function
 * the post/base calls and the current p50/p99 ratios with their p-values,
 * e.g. "BAKE 42s parse_request 1200/2000 p50 x1.02 (p 0.41) p99 x1.31 (p 0.004)".
 */
int audit_progress_line(const struct gate_audit *a, char *buf, size_t len);

#endif
