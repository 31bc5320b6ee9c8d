/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `patchgate top` (gate/top.c): the dashboard's loop. */
#ifndef PG_GATE_TOP_H
#define PG_GATE_TOP_H

#include <stdbool.h>
#include "gate/opts.h"
#include "view/output.h"

struct pg_top_opts {
	double delay_s;		/* >= 0.25 */
	bool once;		/* one plain frame to stdout */
	bool color;		/* false with NO_COLOR */
};

/* Run the dashboard until q or a signal.  Returns an outcome. */
int top_main(struct pg_ctx *ctx, const struct pg_top_opts *o);
/*
 * Ad-hoc watch mode (gate/watch.c): top attaches the probes of @w itself
 * and shows the functions until q, a signal, or (with --once) one refresh.
 */
int top_watch_main(struct pg_ctx *ctx, const struct pg_top_opts *o, const struct pg_watch_opts *w);

#endif
