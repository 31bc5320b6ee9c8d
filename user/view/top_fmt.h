/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* top's text, shared by the screens (top.c) and the plain frame (--once). */
#ifndef PG_VIEW_TOP_FMT_H
#define PG_VIEW_TOP_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include "view/top.h"

enum top_tone {
	TOP_TONE_PLAIN = 0,
	TOP_TONE_GOOD,		/* COMMITTED: green */
	TOP_TONE_BUSY,		/* BASELINE, WAIT_WINDOW, APPLYING, TRANSITION, BAKE: yellow */
	TOP_TONE_BAD,		/* REVERTING, REVERTED: red */
	TOP_TONE_OFF,		/* ABORTED, a gone gate: grey */
};

double top_jnum(json_object *o, const char *k);
const char *top_jstr(json_object *o, const char *k);
bool top_jbool(json_object *o, const char *k);

/* The colour a row's phase takes. */
enum top_tone top_row_tone(const struct top_row *r);
/* The row's name (pid or kernel-<module>; a patch: its pid or name). */
const char *top_row_name(const struct top_row *r, char *buf, size_t len);
/* The column header and one row of the overview, fitted to @width. */
void top_fmt_header(char *buf, size_t len, int width);
void top_fmt_row(const struct top_row *r, char *buf, size_t len, int width);
/* The sort key names, for the title line. */
const char *top_sort_name(int sort);
#define TOP_NSORTS 4
/* Compare two rows by sort key @sort (0 name, 1 phase, 2 p99 ratio, 3 calls/s). */
int top_row_cmp(const struct top_row *a, const struct top_row *b, int sort);
/* A duration in a short human unit: "850ns", "52.1us", "3.40ms", "1.20s". */
void top_fmt_ns(double ns, char *buf, size_t len);
/* A sparkline of @n values into @buf (UTF-8 blocks when @utf8), '|' at @mark. */
void top_fmt_spark(const double *v, int n, int mark, bool utf8, char *buf, size_t len);

/* The watch screen's table (ad-hoc watch mode): header and one function's row. */
void top_fmt_watch_header(char *buf, size_t len, int width);
void top_fmt_watch_row(const struct pg_func_report *r, char *buf, size_t len, int width);
/* Watch sort keys: 0 as given, 1 calls/s, 2 p99, 3 in flight. */
#define TOP_WATCH_NSORTS 4
const char *top_watch_sort_name(int sort);
int top_watch_cmp(const struct pg_func_report *a, const struct pg_func_report *b, int sort);

#endif
