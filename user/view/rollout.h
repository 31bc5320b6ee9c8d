/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A rollout's records (docs/json.md): "rollout" (the plan and progress, as
 * the journal keeps it, -j's last line and status) and "rollout_ring" (one
 * per ring: the audit log and -j), with their plain forms.
 */
#ifndef PG_VIEW_ROLLOUT_H
#define PG_VIEW_ROLLOUT_H

#include <stdbool.h>
#include <json-c/json.h>
#include "core/rollout.h"
#include "view/output.h"

/* The "rollout" record of @r; @live: its driver runs now (-1: leave the field out). */
json_object *view_rollout_json(const struct ro_run *r, int live);
/* The "rollout_ring" record of ring @ring (1-based) of @r, ended with @verdict at @wall. */
json_object *view_rollout_ring_json(const struct ro_run *r, unsigned int ring, const char *verdict,
				    double wall);

/* Print @r: the record with -j, else a tree (rollout, ring, process). */
void view_rollout_print(const struct pg_ctx *ctx, const struct ro_run *r, int live);
/* One member as status and top show it: "pid P  state (gate exit E, control pid C, ...)". */
void view_rollout_member_text(const struct ro_member *m, char *buf, size_t len);
/* Print a finished ring: the record with -j, else one line per member. */
void view_rollout_ring_print(const struct pg_ctx *ctx, const struct ro_run *r, unsigned int ring,
			     const char *verdict, double wall);

#endif
