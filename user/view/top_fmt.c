// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* top's text: the overview's columns, durations, sparklines (view/top_fmt.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "view/top_fmt.h"

double top_jnum(json_object *o, const char *k)
{
	json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0.0;
}

const char *top_jstr(json_object *o, const char *k)
{
	json_object *v;
	const char *s;

	if (!o || !json_object_object_get_ex(o, k, &v))
		return "";
	s = json_object_get_string(v);
	return s ? s : "";
}

bool top_jbool(json_object *o, const char *k)
{
	json_object *v;

	return o && json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

enum top_tone top_row_tone(const struct top_row *r)
{
	const char *ph;

	if (r->rollout) {
		if (!strcmp(r->health, "gone"))
			return TOP_TONE_OFF;
		switch (r->rollout->state) {
		case RO_COMMITTED:
			return TOP_TONE_GOOD;
		case RO_REVERTED:
		case RO_STOPPING:
			return TOP_TONE_BAD;
		case RO_ABORTED:
			return TOP_TONE_OFF;
		default:
			return TOP_TONE_BUSY;
		}
	}
	if (!r->rec)
		return r->patch && !r->patch->consistent && !strcmp(r->kind, "ulp") ? TOP_TONE_BAD :
		       TOP_TONE_GOOD;
	if (!strcmp(r->health, "gone"))
		return TOP_TONE_OFF;
	ph = top_jstr(r->rec, "phase");
	if (!strcmp(ph, "COMMITTED"))
		return TOP_TONE_GOOD;
	if (!strcmp(ph, "REVERTING") || !strcmp(ph, "REVERTED"))
		return TOP_TONE_BAD;
	if (!strcmp(ph, "ABORTED"))
		return TOP_TONE_OFF;
	return TOP_TONE_BUSY;
}

const char *top_row_name(const struct top_row *r, char *buf, size_t len)
{
	if (r->rec)
		snprintf(buf, len, "%s", top_jstr(r->rec, "name"));
	else if (r->rollout)
		snprintf(buf, len, "rollout");
	else if (r->patch && r->patch->pid)
		snprintf(buf, len, "%d", r->patch->pid);
	else
		snprintf(buf, len, "kernel");
	return buf;
}

void top_fmt_ns(double ns, char *buf, size_t len)
{
	if (!(ns > 0))
		snprintf(buf, len, "-");
	else if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
}

/* @s in capitals, cut to fit @len (phase names: "applied" -> "APPLIED"). */
static void fmt_upper(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; s[i] && i + 1 < len; i++)
		buf[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
	buf[i] = '\0';
}

static void fmt_age(double s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 600)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 36000)
		snprintf(buf, len, "%.0fm", s / 60);
	else
		snprintf(buf, len, "%.0fh", s / 3600);
}

static void fmt_p(double p, char *buf, size_t len)
{
	if (p >= 0.01 || p <= 0)
		snprintf(buf, len, "%.2f", p);
	else
		snprintf(buf, len, "%.0e", p);
}

/* The widths of the overview's columns at @width (the patch column takes what is left). */
static int patch_width(int width)
{
	int w = 13 + (width - 80);

	return w < 8 ? 8 : w > 40 ? 40 : w;
}

void top_fmt_header(char *buf, size_t len, int width)
{
	snprintf(buf, len, "%-9s %-*s %-3s %-11s %5s %2s %7s %5s %6s %-9s", "TARGET", patch_width(width),
		 "PATCH", "KND", "PHASE", "TIME", "FN", "CALLS/S", "P99x", "MIN-P", "GATE");
}

/* A gate's totals: calls/s summed, the largest p99 ratio, the smallest latest p-value. */
static void gate_totals(json_object *rec, double *calls, double *p99x, double *minp)
{
	json_object *fns = json_object_object_get(rec, "functions");

	*calls = 0;
	*p99x = 0;
	*minp = 1;
	for (size_t i = 0; fns && i < json_object_array_length(fns); i++) {
		json_object *f = json_object_array_get_idx(fns, i);

		*calls += top_jnum(f, "calls_per_s");
		*p99x = fmax(*p99x, top_jnum(f, "p99_ratio"));
		*minp = fmin(*minp, fmin(top_jnum(f, "mw_p"), top_jnum(f, "tail_p")));
	}
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

void top_fmt_row(const struct top_row *r, char *buf, size_t len, int width)
{
	char name[64], age[16], calls[16] = "-", p99x[16] = "-", minp[16] = "-", phase[24], gate[24];
	int pw = patch_width(width);

	top_row_name(r, name, sizeof(name));
	if (r->rec) {
		json_object *fns = json_object_object_get(r->rec, "functions");
		double c, x, p;
		bool baked = !strcmp(top_jstr(r->rec, "phase"), "BAKE") ||
			     !strcmp(top_jstr(r->rec, "phase"), "COMMITTED") ||
			     !strncmp(top_jstr(r->rec, "phase"), "REVERT", 6);

		gate_totals(r->rec, &c, &x, &p);
		snprintf(calls, sizeof(calls), "%.0f", c);
		if (baked && x > 0) {
			snprintf(p99x, sizeof(p99x), "%.2f", x);
			fmt_p(p, minp, sizeof(minp));
		}
		snprintf(phase, sizeof(phase), "%s%s", top_jstr(r->rec, "phase"),
			 top_jbool(r->rec, "held") ? " HELD" : "");
		if (strlen(phase) > 11)
			snprintf(phase, sizeof(phase), "%.6s HELD", top_jstr(r->rec, "phase"));
		fmt_age(top_jnum(r->rec, "phase_s"), age, sizeof(age));
		if (!strcmp(r->health, "finished"))
			snprintf(gate, sizeof(gate), "exit %d", (int)top_jnum(r->rec, "exit"));
		else
			snprintf(gate, sizeof(gate), "%s", r->health);
		snprintf(buf, len, "%-9.9s %-*.*s %-3.3s %-11.11s %5.5s %2d %7.7s %5.5s %6.6s %-9.9s", name,
			 pw, pw, top_jstr(r->rec, "patch"), top_jstr(r->rec, "kind"), phase, age,
			 fns ? (int)json_object_array_length(fns) : 0, calls, p99x, minp, gate);
		return;
	}
	if (r->rollout) {
		const struct ro_run *ro = r->rollout;
		unsigned int done = 0;
		double end;

		for (unsigned int i = 0; i < ro->n; i++)
			done += ro->m[i].state != RO_M_PENDING && ro->m[i].state != RO_M_RUNNING;
		fmt_upper(ro_state_name(ro->state), phase, 12);
		/* running: since it began; ended: how long it ran (its journal's last change) */
		end = !strcmp(r->health, "running") ? (double)time(NULL) : ro->updated;
		fmt_age(end > ro->started ? end - ro->started : 0, age, sizeof(age));
		snprintf(calls, sizeof(calls), "%u/%u", done, ro->n);
		if (!strcmp(r->health, "gone"))
			snprintf(gate, sizeof(gate), "gone");
		else
			snprintf(gate, sizeof(gate), "ring %u/%u", ro->ring, ro->nrings);
		snprintf(buf, len, "%-9.9s %-*.*s %-3.3s %-11.11s %5.5s %2s %7.7s %5.5s %6.6s %-9.9s",
			 "rollout", pw, pw, base_name(ro->patch), "set", phase, age, "-", calls, p99x, minp,
			 gate);
		return;
	}
	if (!strcmp(r->kind, "klp")) {
		snprintf(phase, sizeof(phase), "%s", r->patch->transition ? "TRANSITION" :
			 r->patch->enabled ? "ENABLED" : "DISABLED");
		snprintf(age, sizeof(age), "-");
		snprintf(gate, sizeof(gate), "%u strag", r->patch->inside_total);
	} else {
		fmt_upper(r->patch->journal_state[0] ? r->patch->journal_state : "applied", phase, 12);
		fmt_age(r->patch->applied_at > 0 ? (double)time(NULL) - r->patch->applied_at : 0, age,
			sizeof(age));
		snprintf(gate, sizeof(gate), "%s", r->patch->consistent ? "patch" : "MISMATCH");
	}
	snprintf(buf, len, "%-9.9s %-*.*s %-3.3s %-11.11s %5.5s %2u %7.7s %5.5s %6.6s %-9.9s", name, pw, pw,
		 base_name(r->patch->patch), r->kind, phase, age, r->patch->nfuncs, calls, p99x, minp,
		 gate);
}

const char *top_sort_name(int sort)
{
	static const char *const names[TOP_NSORTS] = { "target", "phase", "p99 ratio", "calls/s" };

	return sort >= 0 && sort < TOP_NSORTS ? names[sort] : "?";
}

static int phase_rank(const struct top_row *r)
{
	static const char *const order[] = { "REVERTING", "BAKE", "TRANSITION", "APPLYING",
					     "WAIT_WINDOW", "BASELINE", "IDLE", "REVERTED",
					     "ABORTED", "COMMITTED" };

	if (!r->rec)
		return 20;
	if (!strcmp(r->health, "gone"))
		return 15;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (!strcmp(top_jstr(r->rec, "phase"), order[i]))
			return (int)i;
	return 12;
}

int top_row_cmp(const struct top_row *a, const struct top_row *b, int sort)
{
	char na[64], nb[64];
	double xa = 0, xb = 0, ca = 0, cb = 0, pa, pb;
	int c;

	if (!!a->rollout != !!b->rollout)
		return a->rollout ? -1 : 1;	/* the rollout first, then gates, then patches */
	if (!!a->rec != !!b->rec)
		return a->rec ? -1 : 1;
	if (a->rec) {
		gate_totals(a->rec, &ca, &xa, &pa);
		gate_totals(b->rec, &cb, &xb, &pb);
	}
	switch (sort) {
	case 1:
		c = phase_rank(a) - phase_rank(b);
		break;
	case 2:
		c = xa < xb ? 1 : xa > xb ? -1 : 0;
		break;
	case 3:
		c = ca < cb ? 1 : ca > cb ? -1 : 0;
		break;
	default:
		c = 0;
	}
	if (c)
		return c;
	top_row_name(a, na, sizeof(na));
	top_row_name(b, nb, sizeof(nb));
	if (atoi(na) && atoi(nb))
		return atoi(na) - atoi(nb);
	return strcmp(na, nb);
}

void top_fmt_spark(const double *v, int n, int mark, bool utf8, char *buf, size_t len)
{
	static const char *const blocks[8] = { "\u2581", "\u2582", "\u2583", "\u2584",
					       "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[8] = { '_', '.', '-', '-', '=', '=', '^', '#' };
	double lo = INFINITY, hi = 0;
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		if (v[i] > 0) {
			lo = fmin(lo, v[i]);
			hi = fmax(hi, v[i]);
		}
	for (int i = 0; i < n && off + 8 < len; i++) {
		int k = 0;

		if (i == mark)
			buf[off++] = '|';
		if (!(v[i] > 0)) {
			buf[off++] = ' ';
			continue;
		}
		/* log scale: a tail that doubles moves as far at 10 us as at 10 ms */
		if (hi > lo)
			k = (int)lround(7.0 * log(v[i] / lo) / log(hi / lo));
		k = k < 0 ? 0 : k > 7 ? 7 : k;
		if (utf8)
			off += (size_t)snprintf(buf + off, len - off, "%s", blocks[k]);
		else
			buf[off++] = ascii[k];
	}
	if (mark == n && off + 1 < len)
		buf[off++] = '|';
	buf[off] = '\0';
}

void top_print_once(FILE *out, const struct top_row *rows, int n, int width)
{
	char line[512];
	int gates = 0, patches = 0;
	time_t now = time(NULL);
	struct tm tm;

	for (int i = 0; i < n; i++)
		if (rows[i].rec)
			gates++;
		else if (rows[i].patch)
			patches++;
	localtime_r(&now, &tm);
	strftime(line, sizeof(line), "%H:%M:%S", &tm);
	fprintf(out, "patchgate top - %s  %d gate%s, %d patch%s applied\n", line, gates,
		gates == 1 ? "" : "s", patches, patches == 1 ? "" : "es");
	top_fmt_header(line, sizeof(line), width);
	fprintf(out, "%s\n", line);
	for (int i = 0; i < n; i++) {
		top_fmt_row(&rows[i], line, sizeof(line), width);
		fprintf(out, "%s\n", line);
	}
	if (!n)
		fprintf(out, "  (no gate has run with this state directory, and no patch is applied)\n");
	fflush(out);
}

/* ---- ad-hoc watch mode ---------------------------------------------------- */

#define WATCH_FN_MIN 16

/* A latency in three significant digits, at most 7 characters: 52.1us, 138ms, 2.50s. */
static void watch_ns(double ns, char *buf, size_t len)
{
	static const struct { double div; const char *unit; } u[] = {
		{ 1, "ns" }, { 1e3, "us" }, { 1e6, "ms" }, { 1e9, "s" },
	};
	int k = 0;
	double v;

	if (!(ns > 0)) {
		snprintf(buf, len, "-");
		return;
	}
	while (k < 3 && ns >= 999.5 * u[k].div)
		k++;
	v = ns / u[k].div;
	snprintf(buf, len, v < 9.995 && k ? "%.2f%s" : v < 99.95 && k ? "%.1f%s" : "%.0f%s", v,
		 u[k].unit);
}

static int watch_fn_width(int width)
{
	/* the fixed columns take 61; the function name gets the rest, up to 40 */
	int w = width - 62;

	return w < WATCH_FN_MIN ? WATCH_FN_MIN : w > 40 ? 40 : w;
}

void top_fmt_watch_header(char *buf, size_t len, int width)
{
	snprintf(buf, len, "%-*s %-6s %8s %5s %7s %7s %7s %7s %6s", watch_fn_width(width),
		 "FUNCTION", "PROBE", "CALLS/S", "INFL", "P50", "P90", "P99", "MAX", "ERR%");
}

void top_fmt_watch_row(const struct pg_func_report *r, char *buf, size_t len, int width)
{
	char p50[16], p90[16], p99[16], mx[16], err[16];
	int fw = watch_fn_width(width);

	watch_ns(r->p50_ns, p50, sizeof(p50));
	watch_ns(r->p90_ns, p90, sizeof(p90));
	watch_ns(r->p99_ns, p99, sizeof(p99));
	watch_ns((double)r->max_ns, mx, sizeof(mx));
	if (r->errors_on)
		snprintf(err, sizeof(err), "%.1f", r->error_rate * 100.0);
	else
		snprintf(err, sizeof(err), "-");
	snprintf(buf, len, "%-*.*s %-6s %8.0f %5lld %7s %7s %7s %7s %6s", fw, fw, r->func, r->probe,
		 r->calls_per_s, (long long)r->inflight, p50, p90, p99, mx, err);
}

const char *top_watch_sort_name(int sort)
{
	static const char *const names[TOP_WATCH_NSORTS] = { "as given", "calls/s", "p99",
							      "in flight" };

	return sort >= 0 && sort < TOP_WATCH_NSORTS ? names[sort] : "?";
}

static int cmp_desc(double a, double b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

int top_watch_cmp(const struct pg_func_report *a, const struct pg_func_report *b, int sort)
{
	switch (sort) {
	case 1:
		return cmp_desc(a->calls_per_s, b->calls_per_s);
	case 2:
		return cmp_desc(a->p99_ns, b->p99_ns);
	case 3:
		return cmp_desc((double)a->inflight, (double)b->inflight);
	default:
		return 0;
	}
}

void top_print_watch_once(FILE *out, const struct top_watch_view *v, int width)
{
	char line[512];

	fprintf(out, "patchgate top - watching %s, %d function%s, %.1fs%s\n", v->target, v->n,
		v->n == 1 ? "" : "s", v->elapsed_s, v->ended ? " (the target exited)" : "");
	top_fmt_watch_header(line, sizeof(line), width);
	fprintf(out, "%s\n", line);
	for (int i = 0; i < v->n; i++) {
		top_fmt_watch_row(&v->rows[i], line, sizeof(line), width);
		fprintf(out, "%s\n", line);
	}
	fflush(out);
}
