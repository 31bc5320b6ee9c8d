// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include "view/output.h"

static void vemit(const struct pg_ctx *ctx, const char *type, int exit_code,
		  const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (ctx && ctx->json) {
		json_object *o = pg_json_record(type);

		json_object_object_add(o, "message", json_object_new_string(buf));
		if (exit_code >= 0)
			json_object_object_add(o, "exit", json_object_new_int(exit_code));
		pg_json_emit(o);
		return;
	}
	fprintf(stderr, "patchgate: %s%s\n", exit_code >= 0 ? "" : "warning: ", buf);
}

void pg_err(const struct pg_ctx *ctx, int exit_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(ctx, "error", exit_code, fmt, ap);
	va_end(ap);
}

void pg_warn(const struct pg_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(ctx, "warning", -1, fmt, ap);
	va_end(ap);
}

void pg_info(const struct pg_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx && ctx->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

json_object *pg_json_record(const char *type)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "v", json_object_new_int(PG_JSON_VERSION));
	return o;
}

void pg_json_emit(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(obj);
}
