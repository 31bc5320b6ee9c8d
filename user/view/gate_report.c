// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `patchgate report`: a gated apply from its audit records, as gnuplot's
 * input and as an HTML page.  The numbers are the gate's (the decision
 * records); the curves are its histograms' (core/hist.c's hist_cdf()).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "view/gate_report.h"
#include "view/output.h"
#include "view/top_fmt.h"

#define RPT_W		1000	/* px */
#define RPT_TIMELINE_H	230	/* px: the title and the phases */
#define RPT_FN_H	330	/* px per function */

/* The sides of a comparison: the baseline, then the bake, in their colours. */
static const char *const side_key[2] = { "base", "post" };
static const char *const side_title[2] = { "baseline", "bake" };
static const char *const side_colour[2] = { "#1f77b4", "#d62728" };

enum rpt_format rpt_format_of(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (!dot || strchr(dot, '/'))
		return RPT_NONE;
	if (!strcasecmp(dot, ".png"))
		return RPT_PNG;
	if (!strcasecmp(dot, ".svg"))
		return RPT_SVG;
	if (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm"))
		return RPT_HTML;
	return RPT_NONE;
}

const char *rpt_format_name(enum rpt_format f)
{
	switch (f) {
	case RPT_PNG: return "png";
	case RPT_SVG: return "svg";
	case RPT_HTML: return "html";
	default: return "none";
	}
}

static json_object *jget(json_object *o, const char *k)
{
	json_object *v;

	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* The target as text: "pid 4242" or "the kernel". */
static void target_name(json_object *rec, char *buf, size_t len)
{
	json_object *t = jget(rec, "target");

	if (t && json_object_is_type(t, json_type_int))
		snprintf(buf, len, "pid %lld", (long long)json_object_get_int64(t));
	else
		snprintf(buf, len, "the kernel");
}

/* ---- reading the log ------------------------------------------------------ */

/* A gate still open on a target while the log is read; at most RPT_OPEN_MAX at once. */
#define RPT_OPEN_MAX	1024
struct open_gate {
	char target[32];	/* the record's "target" as JSON text */
	unsigned int index;
};

/* Check that @o is a decision record as the audit log holds them; a reason, or NULL. */
static const char *not_audit_record(json_object *o)
{
	json_object *seq = jget(o, "seq"), *fns = jget(o, "functions");

	if (!o || !json_object_is_type(o, json_type_object))
		return "not a JSON object";
	if (strcmp(top_jstr(o, "type"), "decision"))
		return "not a decision record";
	if (!seq || !json_object_is_type(seq, json_type_int) || json_object_get_int64(seq) < 1)
		return "no seq";
	if (!jget(o, "target") || !jget(o, "to") || !jget(o, "elapsed_s"))
		return "no target, to or elapsed_s: is this <state-dir>/audit.log?";
	if (!fns || !json_object_is_type(fns, json_type_array))
		return "no functions[]";
	return NULL;
}

/*
 * The gate a record belongs to: a new one at seq 1, else the one open on
 * its target (0: none, its start is not in the log).  Closes the gate at
 * its last decision.
 */
static unsigned int assign_gate(json_object *o, struct open_gate *opens, unsigned int *nopen,
				unsigned int *ngates)
{
	const char *t = json_object_to_json_string_ext(jget(o, "target"), JSON_C_TO_STRING_PLAIN);
	unsigned int k, idx = 0;

	for (k = 0; k < *nopen; k++)
		if (!strcmp(opens[k].target, t))
			break;
	if (json_object_get_int64(jget(o, "seq")) == 1) {
		idx = ++*ngates;
		/* a new target takes the slot of a gate that ended, else a new one */
		for (unsigned int j = 0; k == *nopen && j < *nopen; j++)
			if (!opens[j].index)
				k = j;
		if (k == *nopen && *nopen < RPT_OPEN_MAX)
			(*nopen)++;
		if (k < *nopen) {
			snprintf(opens[k].target, sizeof(opens[0].target), "%s", t);
			opens[k].index = idx;
		}
	} else if (k < *nopen) {
		idx = opens[k].index;
	}
	if (jget(o, "exit") && k < *nopen)
		opens[k].index = 0;
	return idx;
}

/* The functions of @g from its last decision that lists any. */
static void take_functions(struct rpt_gate *g)
{
	size_t n = json_object_array_length(g->recs);

	g->nfn = 0;
	for (size_t r = n; r-- > 0;) {
		json_object *fns = jget(json_object_array_get_idx(g->recs, r), "functions");
		size_t m = json_object_array_length(fns);

		if (!m)
			continue;
		for (size_t i = 0; i < m && g->nfn < PG_MAX_FUNCS; i++) {
			struct rpt_fn *f = &g->fn[g->nfn++];

			f->ev = json_object_array_get_idx(fns, i);
			f->name = top_jstr(f->ev, "name");
		}
		break;
	}
	for (size_t r = n; r-- > 0;) {
		json_object *h = jget(json_object_array_get_idx(g->recs, r), "hist");

		if (h) {
			g->hist_ref = json_object_get_string(h);
			break;
		}
	}
}

int rpt_parse(const char *text, const char *src, unsigned int which, struct rpt_gate *g,
	      char *why, size_t whylen)
{
	struct open_gate opens[RPT_OPEN_MAX];
	unsigned int nopen = 0, ngates = 0, lineno = 0, *owner = NULL;
	json_object *all = json_object_new_array();
	const char *p = text;
	int err = 0;

	memset(g, 0, sizeof(*g));
	if (!all)
		return -ENOMEM;
	/* one pass: every line a decision record, each given its gate */
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		enum json_tokener_error jerr;
		const char *bad;
		json_object *o;
		char *line;
		unsigned int *grown;

		lineno++;
		if (len == 0 || strspn(p, " \t\r") == len) {
			p += len + (nl ? 1 : 0);
			continue;
		}
		line = strndup(p, len);
		if (!line) {
			err = -ENOMEM;
			goto out;
		}
		o = json_tokener_parse_verbose(line, &jerr);
		free(line);
		bad = o ? not_audit_record(o) : json_tokener_error_desc(jerr);
		if (bad) {
			snprintf(why, whylen, "%s:%u: not an audit record (%s)", src, lineno, bad);
			json_object_put(o);
			err = -EINVAL;
			goto out;
		}
		grown = realloc(owner, (json_object_array_length(all) + 1) * sizeof(*owner));
		if (!grown) {
			json_object_put(o);
			err = -ENOMEM;
			goto out;
		}
		owner = grown;
		owner[json_object_array_length(all)] = assign_gate(o, opens, &nopen, &ngates);
		json_object_array_add(all, o);
		p += len + (nl ? 1 : 0);
	}
	if (!ngates) {
		snprintf(why, whylen, "%s holds no gated apply (no decision with seq 1)", src);
		err = -ENOENT;
		goto out;
	}
	if (which > ngates) {
		snprintf(why, whylen, "%s holds %u gated appl%s; there is no gate %u", src, ngates,
			 ngates == 1 ? "y" : "ies", which);
		err = -ENOENT;
		goto out;
	}
	g->ngates = ngates;
	g->index = which ? which : ngates;
	g->recs = json_object_new_array();
	if (!g->recs) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t r = 0; r < json_object_array_length(all); r++)
		if (owner[r] == g->index)
			json_object_array_add(g->recs, json_object_get(json_object_array_get_idx(all, r)));
	g->last = json_object_array_get_idx(g->recs, json_object_array_length(g->recs) - 1);
	take_functions(g);
out:
	free(owner);
	json_object_put(all);
	if (err)
		rpt_free(g);
	return err;
}

/* A "base"/"post" object of the histograms record into a new histogram; -EINVAL with @why. */
static int hist_from_json(json_object *side, const char *fname, struct pg_hist **out,
			  char *why, size_t whylen)
{
	json_object *b = jget(side, "buckets");
	struct pg_hist *h;

	*out = NULL;
	if (!side || json_object_is_type(side, json_type_null))
		return 0;
	if (!b || !json_object_is_type(b, json_type_array)) {
		snprintf(why, whylen, "histograms of %s: no buckets[]", fname);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t k = 0; k < json_object_array_length(b); k++) {
		json_object *e = json_object_array_get_idx(b, k);
		int64_t lo = json_object_get_int64(jget(e, "lo_ns")), n = json_object_get_int64(jget(e, "n"));

		/* the bounds must be a bucket's own: the layout of core/hist.h */
		if (lo < 0 || n < 0 || hist_bucket_lo(hist_bucket((uint64_t)lo)) != (uint64_t)lo ||
		    hist_bucket_hi(hist_bucket((uint64_t)lo)) !=
		    (uint64_t)json_object_get_int64(jget(e, "hi_ns"))) {
			snprintf(why, whylen, "histograms of %s: bucket %zu is not a bucket of the "
				 "log-linear layout", fname, k);
			free(h);
			return -EINVAL;
		}
		hist_add(h, (uint64_t)lo, (uint64_t)n);
	}
	*out = h;
	return 0;
}

int rpt_load_hists(struct rpt_gate *g, const char *text, char *why, size_t whylen)
{
	json_object *o = json_tokener_parse(text), *fns;
	int err = 0;

	fns = jget(o, "functions");
	if (!o || strcmp(top_jstr(o, "type"), "histograms") || !fns ||
	    !json_object_is_type(fns, json_type_array)) {
		snprintf(why, whylen, "not a histograms record");
		err = -EINVAL;
		goto out;
	}
	if (strcmp(json_object_to_json_string(jget(o, "target")),
		   json_object_to_json_string(jget(g->last, "target")))) {
		snprintf(why, whylen, "the histograms are of another target");
		err = -EINVAL;
		goto out;
	}
	for (size_t k = 0; k < json_object_array_length(fns); k++) {
		json_object *e = json_object_array_get_idx(fns, k);
		const char *name = top_jstr(e, "name");

		for (unsigned int i = 0; i < g->nfn; i++) {
			if (strcmp(g->fn[i].name, name) || g->fn[i].base || g->fn[i].post)
				continue;
			err = hist_from_json(jget(e, "base"), name, &g->fn[i].base, why, whylen);
			if (!err)
				err = hist_from_json(jget(e, "post"), name, &g->fn[i].post, why, whylen);
			if (err)
				goto out;
			break;
		}
	}
	g->hists = true;
out:
	json_object_put(o);
	return err;
}

void rpt_free(struct rpt_gate *g)
{
	if (!g)
		return;
	for (unsigned int i = 0; i < g->nfn; i++) {
		free(g->fn[i].base);
		free(g->fn[i].post);
	}
	json_object_put(g->recs);
	memset(g, 0, sizeof(*g));
}

/* ---- the data files ---------------------------------------------------- */

/* A value in ns as gnuplot's x (s); never 0, which a log axis cannot hold. */
static double xs(double ns)
{
	return (ns < 1.0 ? 1.0 : ns) / 1e9;
}

unsigned int rpt_write_cdf(const struct rpt_gate *g, unsigned int i, bool post, FILE *f)
{
	const struct rpt_fn *fn = &g->fn[i];
	const struct pg_hist *h = post ? fn->post : fn->base;
	static const char *const q[3] = { "p50", "p90", "p99" };
	static const double qv[3] = { 0.5, 0.9, 0.99 };
	struct hist_cdf_point *pts;
	unsigned int n = 0;
	char key[32];

	if (h) {
		pts = malloc(sizeof(*pts) * HIST_CDF_MAX);
		if (!pts)
			return 0;
		n = hist_cdf(h, pts, HIST_CDF_MAX);
		for (unsigned int k = 0; k < n; k++)
			fprintf(f, "%.6e %.6f\n", xs(pts[k].x_ns), pts[k].p);
		free(pts);
		return n;
	}
	/* no histogram kept: the gate's own quantiles are all there is */
	snprintf(key, sizeof(key), "n_%s", side_key[post]);
	if (top_jnum(fn->ev, key) <= 0)
		return 0;
	for (unsigned int k = 0; k < 3; k++) {
		snprintf(key, sizeof(key), "%s_%s_ns", q[k], side_key[post]);
		fprintf(f, "%.6e %.6f\n", xs(top_jnum(fn->ev, key)), qv[k]);
		n++;
	}
	return n;
}

unsigned int rpt_write_marks(const struct rpt_gate *g, unsigned int i, bool post, FILE *f)
{
	json_object *ev = g->fn[i].ev;
	char key[32];

	snprintf(key, sizeof(key), "n_%s", side_key[post]);
	if (top_jnum(ev, key) <= 0)
		return 0;
	snprintf(key, sizeof(key), "p50_%s_ns", side_key[post]);
	fprintf(f, "%.6e 0.5\n", xs(top_jnum(ev, key)));
	snprintf(key, sizeof(key), "p99_%s_ns", side_key[post]);
	fprintf(f, "%.6e 0.99\n", xs(top_jnum(ev, key)));
	return 2;
}

/* The row of phase @name in the timeline, adding it when new; 0 when full. */
static unsigned int phase_row(const char **rows, unsigned int *nrows, const char *name)
{
	for (unsigned int r = 0; r < *nrows; r++)
		if (!strcmp(rows[r], name))
			return r + 1;
	if (*nrows >= 16)
		return 0;
	rows[(*nrows)++] = name;
	return *nrows;
}

/* The colour of a phase: green for committed, red for a revert, grey for an abort. */
static unsigned int phase_colour(const char *name)
{
	if (!strcmp(name, "COMMITTED"))
		return 0x2ca02c;
	if (!strcmp(name, "REVERTING") || !strcmp(name, "REVERTED"))
		return 0xd62728;
	if (!strcmp(name, "ABORTED"))
		return 0x7f7f7f;
	if (!strcmp(name, "BAKE"))
		return 0xff7f0e;
	return 0x1f77b4;
}

/* The timeline's span: the last decision's time, at least 1 s. */
static double timeline_end(const struct rpt_gate *g)
{
	double end = top_jnum(g->last, "elapsed_s");

	return end > 1.0 ? end : 1.0;
}

/*
 * "row start end colour "PHASE" "label"": each decision starts its phase
 * (its "to"), which lasts until the next decision; the last one (the end
 * of the run) is a sliver, so that it shows.
 */
unsigned int rpt_write_phases(const struct rpt_gate *g, FILE *f)
{
	size_t n = json_object_array_length(g->recs);
	double end = timeline_end(g), min_w = end / 150.0;
	const char *rows[16];
	unsigned int nrows = 0, written = 0;

	for (size_t r = 0; r < n; r++) {
		json_object *o = json_object_array_get_idx(g->recs, r);
		const char *to = top_jstr(o, "to");
		double t0 = top_jnum(o, "elapsed_s"), t1, w;
		unsigned int row = phase_row(rows, &nrows, to);
		char label[64];

		if (!row)
			continue;
		t1 = r + 1 < n ? top_jnum(json_object_array_get_idx(g->recs, r + 1), "elapsed_s") : t0;
		w = t1 - t0;
		snprintf(label, sizeof(label), "%.1f s", w);
		if (r + 1 == n)
			snprintf(label, sizeof(label), "%s", top_jstr(o, "reason"));
		if (w < min_w)
			t1 = t0 + min_w;
		fprintf(f, "%u %.6f %.6f %u \"%s\" \"%s\"\n", row, t0, t1, phase_colour(to), to, label);
		written++;
	}
	return written;
}

/* ---- the gnuplot script ------------------------------------------------ */

void rpt_size(const struct rpt_gate *g, unsigned int *w, unsigned int *h)
{
	*w = RPT_W;
	*h = RPT_TIMELINE_H + RPT_FN_H * (g->nfn ? g->nfn : 1);
}

/* @s as a gnuplot double-quoted string's body: backslashes and quotes escaped. */
static void gp_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
}

/* The headline: "gate 2 of 3: good.so on pid 4242: COMMITTED (bake_ok), exit 0". */
static void headline(const struct rpt_gate *g, char *buf, size_t len)
{
	char tgt[64];
	json_object *ex = jget(g->last, "exit");
	int n;

	target_name(g->last, tgt, sizeof(tgt));
	n = snprintf(buf, len, "gate %u of %u: %s on %s: %s (%s)", g->index, g->ngates,
		     top_jstr(g->last, "patch"), tgt, top_jstr(g->last, "to"), top_jstr(g->last, "reason"));
	if (ex && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", exit %d", json_object_get_int(ex));
}

/* A function's numbers in two lines, for its panel's title: the quantiles, then the tests. */
static void fn_numbers(const struct rpt_fn *fn, char *q, size_t qlen, char *t, size_t tlen)
{
	char b50[24], p50[24], b99[24], p99[24];

	top_fmt_ns(top_jnum(fn->ev, "p50_base_ns"), b50, sizeof(b50));
	top_fmt_ns(top_jnum(fn->ev, "p50_post_ns"), p50, sizeof(p50));
	top_fmt_ns(top_jnum(fn->ev, "p99_base_ns"), b99, sizeof(b99));
	top_fmt_ns(top_jnum(fn->ev, "p99_post_ns"), p99, sizeof(p99));
	snprintf(q, qlen, "p50 %s -> %s (x%.2f), p99 %s -> %s (x%.2f); n %.0f -> %.0f",
		 b50, p50, top_jnum(fn->ev, "p50_ratio"), b99, p99, top_jnum(fn->ev, "p99_ratio"),
		 top_jnum(fn->ev, "n_base"), top_jnum(fn->ev, "n_post"));
	snprintf(t, tlen, "Mann-Whitney p %.3g, tail p %.3g; errors %.2f%% -> %.2f%%",
		 top_jnum(fn->ev, "mw_p"), top_jnum(fn->ev, "tail_p"),
		 100.0 * top_jnum(fn->ev, "err_rate_base"), 100.0 * top_jnum(fn->ev, "err_rate_post"));
}

static void script_timeline(const struct rpt_gate *g, const struct rpt_files *files, double y0,
			    double h, FILE *f)
{
	char title[512];

	headline(g, title, sizeof(title));
	fprintf(f, "set origin 0,%.5f\nset size 1,%.5f\n", y0, h);
	fputs("set title \"", f);
	gp_str(f, title);
	fputs("\" font \",13\"\n", f);
	fprintf(f, "unset logscale\nset xrange [0:%.6f]\nset format x \"%%g\"\n", timeline_end(g) * 1.12);
	fputs("set xlabel \"seconds since the gate started\"\nunset ylabel\nset yrange [*:*] reverse\n"
	      "set ytics scale 0\nset grid xtics\nunset key\nset offsets 0,0,0.5,0.5\n", f);
	if (!files->phase_rows) {
		fputs("plot 1/0 notitle\n", f);
		return;
	}
	fputs("plot 'phases.dat' using (($2+$3)/2):1:2:3:($1-0.35):($1+0.35):4:ytic(5) "
	      "with boxxyerror fs solid 0.85 noborder lc rgb variable notitle, \\\n"
	      "     'phases.dat' using 3:1:6 with labels left offset 0.6,0 notitle\n", f);
	fputs("set offsets 0,0,0,0\nset yrange [*:*] noreverse\nset ytics scale default\n", f);
}

static void script_function(const struct rpt_gate *g, unsigned int i, const struct rpt_files *files,
			    double y0, double h, FILE *f)
{
	const struct rpt_fn *fn = &g->fn[i];
	char quant[256], tests[256], v[32];
	bool any = false;

	fn_numbers(fn, quant, sizeof(quant), tests, sizeof(tests));
	fprintf(f, "set origin 0,%.5f\nset size 1,%.5f\n", y0, h);
	fputs("set title \"", f);
	gp_str(f, fn->name);
	fputs(": ", f);
	gp_str(f, top_jstr(fn->ev, "verdict"));
	fputs("\\n", f);
	gp_str(f, quant);
	fputs("\\n", f);
	gp_str(f, tests);
	fputs("\"\n", f);
	fputs("set logscale x 10\nset format x \"%.0s %cs\"\nset xrange [*:*]\nset yrange [0:1.05]\n"
	      "set ytics 0.25\nset grid xtics ytics mxtics\nset mxtics 10\n"
	      "set xlabel \"latency (log scale)\"\nset ylabel \"share of calls at or below\"\n"
	      "set key bottom right box opaque\nunset label\nunset arrow\n", f);
	/* the gate's p50 and p99 of each side, as dashed lines named at the top */
	for (int s = 0; s < 2; s++) {
		char key[32];

		snprintf(key, sizeof(key), "n_%s", side_key[s]);
		if (top_jnum(fn->ev, key) <= 0)
			continue;
		for (int q = 0; q < 2; q++) {
			double x;

			snprintf(key, sizeof(key), "%s_%s_ns", q ? "p99" : "p50", side_key[s]);
			x = xs(top_jnum(fn->ev, key));
			top_fmt_ns(top_jnum(fn->ev, key), v, sizeof(v));
			fprintf(f, "set arrow from %.6e, graph 0 to %.6e, graph 1 nohead dt 2 lw 1.2 "
				"lc rgb \"%s\" back\n", x, x, side_colour[s]);
			fprintf(f, "set label \"%s %s\" at %.6e, graph %.2f %s offset %s,0 tc rgb \"%s\" "
				"front\n", q ? "p99" : "p50", v, x, s ? 0.6 : 0.86,
				s ? "left" : "right", s ? "0.4" : "-0.4", side_colour[s]);
		}
	}
	fputs("plot ", f);
	for (int s = 0; s < 2; s++) {
		if (!files->cdf_rows[i][s])
			continue;
		fprintf(f, "%s'f%u_cdf%d.dat' using 1:2 with lines lw 2 lc rgb \"%s\" title \"%s (n %.0f%s)\"",
			any ? ", \\\n     " : "", i, s, side_colour[s], side_title[s],
			top_jnum(fn->ev, s ? "n_post" : "n_base"),
			(s ? fn->post : fn->base) ? "" : ", recorded p50/p90/p99 only");
		any = true;
	}
	for (int s = 0; s < 2; s++) {
		if (!files->mark_rows[i][s])
			continue;
		fprintf(f, "%s'f%u_mark%d.dat' using 1:2 with points pt 7 ps 1.3 lc rgb \"%s\" notitle",
			any ? ", \\\n     " : "", i, s, side_colour[s]);
		any = true;
	}
	if (!any)
		fputs("1/0 title \"no timed calls\"", f);
	fputs("\n", f);
}

void rpt_write_script(const struct rpt_gate *g, enum rpt_format fmt, const struct rpt_files *files,
		      FILE *f)
{
	unsigned int w, h;
	double th, fh;

	rpt_size(g, &w, &h);
	th = (double)RPT_TIMELINE_H / h;
	fh = (double)RPT_FN_H / h;
	fputs("# patchgate report: gnuplot script\nset encoding utf8\n", f);
	if (fmt == RPT_PNG)
		fprintf(f, "set terminal pngcairo size %u,%u noenhanced font \"DejaVu Sans,10\" "
			"background rgb \"white\"\n", w, h);
	else
		fprintf(f, "set terminal svg size %u,%u noenhanced font \"DejaVu Sans,10\" "
			"background rgb \"white\"\n", w, h);
	fputs("set output \"", f);
	gp_str(f, files->out);
	fputs("\"\nset multiplot\nset lmargin 14\nset rmargin 4\n", f);
	script_timeline(g, files, 1.0 - th, th, f);
	for (unsigned int i = 0; i < g->nfn; i++)
		script_function(g, i, files, 1.0 - th - fh * (i + 1), fh, f);
	fputs("unset multiplot\nset output\n", f);
}

/* ---- the HTML page ----------------------------------------------------- */

static void html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* A cell with a number from @o, or "-" when the record lacks it. */
static void html_num(FILE *f, json_object *o, const char *k, const char *fmt)
{
	json_object *v = jget(o, k);

	fputs("<td class=\"num\">", f);
	if (v)
		fprintf(f, fmt, json_object_get_double(v));
	else
		fputs("-", f);
	fputs("</td>", f);
}

static void html_ns(FILE *f, json_object *o, const char *k)
{
	char buf[32];

	top_fmt_ns(top_jnum(o, k), buf, sizeof(buf));
	fprintf(f, "<td class=\"num\">%s</td>", buf);
}

static void html_functions(const struct rpt_gate *g, FILE *f)
{
	fputs("<h2>Functions</h2>\n<table id=\"functions\">\n<thead><tr><th>function</th><th>verdict</th>"
	      "<th>rules</th><th>n base</th><th>n bake</th><th>p50 base</th><th>p50 bake</th>"
	      "<th>p50 ratio</th><th>p99 base</th><th>p99 bake</th><th>p99 ratio</th>"
	      "<th>Mann-Whitney p</th><th>tail p</th><th>errors base</th><th>errors bake</th>"
	      "</tr></thead>\n<tbody>\n", f);
	for (unsigned int i = 0; i < g->nfn; i++) {
		json_object *ev = g->fn[i].ev, *rules = jget(ev, "rules");

		fputs("<tr><td>", f);
		html_esc(f, g->fn[i].name);
		fprintf(f, "</td><td class=\"verdict-%s\">", strcmp(top_jstr(ev, "verdict"), "ok") ? "bad" : "ok");
		html_esc(f, top_jstr(ev, "verdict"));
		fputs("</td><td>", f);
		for (size_t r = 0; r < json_object_array_length(rules); r++) {
			fputs(r ? " " : "", f);
			html_esc(f, json_object_get_string(json_object_array_get_idx(rules, r)));
		}
		fputs("</td>", f);
		html_num(f, ev, "n_base", "%.0f");
		html_num(f, ev, "n_post", "%.0f");
		html_ns(f, ev, "p50_base_ns");
		html_ns(f, ev, "p50_post_ns");
		html_num(f, ev, "p50_ratio", "%.3f");
		html_ns(f, ev, "p99_base_ns");
		html_ns(f, ev, "p99_post_ns");
		html_num(f, ev, "p99_ratio", "%.3f");
		html_num(f, ev, "mw_p", "%.3g");
		html_num(f, ev, "tail_p", "%.3g");
		html_num(f, ev, "err_rate_base", "%.4f");
		html_num(f, ev, "err_rate_post", "%.4f");
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

static void html_decisions(const struct rpt_gate *g, FILE *f)
{
	fputs("<h2>Decisions</h2>\n<table id=\"decisions\">\n<thead><tr><th>seq</th><th>elapsed</th>"
	      "<th>from</th><th>to</th><th>reason</th><th>detail</th></tr></thead>\n<tbody>\n", f);
	for (size_t r = 0; r < json_object_array_length(g->recs); r++) {
		json_object *o = json_object_array_get_idx(g->recs, r);

		fprintf(f, "<tr><td class=\"num\">%.0f</td><td class=\"num\">%.2f s</td><td>",
			top_jnum(o, "seq"), top_jnum(o, "elapsed_s"));
		html_esc(f, top_jstr(o, "from"));
		fputs("</td><td>", f);
		html_esc(f, top_jstr(o, "to"));
		fputs("</td><td>", f);
		html_esc(f, top_jstr(o, "reason"));
		fputs("</td><td>", f);
		html_esc(f, top_jstr(o, "detail"));
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

void rpt_write_html(const struct rpt_gate *g, const char *svg, FILE *f)
{
	const char *to = top_jstr(g->last, "to"), *start = svg ? strstr(svg, "<svg") : NULL;
	char head[512];

	headline(g, head, sizeof(head));
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>patchgate report: ", f);
	html_esc(f, head);
	fputs("</title>\n<style>\n"
	      "body{font-family:'DejaVu Sans',sans-serif;margin:1.5em;color:#222;background:#fff}\n"
	      "table{border-collapse:collapse;margin:0.5em 0 1.5em}\n"
	      "th,td{border:1px solid #ccc;padding:0.25em 0.5em;text-align:left;vertical-align:top}\n"
	      "th{background:#eee}\ntd.num{text-align:right;white-space:nowrap}\n#functions{font-size:0.85em}\n"
	      ".verdict-ok{color:#2ca02c;font-weight:bold}\n.verdict-bad{color:#d62728;font-weight:bold}\n"
	      "#verdict{font-size:1.2em;padding:0.5em;border-left:6px solid #888}\n"
	      "#verdict.COMMITTED{border-color:#2ca02c}\n#verdict.REVERTING,#verdict.REVERTED{border-color:#d62728}\n"
	      "figure{margin:0}\nfigure svg{max-width:100%;height:auto}\n"
	      "</style>\n</head>\n<body>\n<h1>patchgate report</h1>\n<p id=\"verdict\" class=\"", f);
	html_esc(f, to);
	fputs("\">", f);
	html_esc(f, head);
	fputs("<br>", f);
	html_esc(f, top_jstr(g->last, "detail"));
	fputs("</p>\n", f);
	if (!g->hists)
		fputs("<p class=\"note\">The histograms of this gate were not recorded: the curves show its "
		      "recorded p50, p90 and p99 alone.</p>\n", f);
	fputs("<figure id=\"picture\">\n", f);
	if (start)
		fputs(start, f);
	fputs("\n<figcaption>Per function: the latency distribution (share of calls at or below "
	      "each latency) of the baseline and of the bake, p50 and p99 marked; above, the "
	      "gate's phases.</figcaption>\n</figure>\n", f);
	html_functions(g, f);
	html_decisions(g, f);
	fputs("</body>\n</html>\n", f);
}

/* ---- what was written -------------------------------------------------- */

json_object *rpt_result_json(const struct rpt_gate *g, const char *out, enum rpt_format fmt,
			     long long bytes)
{
	json_object *o = pg_json_record("report"), *arr;
	json_object *t = jget(g->last, "target");

	if (!o)
		return NULL;
	json_object_object_add(o, "out", json_object_new_string(out));
	json_object_object_add(o, "format", json_object_new_string(rpt_format_name(fmt)));
	json_object_object_add(o, "bytes", json_object_new_int64(bytes));
	json_object_object_add(o, "gate", json_object_new_int64(g->index));
	json_object_object_add(o, "gates", json_object_new_int64(g->ngates));
	json_object_object_add(o, "kind", json_object_new_string(top_jstr(g->last, "kind")));
	json_object_object_add(o, "patch", json_object_new_string(top_jstr(g->last, "patch")));
	json_object_object_add(o, "target", t ? json_object_get(t) : json_object_new_string("kernel"));
	json_object_object_add(o, "phase", json_object_new_string(top_jstr(g->last, "to")));
	json_object_object_add(o, "decisions", json_object_new_int64((int64_t)json_object_array_length(g->recs)));
	json_object_object_add(o, "histograms", json_object_new_boolean(g->hists));
	arr = json_object_new_array();
	if (!arr) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "functions", arr);
	for (unsigned int i = 0; i < g->nfn; i++)
		json_object_array_add(arr, json_object_new_string(g->fn[i].name));
	return o;
}

void rpt_result_line(const struct rpt_gate *g, const char *out, enum rpt_format fmt,
		     long long bytes, char *buf, size_t len)
{
	char head[512];

	headline(g, head, sizeof(head));
	snprintf(buf, len, "wrote %s (%s, %lld bytes): %s%s", out, rpt_format_name(fmt), bytes, head,
		 g->hists ? "" : " -- no histograms recorded: the curves are the recorded quantiles");
}
