/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `patchgate report`: one gated apply read back from an audit log (its
 * "decision" records and the "histograms" record its final decision points
 * to, docs/json.md), laid out as a gnuplot script with its data files, and
 * as an HTML page around the picture.  Nothing here runs gnuplot or picks
 * file names: user/gate/report_run.c does.  No statistics either: the
 * quantiles drawn are the gate's own, and the curves its histograms'.
 */
#ifndef PG_VIEW_GATE_REPORT_H
#define PG_VIEW_GATE_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "core/gate.h"
#include "core/hist.h"

enum rpt_format {
	RPT_NONE = 0,		/* not a format report writes */
	RPT_PNG,
	RPT_SVG,
	RPT_HTML,
};

/* One function of the gate: its evidence at the last decision, and its recorded histograms. */
struct rpt_fn {
	const char *name;		/* in @ev */
	json_object *ev;		/* an entry of the last decision's functions[] (borrowed) */
	struct pg_hist *base, *post;	/* NULL: not recorded, or no side */
};

struct rpt_gate {
	unsigned int index;		/* 1-based, in the order the gates started in the log */
	unsigned int ngates;		/* gates in the log */
	json_object *recs;		/* its decision records, oldest first (owned) */
	json_object *last;		/* the last of them (borrowed) */
	const char *hist_ref;		/* "hist" of its last decision that has one, or NULL */
	bool hists;			/* the histograms record was read */
	unsigned int nfn;
	struct rpt_fn fn[PG_MAX_FUNCS];
};

/* The format an output file name asks for, by its extension (.png, .svg, .html, .htm). */
enum rpt_format rpt_format_of(const char *path);
const char *rpt_format_name(enum rpt_format f);

/*
 * Read gate number @which (1-based; 0: the last) out of the audit log text
 * @text (named @src in messages) into @g.  A gate is the records from a
 * "started" decision (seq 1) on, of the same target, up to the decision
 * that ends its run (it has "exit") or the next start on that target;
 * gates that ran at once on different targets interleave in the log.
 * Returns 0; -EINVAL when a line is not an audit record (@why names the
 * line); -ENOENT when the log holds no gate, or not gate @which.
 */
int rpt_parse(const char *text, const char *src, unsigned int which, struct rpt_gate *g,
	      char *why, size_t whylen);

/*
 * The "histograms" record @text (the file @g->hist_ref names) into @g's
 * functions.  0, or -EINVAL (@why) when it is not that gate's record or a
 * bucket is not one of the log-linear layout's; -ENOMEM.
 */
int rpt_load_hists(struct rpt_gate *g, const char *text, char *why, size_t whylen);

void rpt_free(struct rpt_gate *g);

/*
 * The data files of the picture, each a gnuplot data file (x in seconds):
 * rpt_write_cdf() the cumulative distribution of function @i's baseline
 * (@post false) or bake, from its histogram or, when none was recorded,
 * its recorded p50/p90/p99 alone; returns the rows written (0: nothing
 * to draw on that side, and the script must not name the file).
 * rpt_write_marks() the p50 and p99 of one side as points; returns its rows.
 * rpt_write_phases() the timeline: one row per phase segment.
 */
unsigned int rpt_write_cdf(const struct rpt_gate *g, unsigned int i, bool post, FILE *f);
unsigned int rpt_write_marks(const struct rpt_gate *g, unsigned int i, bool post, FILE *f);
unsigned int rpt_write_phases(const struct rpt_gate *g, FILE *f);

/* Where the data files are, and which of them hold rows, for rpt_write_script(). */
struct rpt_files {
	const char *out;		/* the picture gnuplot writes */
	/* per function and side (0 base, 1 post): rows in f<i>_cdf<side>.dat, f<i>_mark<side>.dat */
	unsigned int cdf_rows[PG_MAX_FUNCS][2];
	unsigned int mark_rows[PG_MAX_FUNCS][2];
	unsigned int phase_rows;	/* in phases.dat */
};

/* The picture's size in pixels: the timeline, then a panel per function. */
void rpt_size(const struct rpt_gate *g, unsigned int *w, unsigned int *h);

/*
 * The gnuplot script that draws @g into @files->out with the pngcairo or
 * svg terminal (@fmt RPT_PNG or RPT_SVG), reading the data files above by
 * their names relative to gnuplot's working directory.
 */
void rpt_write_script(const struct rpt_gate *g, enum rpt_format fmt, const struct rpt_files *files,
		      FILE *f);

/*
 * The HTML page: a title, the verdict, the picture @svg (gnuplot's SVG,
 * inlined, so the page stands alone offline), a table of the functions'
 * numbers and one of every decision.  Every string from the log is escaped.
 */
void rpt_write_html(const struct rpt_gate *g, const char *svg, FILE *f);

/*
 * The "report" record (-j): what was written.  @out the file, @bytes its
 * size.  NULL when out of memory.
 */
json_object *rpt_result_json(const struct rpt_gate *g, const char *out, enum rpt_format fmt,
			     long long bytes);
/* The one plain line of the same. */
void rpt_result_line(const struct rpt_gate *g, const char *out, enum rpt_format fmt,
		     long long bytes, char *buf, size_t len);

#endif
