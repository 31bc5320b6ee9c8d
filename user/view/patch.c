// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Printers of the patch records (view/patch.h): apply and revert results,
 * status, transition stragglers, a gate's phase.  Field names are shared
 * by both kinds; fields only one kind has are named in docs/cli.md.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "view/patch.h"

static json_object *funcs_json(const struct pg_patch_func *f, unsigned int n)
{
	json_object *a = json_object_new_array();

	for (unsigned int i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "object", json_object_new_string(f[i].object));
		json_object_object_add(o, "func", json_object_new_string(f[i].func));
		json_object_object_add(o, "sympos", json_object_new_uint64(f[i].sympos));
		if (f[i].jump[0])
			json_object_object_add(o, "jump", json_object_new_string(f[i].jump));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *inside_json(const struct pg_inside *s, unsigned int n)
{
	json_object *a = json_object_new_array();

	for (unsigned int i = 0; i < n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "pid", json_object_new_int(s[i].pid));
		json_object_object_add(o, "tid", json_object_new_int(s[i].tid));
		json_object_object_add(o, "comm", json_object_new_string(s[i].comm));
		json_object_object_add(o, "func", json_object_new_string(s[i].func));
		json_object_object_add(o, "state", json_object_new_string(s[i].state));
		json_object_object_add(o, "at_pc", json_object_new_boolean(!!(s[i].flags & PG_INSIDE_AT_PC)));
		json_object_array_add(a, o);
	}
	return a;
}

void view_inside_text(const char *kind, const struct pg_inside *s, char *buf, size_t len)
{
	if (strcmp(kind, "klp"))
		snprintf(buf, len, "tid %d (%s) in %s (%s)", s->tid, s->comm, s->func,
			 s->flags & PG_INSIDE_AT_PC ? "pc" : "on its stack");
	else if (!strcmp(s->func, "running"))
		snprintf(buf, len, "tid %d (%s) running", s->tid, s->comm);
	else
		snprintf(buf, len, "tid %d (%s) sleeping in %s", s->tid, s->comm, s->func);
}

static void funcs_text(const struct pg_ctx *ctx, const struct pg_patch_func *f, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (f[i].jump[0])
			pg_info(ctx, "  %s", f[i].jump);
		else
			pg_info(ctx, "  %s:%s,%lu", f[i].object, f[i].func, f[i].sympos);
	}
}

static const char *result_state(const char *op, const struct pg_be_result *r)
{
	if (r->fail)
		return "failed";
	if (!strcmp(op, "apply"))
		return r->already ? "already-applied" : "applied";
	if (r->forced)
		return "forced";
	return r->kept_mapped ? "reverted-mapped" : "reverted";
}

static void result_json(const char *op, const char *kind, int pid, const char *module,
			const struct pg_be_result *r, int exit_code)
{
	bool klp = !strcmp(kind, "klp");
	json_object *o = pg_json_record(op);

	json_object_object_add(o, "kind", json_object_new_string(kind));
	if (!klp)
		json_object_object_add(o, "pid", json_object_new_int(pid));
	json_object_object_add(o, "patch", json_object_new_string(r->name));
	if (klp && module)
		json_object_object_add(o, "module", json_object_new_string(module));
	json_object_object_add(o, "state", json_object_new_string(result_state(op, r)));
	json_object_object_add(o, "sha256", json_object_new_string(r->sha256));
	json_object_object_add(o, "build_id", json_object_new_string(r->build_id));
	if (!klp && !strcmp(op, "revert"))
		json_object_object_add(o, "file_changed", json_object_new_boolean(r->file_changed));
	json_object_object_add(o, "funcs", funcs_json(r->funcs, r->nfuncs));
	if (klp) {
		if (!strcmp(op, "apply"))
			json_object_object_add(o, "replace", json_object_new_boolean(r->replace));
		json_object_object_add(o, "transition_s", json_object_new_double(r->transition_s));
		if (!strcmp(op, "revert"))
			json_object_object_add(o, "unloaded", json_object_new_boolean(!r->fail && !r->forced));
		json_object_object_add(o, "stragglers", inside_json(r->inside, r->ninside));
	} else {
		json_object_object_add(o, "threads", json_object_new_int(r->nthreads));
		json_object_object_add(o, "rounds", json_object_new_int(r->rounds));
		json_object_object_add(o, "pause_us", json_object_new_double(r->pause_ns / 1e3));
		json_object_object_add(o, "max_pause_us", json_object_new_double(r->max_pause_ns / 1e3));
		json_object_object_add(o, "inject_us", json_object_new_double(r->inject_ns / 1e3));
		json_object_object_add(o, "stop_us", json_object_new_double(r->stop_ns / 1e3));
		json_object_object_add(o, "scan_us", json_object_new_double(r->scan_ns / 1e3));
		json_object_object_add(o, "write_us", json_object_new_double(r->write_ns / 1e3));
		json_object_object_add(o, "resume_us", json_object_new_double(r->resume_ns / 1e3));
		json_object_object_add(o, "total_ms", json_object_new_double(r->total_ns / 1e6));
		json_object_object_add(o, "kept_mapped", json_object_new_boolean(r->kept_mapped));
		json_object_object_add(o, "blockers", inside_json(r->inside, r->ninside));
	}
	if (r->fail) {
		json_object_object_add(o, "message", json_object_new_string(r->msg));
		json_object_object_add(o, "exit", json_object_new_int(exit_code));
	}
	pg_json_emit(o);
}

static void result_fail_text(const struct pg_ctx *ctx, const char *op, const char *kind,
			     const struct pg_be_result *r, int exit_code)
{
	char line[256];

	pg_err(ctx, exit_code, "%s: %s", op, r->msg);
	if (r->ninside)
		fprintf(stderr, "patchgate: %s:\n", strcmp(kind, "klp") ? "blocked by" : "stragglers");
	for (unsigned int i = 0; i < r->ninside; i++) {
		view_inside_text(kind, &r->inside[i], line, sizeof(line));
		fprintf(stderr, "  %s\n", line);
	}
}

void view_patch_result(const struct pg_ctx *ctx, const char *op, const char *kind, int pid,
		       const char *module, const struct pg_be_result *r, int exit_code)
{
	bool klp = !strcmp(kind, "klp"), apply = !strcmp(op, "apply");
	char line[256];

	if (r->note[0] && !r->fail)
		pg_warn(ctx, "%s", r->note);
	if (ctx->json) {
		result_json(op, kind, pid, module, r, exit_code);
		return;
	}
	if (r->fail) {
		result_fail_text(ctx, op, kind, r, exit_code);
		return;
	}
	if (klp && apply)
		pg_info(ctx, "%s: applied, transition completed in %.2fs", r->name, r->transition_s);
	else if (klp && r->forced)
		pg_info(ctx, "%s: forced; module left loaded", r->name);
	else if (klp && r->already)
		pg_info(ctx, "%s: nothing was loaded", r->name);
	else if (klp)
		pg_info(ctx, "%s: reverted and unloaded", r->name);
	else if (apply && r->already)
		pg_info(ctx, "%s is already applied to pid %d: nothing to do", r->name, pid);
	else
		pg_info(ctx, "%s %s%s%d: %d thread(s), %d round(s), pause %.0f us, total %.1f ms",
			apply ? "applied" : "reverted", apply ? r->name : "", apply ? " to pid " : "pid ",
			pid, r->nthreads, r->rounds, r->pause_ns / 1e3, r->total_ns / 1e6);
	if (!klp && apply && !r->already)
		pg_info(ctx, "  mapped at 0x%" PRIx64 "-0x%" PRIx64, r->map_lo, r->map_hi);
	if (apply && r->sha256[0])
		pg_info(ctx, "  sha256 %s, build-id %s", r->sha256, r->build_id[0] ? r->build_id : "(none)");
	if (!(klp && !apply))
		funcs_text(ctx, r->funcs, r->nfuncs);
	if (r->kept_mapped)
		pg_warn(ctx, "the patch code at 0x%" PRIx64 "-0x%" PRIx64 " is still referenced by a "
			"thread: kept mapped", r->map_lo, r->map_hi);
	for (unsigned int i = 0; ctx->verbose && i < r->ninside; i++) {
		view_inside_text(kind, &r->inside[i], line, sizeof(line));
		pg_info(ctx, "  blocker: %s", line);
	}
}

void view_patch_status(const struct pg_ctx *ctx, const char *kind, const struct pg_patch_status *s)
{
	bool klp = !strcmp(kind, "klp");
	char line[256];

	if (ctx->json) {
		json_object *o = pg_json_record("patch");

		json_object_object_add(o, "kind", json_object_new_string(kind));
		if (!klp)
			json_object_object_add(o, "pid", json_object_new_int(s->pid));
		json_object_object_add(o, "patch", json_object_new_string(s->patch));
		if (klp) {
			json_object_object_add(o, "enabled", json_object_new_boolean(s->enabled));
			json_object_object_add(o, "transition", json_object_new_boolean(s->transition));
		} else {
			json_object_object_add(o, "journal_state", json_object_new_string(s->journal_state));
			json_object_object_add(o, "actual", json_object_new_string(s->actual));
			json_object_object_add(o, "consistent", json_object_new_boolean(s->consistent));
			json_object_object_add(o, "sha256", json_object_new_string(s->sha256));
			json_object_object_add(o, "build_id", json_object_new_string(s->build_id));
			json_object_object_add(o, "file_changed", json_object_new_boolean(s->file_changed));
			json_object_object_add(o, "applied_at", json_object_new_double(s->applied_at));
			json_object_object_add(o, "map_lo", json_object_new_int64((int64_t)s->map_lo));
			json_object_object_add(o, "map_hi", json_object_new_int64((int64_t)s->map_hi));
		}
		json_object_object_add(o, "funcs", funcs_json(s->funcs, s->nfuncs));
		if (klp) {
			json_object_object_add(o, "stragglers", inside_json(s->inside, s->ninside));
			json_object_object_add(o, "stragglers_total", json_object_new_int((int)s->inside_total));
		}
		pg_json_emit(o);
	} else if (klp) {
		printf("%s: %s%s\n", s->patch, s->enabled ? "enabled" : "disabled",
		       s->transition ? (s->enabled ? ", transition to patched in progress" :
					", transition to unpatched in progress") : "");
		for (unsigned int k = 0; k < s->nfuncs; k++)
			printf("  %s:%s,%lu\n", s->funcs[k].object, s->funcs[k].func, s->funcs[k].sympos);
		for (unsigned int k = 0; k < s->ninside; k++) {
			view_inside_text(kind, &s->inside[k], line, sizeof(line));
			printf("  straggler: %s\n", line);
		}
		if (s->inside_total > s->ninside)
			printf("  ... and %u more stragglers\n", s->inside_total - s->ninside);
	} else {
		char when[64] = "";
		time_t t = (time_t)s->applied_at;
		struct tm tm;

		if (t && localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		pg_info(ctx, "pid %d: %s  journal=%s actual=%s  since %s", s->pid, s->patch,
			s->journal_state, s->actual, when);
		funcs_text(ctx, s->funcs, s->nfuncs);
	}
	if (!klp && s->file_changed)
		pg_warn(ctx, "pid %d: the patch file %s changed on disk since it was applied (sha256 %.16s... "
			"then); revert works from the journal, not from the file", s->pid, s->patch, s->sha256);
	if (!klp && !s->consistent)
		pg_warn(ctx, "pid %d: JOURNAL AND MEMORY DISAGREE for %s: the journal says '%s', the "
			"target's bytes say '%s'%s", s->pid, s->patch, s->journal_state, s->actual,
			strcmp(s->actual, "foreign") ?
			" (an operation was interrupted: run apply or revert again to finish it)" :
			" (someone else wrote there)");
}

void view_stragglers(const struct pg_ctx *ctx, const char *kind, const char *patch, bool enabled,
		     const struct pg_inside *s, unsigned int n, unsigned int total, char *last,
		     size_t lastlen)
{
	char key[4096] = "", line[256];
	size_t k = 0;

	for (unsigned int i = 0; i < n; i++) {
		view_inside_text(kind, &s[i], line, sizeof(line));
		k += snprintf(key + k, k < sizeof(key) ? sizeof(key) - k : 0, "%s%s", i ? ", " : "", line);
		if (k >= sizeof(key))
			k = sizeof(key) - 1;
	}
	if (!strcmp(key, last))
		return;
	snprintf(last, lastlen, "%s", key);
	if (ctx->json) {
		json_object *o = pg_json_record("stragglers");

		json_object_object_add(o, "kind", json_object_new_string(kind));
		json_object_object_add(o, "patch", json_object_new_string(patch));
		json_object_object_add(o, "target", json_object_new_string(enabled ? "patched" : "unpatched"));
		json_object_object_add(o, "count", json_object_new_int((int)total));
		json_object_object_add(o, "stragglers", inside_json(s, n));
		pg_json_emit(o);
		return;
	}
	if (total)
		pg_info(ctx, "%s: waiting for %u task(s) to switch to %s: %s%s", patch, total,
			enabled ? "patched" : "unpatched", key, total > n ? ", ..." : "");
}

void view_gate_phase(const struct pg_ctx *ctx, const char *kind, int pid, const char *patch,
		     const char *phase, const char *reason, int64_t updated)
{
	bool klp = !strcmp(kind, "klp");

	if (ctx->json) {
		json_object *r = pg_json_record("gate");

		json_object_object_add(r, "kind", json_object_new_string(kind));
		if (!klp)
			json_object_object_add(r, "pid", json_object_new_int(pid));
		json_object_object_add(r, "patch", json_object_new_string(patch));
		json_object_object_add(r, "phase", json_object_new_string(phase));
		json_object_object_add(r, "reason", json_object_new_string(reason));
		json_object_object_add(r, "updated", json_object_new_int64(updated));
		pg_json_emit(r);
	} else {
		char when[64] = "", who[32] = "the kernel";
		time_t t = (time_t)updated;
		struct tm tm;

		if (t && localtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		if (!klp)
			snprintf(who, sizeof(who), "pid %d", pid);
		pg_info(ctx, "%s: gate for %s: phase %s (%s) at %s", who, patch, phase, reason, when);
	}
}
