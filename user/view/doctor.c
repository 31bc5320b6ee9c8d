// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include "view/doctor.h"

void view_version(const struct pg_ctx *ctx, const struct pg_view_version *v)
{
	static const char *const word[] = { "no", "yes" };

	if (ctx->json) {
		json_object *o = pg_json_record("version"), *f = json_object_new_object();

		json_object_object_add(o, "version", json_object_new_string(v->version));
		json_object_object_add(o, "libbpf", json_object_new_string(v->libbpf));
		json_object_object_add(o, "libbpf_runtime", json_object_new_string(v->libbpf_runtime));
		json_object_object_add(o, "kernel", json_object_new_string(v->kernel));
		for (unsigned int i = 0; i < v->nfeat; i++)
			json_object_object_add(f, v->feat[i].name, v->feat[i].state < 0 ? NULL :
					       json_object_new_boolean(v->feat[i].state));
		json_object_object_add(o, "features", f);
		pg_json_emit(o);
		return;
	}
	printf("patchgate %s\n", v->version);
	printf("libbpf %s (built with), %s (running)\n", v->libbpf, v->libbpf_runtime);
	printf("kernel %s, features found now:\n", v->kernel);
	for (unsigned int i = 0; i < v->nfeat; i++)
		printf("  %-15s %-7s %s\n", v->feat[i].name,
		       v->feat[i].state < 0 ? "unknown" : word[v->feat[i].state], v->feat[i].how);
}

/* "a, b, c" as a JSON array of strings. */
static json_object *split_list(const char *s)
{
	json_object *a = json_object_new_array();
	const char *p = s;

	while (p && *p) {
		const char *e = strstr(p, ", ");
		size_t n = e ? (size_t)(e - p) : strlen(p);

		json_object_array_add(a, json_object_new_string_len(p, (int)n));
		p = e ? e + 2 : NULL;
	}
	return a;
}

void view_check(const struct pg_ctx *ctx, const struct pg_view_check *c)
{
	const char *mark = c->ok ? "ok" : c->required ? "MISSING" : "note";

	if (ctx->json) {
		json_object *o = pg_json_record("check");

		json_object_object_add(o, "check", json_object_new_string(c->name));
		json_object_object_add(o, "ok", json_object_new_boolean(c->ok));
		json_object_object_add(o, "required", json_object_new_boolean(c->required));
		json_object_object_add(o, "needed_by", split_list(c->needed_by));
		json_object_object_add(o, "detail", json_object_new_string(c->detail));
		if (!c->ok)
			json_object_object_add(o, "fix", json_object_new_string(c->fix));
		pg_json_emit(o);
		return;
	}
	printf("%-8s %-16s %s\n", mark, c->name, c->detail);
	if (!c->ok) {
		printf("%-8s %-16s needed by: %s\n", "", "", c->needed_by);
		printf("%-8s %-16s fix: %s\n", "", "", c->fix);
	}
}

void view_doctor_summary(const struct pg_ctx *ctx, const char *scope, unsigned int checks,
			 unsigned int missing, unsigned int advisories)
{
	if (ctx->json) {
		json_object *o = pg_json_record("doctor");

		json_object_object_add(o, "scope", json_object_new_string(scope));
		json_object_object_add(o, "ok", json_object_new_boolean(!missing));
		json_object_object_add(o, "checks", json_object_new_int((int)checks));
		json_object_object_add(o, "missing", json_object_new_int((int)missing));
		json_object_object_add(o, "notes", json_object_new_int((int)advisories));
		pg_json_emit(o);
		return;
	}
	if (missing)
		printf("\n%u of %u checks failed: this machine lacks what the commands above need (%s)\n",
		       missing, checks, scope);
	else
		printf("\nall %u checks passed (%s)%s\n", checks, scope,
		       advisories ? "; the notes above need nothing now" : "");
}
