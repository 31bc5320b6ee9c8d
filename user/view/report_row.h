/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One watch row from a counter snapshot: shared by watch --pid and watch --kernel. */
#ifndef PG_OBSERVE_REPORT_ROW_H
#define PG_OBSERVE_REPORT_ROW_H

#include <stdint.h>
#include <patchgate/abi.h>
#include "view/report.h"

/*
 * Fill @r for function @name in @obj.  Quantiles come from @win (the last
 * interval) when it holds calls, else from @h (since attach); calls/s from
 * the calls since @prev_calls over @dt seconds.
 */
void report_row_fill(struct pg_func_report *r, const char *name, const char *obj,
		     const char *probe, int err_mode, const struct pg_func_stats *st,
		     const struct pg_hist *h, const struct pg_hist *win,
		     const struct pg_inflight *inf, uint64_t prev_calls, double dt);

#endif
