// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Live records as Prometheus metrics (view/metrics.h, docs/metrics.md).
 * Families come one after the other, each with all the gates' samples, as
 * both formats require; a family with no sample is left out.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "view/metrics.h"
#include "view/live.h"
#include "core/gate.h"

enum fam_type { FAM_COUNTER, FAM_GAUGE, FAM_HISTOGRAM, FAM_STATESET, FAM_INFO };

struct mw {
	FILE *f;
	enum metrics_format fmt;
	const struct metrics_gate *g;
	int n;
};

static const char *const percentiles[] = { "p50", "p90", "p99" };

static json_object *jget(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v = jget(o, k);

	return v ? json_object_get_string(v) : "";
}

static int64_t jint(json_object *o, const char *k)
{
	json_object *v = jget(o, k);

	return v ? json_object_get_int64(v) : 0;
}

static double jnum(json_object *o, const char *k)
{
	json_object *v = jget(o, k);

	return v ? json_object_get_double(v) : 0.0;
}

/* A label value with \, " and newline escaped, as both formats want. */
static void put_escaped(FILE *f, const char *s)
{
	/* the common case: nothing to escape, one write */
	if (!strpbrk(s, "\\\"\n")) {
		fputs(s, f);
		return;
	}
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f), fputc(*s, f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void put_label(FILE *f, const char *k, const char *v, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", k);
	put_escaped(f, v);
	fputc('"', f);
}

/* The labels every series of a gate has: target, patch, kind (and function). */
static void gate_labels(FILE *f, json_object *rec, json_object *fn)
{
	put_label(f, "target", jstr(rec, "target"), true);
	put_label(f, "patch", jstr(rec, "patch"), false);
	put_label(f, "kind", jstr(rec, "kind"), false);
	if (fn)
		put_label(f, "function", jstr(fn, "name"), false);
}

/*
 * The metadata of family @name (its OpenMetrics name: no "_total" or
 * "_info"), as each format spells it.
 */
static void family(struct mw *w, const char *name, enum fam_type t, const char *unit,
		   const char *help)
{
	static const char *const om_types[] = { "counter", "gauge", "histogram", "stateset", "info" };
	static const char *const prom_types[] = { "counter", "gauge", "histogram", "gauge", "gauge" };
	const char *suffix = "";

	if (w->fmt == METRICS_PROM)
		suffix = t == FAM_COUNTER ? "_total" : t == FAM_INFO ? "_info" : "";
	fprintf(w->f, "# HELP %s%s %s\n", name, suffix, help);
	fprintf(w->f, "# TYPE %s%s %s\n", name, suffix,
		(w->fmt == METRICS_PROM ? prom_types : om_types)[t]);
	if (unit && w->fmt == METRICS_OPENMETRICS)
		fprintf(w->f, "# UNIT %s %s\n", name, unit);
}

/* One sample: @name{gate labels[, function][, @k="@v"]} @value. */
static void sample(struct mw *w, const char *name, json_object *rec, json_object *fn,
		   const char *k, const char *v, const char *value)
{
	fprintf(w->f, "%s{", name);
	gate_labels(w->f, rec, fn);
	if (k)
		put_label(w->f, k, v, false);
	fprintf(w->f, "} %s\n", value);
}

static const char *num(char *buf, size_t len, double v)
{
	if (!isfinite(v))
		v = 0.0;
	snprintf(buf, len, "%.17g", v);
	return buf;
}

static const char *inum(char *buf, size_t len, int64_t v)
{
	snprintf(buf, len, "%" PRId64, v);
	return buf;
}

static json_object *functions(json_object *rec)
{
	json_object *a = jget(rec, "functions");

	return a && json_object_is_type(a, json_type_array) ? a : NULL;
}

/* ---- per gate ----------------------------------------------------------- */

/* Gauge @name: the record's blockers_total in @phase (who holds it up there), 0 in the others. */
static void phase_count(struct mw *w, const char *name, const char *phase, const char *help)
{
	char b[48];

	family(w, name, FAM_GAUGE, NULL, help);
	for (int i = 0; i < w->n; i++) {
		json_object *rec = w->g[i].rec;

		sample(w, name, rec, NULL, NULL, NULL, inum(b, sizeof(b), strcmp(jstr(rec, "phase"), phase) ?
			0 : jint(rec, "blockers_total")));
	}
}

static void gate_series(struct mw *w)
{
	char b[48];

	family(w, "patchgate_patch", FAM_INFO, NULL,
	       "The patch a gate applies: its file (path) and build-id; kind is the backend.");
	for (int i = 0; i < w->n; i++) {
		json_object *rec = w->g[i].rec;

		fprintf(w->f, "patchgate_patch_info{");
		gate_labels(w->f, rec, NULL);
		put_label(w->f, "build_id", jstr(rec, "build_id"), false);
		put_label(w->f, "path", jstr(rec, "patch_path"), false);
		fprintf(w->f, "} 1\n");
	}

	family(w, "patchgate_gate_phase", FAM_STATESET, NULL,
	       "The gate's phase: 1 for the phase it is in, 0 for the others.");
	for (int i = 0; i < w->n; i++) {
		const char *phase = jstr(w->g[i].rec, "phase");

		for (int s = 0; s < GATE_NSTATES; s++) {
			const char *name = gate_state_name((enum gate_state)s);

			sample(w, "patchgate_gate_phase", w->g[i].rec, NULL, "patchgate_gate_phase", name,
			       strcmp(name, phase) ? "0" : "1");
		}
	}

	family(w, "patchgate_gate_running", FAM_GAUGE, NULL,
	       "1 while the gate runs; 0 once it has ended (its last record) or died without one.");
	for (int i = 0; i < w->n; i++)
		sample(w, "patchgate_gate_running", w->g[i].rec, NULL, NULL, NULL,
		       strcmp(w->g[i].health, "running") ? "0" : "1");

	family(w, "patchgate_gate_held", FAM_GAUGE, NULL,
	       "1 while an operator holds the bake (hold), else 0.");
	for (int i = 0; i < w->n; i++)
		sample(w, "patchgate_gate_held", w->g[i].rec, NULL, NULL, NULL,
		       json_object_get_boolean(jget(w->g[i].rec, "held")) ? "1" : "0");

	family(w, "patchgate_gate_phase_seconds", FAM_GAUGE, "seconds",
	       "Time the gate has been in its phase.");
	for (int i = 0; i < w->n; i++)
		sample(w, "patchgate_gate_phase_seconds", w->g[i].rec, NULL, NULL, NULL,
		       num(b, sizeof(b), jnum(w->g[i].rec, "phase_s")));

	family(w, "patchgate_gate_bake_remaining_seconds", FAM_GAUGE, "seconds",
	       "BAKE: time to the final look (frozen while held); 0 in other phases.");
	for (int i = 0; i < w->n; i++)
		sample(w, "patchgate_gate_bake_remaining_seconds", w->g[i].rec, NULL, NULL, NULL,
		       num(b, sizeof(b), jnum(w->g[i].rec, "bake_left_s")));

	phase_count(w, "patchgate_window_blockers", "WAIT_WINDOW",
		    "WAIT_WINDOW: threads or tasks inside a patched function, holding the window shut.");
	phase_count(w, "patchgate_transition_stragglers", "TRANSITION",
		    "TRANSITION: tasks that have not switched to the livepatch yet.");

	family(w, "patchgate_decisions", FAM_COUNTER, NULL,
	       "Decisions the gate has taken, by outcome (the decision record's reason).");
	for (int i = 0; i < w->n; i++) {
		json_object *d = jget(w->g[i].rec, "decisions_total");

		if (!d || !json_object_is_type(d, json_type_object))
			continue;
		json_object_object_foreach(d, k, v)
			sample(w, "patchgate_decisions_total", w->g[i].rec, NULL, "outcome", k,
			       inum(b, sizeof(b), json_object_get_int64(v)));
	}
}

/* ---- per function ------------------------------------------------------- */

/* Family @name with one sample per function of every gate: @value(fn). */
static void per_fn(struct mw *w, const char *fam, const char *name, enum fam_type t,
		   const char *help, int64_t (*value)(json_object *fn))
{
	char b[48];

	family(w, fam, t, NULL, help);
	for (int i = 0; i < w->n; i++) {
		json_object *a = functions(w->g[i].rec);

		for (size_t k = 0; a && k < json_object_array_length(a); k++) {
			json_object *fn = json_object_array_get_idx(a, k);

			sample(w, name, w->g[i].rec, fn, NULL, NULL, inum(b, sizeof(b), value(fn)));
		}
	}
}

static int64_t fn_calls(json_object *fn)
{
	return jint(fn, "calls_base") + jint(fn, "calls_post");
}

static int64_t fn_errors(json_object *fn)
{
	return jint(fn, "errors_base") + jint(fn, "errors_post");
}

static int64_t fn_inflight(json_object *fn)
{
	return jint(fn, "inflight");
}

/* The latency histogram of one function: LIVE_LE_N buckets, +Inf, count, sum. */
static void fn_histogram(struct mw *w, json_object *rec, json_object *fn)
{
	json_object *lat = jget(fn, "latency"), *le = lat ? jget(lat, "le") : NULL;
	char b[48], bound[32];

	if (!le || !json_object_is_type(le, json_type_array) ||
	    json_object_array_length(le) != LIVE_LE_N)
		return;
	for (int k = 0; k < LIVE_LE_N; k++) {
		snprintf(bound, sizeof(bound), "%.12g", ldexp(1.0, LIVE_LE_MIN_EXP + k) / 1e9);
		sample(w, "patchgate_function_latency_seconds_bucket", rec, fn, "le", bound,
		       inum(b, sizeof(b), json_object_get_int64(json_object_array_get_idx(le, (size_t)k))));
	}
	sample(w, "patchgate_function_latency_seconds_bucket", rec, fn, "le", "+Inf",
	       inum(b, sizeof(b), jint(lat, "count")));
	sample(w, "patchgate_function_latency_seconds_count", rec, fn, NULL, NULL,
	       inum(b, sizeof(b), jint(lat, "count")));
	sample(w, "patchgate_function_latency_seconds_sum", rec, fn, NULL, NULL,
	       num(b, sizeof(b), (double)jint(lat, "sum_ns") / 1e9));
}

static void function_series(struct mw *w)
{
	char b[48];

	per_fn(w, "patchgate_function_calls", "patchgate_function_calls_total", FAM_COUNTER,
	       "Calls of a patched function seen by the gate's probes (baseline and bake).", fn_calls);
	per_fn(w, "patchgate_function_errors", "patchgate_function_errors_total", FAM_COUNTER,
	       "Returns of a patched function classified as errors (the policy's error mode).",
	       fn_errors);
	per_fn(w, "patchgate_function_in_flight", "patchgate_function_in_flight", FAM_GAUGE,
	       "Threads or tasks inside a patched function now.", fn_inflight);

	family(w, "patchgate_function_latency_seconds", FAM_HISTOGRAM, "seconds",
	       "Latency of the timed calls of a patched function, baseline and bake together.");
	for (int i = 0; i < w->n; i++) {
		json_object *a = functions(w->g[i].rec);

		for (size_t k = 0; a && k < json_object_array_length(a); k++)
			fn_histogram(w, w->g[i].rec, json_object_array_get_idx(a, k));
	}

	family(w, "patchgate_function_latency_ratio", FAM_GAUGE, NULL,
	       "Bake over baseline latency at a percentile (p50, p90, p99); 0 while undefined.");
	for (int i = 0; i < w->n; i++) {
		json_object *a = functions(w->g[i].rec);

		for (size_t k = 0; a && k < json_object_array_length(a); k++) {
			json_object *fn = json_object_array_get_idx(a, k);

			for (size_t p = 0; p < sizeof(percentiles) / sizeof(percentiles[0]); p++) {
				char key[16];

				snprintf(key, sizeof(key), "%s_ratio", percentiles[p]);
				sample(w, "patchgate_function_latency_ratio", w->g[i].rec, fn, "percentile",
				       percentiles[p], num(b, sizeof(b), jnum(fn, key)));
			}
		}
	}

	family(w, "patchgate_function_verdict", FAM_STATESET, NULL,
	       "The verdict on a patched function as the numbers stand: ok, regressed, inconclusive.");
	for (int i = 0; i < w->n; i++) {
		static const char *const verdicts[] = { "ok", "regressed", "inconclusive" };
		json_object *a = functions(w->g[i].rec);

		for (size_t k = 0; a && k < json_object_array_length(a); k++) {
			json_object *fn = json_object_array_get_idx(a, k);

			for (size_t v = 0; v < sizeof(verdicts) / sizeof(verdicts[0]); v++)
				sample(w, "patchgate_function_verdict", w->g[i].rec, fn,
				       "patchgate_function_verdict", verdicts[v],
				       strcmp(jstr(fn, "verdict"), verdicts[v]) ? "0" : "1");
		}
	}
}

/* Every family into @buf of @cap bytes: its length, or -1 when it does not fit. */
static long render_into(struct mw *w, char *buf, size_t cap)
{
	long used = -1;

	w->f = fmemopen(buf, cap, "w");
	if (!w->f)
		return -1;
	/* this thread's own stream: no lock per write (a scrape makes thousands) */
	__fsetlocking(w->f, FSETLOCKING_BYCALLER);
	family(w, "patchgate_exporter_gates", FAM_GAUGE, NULL,
	       "Live records found in the state directory at this scrape.");
	fprintf(w->f, "patchgate_exporter_gates %d\n", w->n);
	if (w->n > 0) {
		gate_series(w);
		function_series(w);
	}
	if (w->fmt == METRICS_OPENMETRICS)
		fputs("# EOF\n", w->f);
	if (!fflush(w->f) && !ferror(w->f))
		used = ftell(w->f);
	fclose(w->f);
	/* a full buffer may have cut the text: only a shorter one is whole */
	return used >= 0 && (size_t)used + 1 < cap ? used : -1;
}

char *metrics_render(const struct metrics_gate *g, int n, enum metrics_format fmt, size_t *len)
{
	struct mw w = { .fmt = fmt, .g = g, .n = n };
	size_t cap = 16384;
	char *buf = NULL;
	long used;

	/*
	 * A fixed buffer sized from the functions (about 5 KB of text each),
	 * doubled until the text fits: a growing stream would copy and zero
	 * the text a dozen times per scrape.
	 */
	for (int i = 0; i < n; i++) {
		json_object *a = functions(g[i].rec);

		cap += 4096 + (a ? json_object_array_length(a) : 0) * 8192;
	}
	for (;;) {
		char *nb = realloc(buf, cap);

		if (!nb) {
			free(buf);
			errno = ENOMEM;
			return NULL;
		}
		buf = nb;
		used = render_into(&w, buf, cap);
		if (used >= 0)
			break;
		if (cap > ((size_t)1 << 30)) {
			free(buf);
			errno = ENOMEM;
			return NULL;
		}
		cap *= 2;
	}
	buf[used] = '\0';
	*len = (size_t)used;
	return buf;
}

/* The q of one media range's parameters ("; q=0.5"), 1 when absent. */
static double media_q(const char *params)
{
	const char *q = strstr(params, "q=");

	return q ? strtod(q + 2, NULL) : 1.0;
}

enum metrics_format metrics_negotiate(const char *accept)
{
	double om = 0.0, text = 0.0;
	const char *p = accept;

	while (p && *p) {
		size_t end = strcspn(p, ","), type_len;
		char range[256];

		snprintf(range, sizeof(range), "%.*s", (int)(end < sizeof(range) ? end : sizeof(range) - 1),
			 p);
		p += end + (p[end] == ',');
		for (char *s = range; *s == ' ' || *s == '\t';)
			memmove(s, s + 1, strlen(s));
		type_len = strcspn(range, "; \t");
		if (type_len == strlen("application/openmetrics-text") &&
		    !strncasecmp(range, "application/openmetrics-text", type_len))
			om = fmax(om, media_q(range + type_len));
		else if ((type_len == strlen("text/plain") && !strncasecmp(range, "text/plain", type_len)) ||
			 (type_len == 3 && !strncmp(range, "*/*", 3)))
			text = fmax(text, media_q(range + type_len));
	}
	return om > 0.0 && om >= text ? METRICS_OPENMETRICS : METRICS_PROM;
}
