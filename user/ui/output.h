/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Error and record output that respects JSON mode. */
#ifndef PG_UI_OUTPUT_H
#define PG_UI_OUTPUT_H

#include <stdbool.h>
#include <json-c/json.h>

struct pg_cli;

/*
 * One error message.  Plain: "patchgate: <msg>" on stderr.  JSON: a
 * {"type":"error","message":...,"exit":code} line on stdout.
 */
void pg_err(const struct pg_cli *cli, int exit_code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A warning: stderr in plain mode, {"type":"warning"} in JSON mode. */
void pg_warn(const struct pg_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* An informational line (plain mode only; dropped in JSON mode). */
void pg_info(const struct pg_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print @obj as one JSON line on stdout, flush, and release it. */
void pg_json_emit(json_object *obj);
/* A new JSON object with "type": @type set. */
json_object *pg_json_record(const char *type);

#endif
