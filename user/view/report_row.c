// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "core/hist.h"
#include "view/report_row.h"

void report_row_fill(struct pg_func_report *r, const char *name, const char *obj,
		     const char *probe, int err_mode, const struct pg_func_stats *st, const struct pg_hist *h,
		     const struct pg_hist *win, const struct pg_inflight *inf, uint64_t prev_calls,
		     double dt)
{
	const struct pg_hist *q = win && hist_count(win) ? win : h;

	memset(r, 0, sizeof(*r));
	r->func = name;
	r->object = obj;
	r->probe = probe;
	r->calls = st->calls;
	r->calls_per_s = dt > 0 ? (double)(st->calls - prev_calls) / dt : 0.0;
	r->inflight = inf->now;
	r->inflight_max = inf->max;
	r->p50_ns = hist_quantile(q, 0.50);
	r->p90_ns = hist_quantile(q, 0.90);
	r->p99_ns = hist_quantile(q, 0.99);
	r->max_ns = st->max_ns;
	r->errors_on = err_mode != PG_ERR_NONE;
	r->errors = st->errors;
	r->error_rate = st->exits ? (double)st->errors / (double)st->exits : 0.0;
	r->overflow = st->overflow;
}
