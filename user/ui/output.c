// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include "cli/cli.h"
#include "ui/output.h"

static void vemit(const struct pg_cli *cli, const char *type, int exit_code,
		  const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (cli && cli->json) {
		json_object *o = pg_json_record(type);

		json_object_object_add(o, "message", json_object_new_string(buf));
		if (exit_code >= 0)
			json_object_object_add(o, "exit", json_object_new_int(exit_code));
		pg_json_emit(o);
		return;
	}
	fprintf(stderr, "patchgate: %s%s\n", exit_code >= 0 ? "" : "warning: ", buf);
}

void pg_err(const struct pg_cli *cli, int exit_code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(cli, "error", exit_code, fmt, ap);
	va_end(ap);
}

void pg_warn(const struct pg_cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit(cli, "warning", -1, fmt, ap);
	va_end(ap);
}

void pg_info(const struct pg_cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (cli && cli->json)
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

	json_object_object_add(o, "type", json_object_new_string(type));
	return o;
}

void pg_json_emit(json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(obj);
}
