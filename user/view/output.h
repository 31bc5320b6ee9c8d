/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Error and record output that respects JSON mode. */
#ifndef PG_UI_OUTPUT_H
#define PG_UI_OUTPUT_H

#include <stdbool.h>
#include <json-c/json.h>

/*
 * Where and how a command reports: set once by user/cmd/ from the common
 * options, then handed down to every layer that prints or keeps state.
 */
struct pg_ctx {
	bool json;		/* -j/--json: one JSON object per line */
	bool verbose;		/* --verbose */
	const char *state_dir;	/* --state-dir, default PG_STATE_DIR_DEFAULT */
	const char *prog;	/* argv[0] basename */
};

#define PG_STATE_DIR_DEFAULT "/run/patchgate"

/*
 * One error message.  Plain: "patchgate: <msg>" on stderr.  JSON: a
 * {"type":"error","message":...,"exit":code} line on stdout.
 */
void pg_err(const struct pg_ctx *ctx, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A warning: stderr in plain mode, {"type":"warning"} in JSON mode. */
void pg_warn(const struct pg_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* An informational line (plain mode only; dropped in JSON mode). */
void pg_info(const struct pg_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * The version of the JSON records' schema (docs/json.md,
 * docs/schema/patchgate.schema.json): every record carries "v": PG_JSON_VERSION.
 * Bump it when a field changes meaning or goes away; adding a field does not.
 */
#define PG_JSON_VERSION 1

/* Print @obj as one JSON line on stdout, flush, and release it. */
void pg_json_emit(json_object *obj);
/*
 * A new record: a JSON object with "type": @type and "v": PG_JSON_VERSION,
 * in that order.  Every object that goes out as a record (stdout, the audit
 * log, the phase file) starts here.
 */
json_object *pg_json_record(const char *type);

#endif
