/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The records of apply --no-gate, revert and status, one printer per
 * record for both kinds of patch (plain text, or one JSON line with -j).
 * Every record carries "kind" ("ulp" or "klp").
 */
#ifndef PG_VIEW_PATCH_H
#define PG_VIEW_PATCH_H

#include <stdint.h>
#include "core/patch.h"
#include "view/output.h"

/*
 * The result of an apply or a revert (@op "apply" or "revert"): the
 * "type":@op record, or the plain lines.  @pid 0 for the kernel.  A
 * failure (r->fail) is reported with @exit_code; plain text then goes to
 * stderr.
 */
void view_patch_result(const struct pg_ctx *ctx, const char *op, const char *kind, int pid,
		       const char *module, const struct pg_be_result *r, int exit_code);

/* One patch of status: a "type":"patch" record, or its plain lines. */
void view_patch_status(const struct pg_ctx *ctx, const char *kind, const struct pg_patch_status *s);

/*
 * Transition progress: a "type":"stragglers" record, or an info line,
 * when the set differs from @last (updated; @lastlen bytes).
 */
void view_stragglers(const struct pg_ctx *ctx, const char *kind, const char *patch, bool enabled,
		     const struct pg_inside *s, unsigned int n, unsigned int total, char *last,
		     size_t lastlen);

/* A gate's phase from its state file: a "type":"gate" record, or one line. */
void view_gate_phase(const struct pg_ctx *ctx, const char *kind, int pid, const char *patch,
		     const char *phase, const char *reason, int64_t updated);

/* "tid 123 (cat) sleeping in pipe_read" / "... running" / "... in f (pc)" */
void view_inside_text(const char *kind, const struct pg_inside *s, char *buf, size_t len);

#endif
