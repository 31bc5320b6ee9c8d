/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `patchgate top`: the screens (ncursesw) and the plain frame of --once.
 * The rows come in from the driver (gate/top.c): the live records of the
 * gates (gate/live.h), the rollout of the state directory (its journal,
 * core/rollout.h) and the patches applied (core/patch.h).  The screen
 * keeps its own state (selection, sort, filter, freeze, which screen) and
 * hands operator actions back, confirmed, for the driver to send.
 */
#ifndef PG_VIEW_TOP_H
#define PG_VIEW_TOP_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "core/gate.h"
#include "core/patch.h"
#include "core/rollout.h"
#include "view/report.h"

struct top_row {
	json_object *rec;			/* a gate's "live" record, or NULL */
	const char *health;			/* gates: "running", "finished", "gone" */
	const char *kind;			/* patches: "ulp" or "klp" */
	const struct pg_patch_status *patch;	/* a patch applied, or NULL */
	const struct ro_run *rollout;		/* a rollout (its journal), or NULL */
};

struct top_ui_opts {
	bool color;		/* false: NO_COLOR, or a terminal without colours */
	double delay_s;
	const char *state_dir;
	bool watch;		/* ad-hoc watch mode: the watch screen, no gates */
};

/* Points of p99 history kept per function in the watch screen. */
#define TOP_WATCH_HIST 60

/* Ad-hoc watch mode (top --pid PID FUNC...): what top's own probes saw. */
struct top_watch_view {
	const char *target;			/* "pid 4242 (demo-service)" or "kernel" */
	double elapsed_s;			/* since the probes were attached */
	const struct pg_func_report *rows;	/* per function, the last interval */
	int n;
	const double (*p99_hist)[TOP_WATCH_HIST];	/* per function, oldest first */
	int nhist;				/* points in each history */
	bool ended;				/* the target exited: the figures are the last ones */
};

struct top_ui;

enum top_event {
	TOP_EV_TIMEOUT = 0,	/* the delay ran out: refresh */
	TOP_EV_QUIT,
	TOP_EV_ACTION,		/* *op on *name, confirmed */
	TOP_EV_REDRAW,		/* a key changed the screen */
};

/* Take the terminal (ncursesw).  NULL when it cannot be had (no terminal). */
struct top_ui *top_ui__new(const struct top_ui_opts *o);
/* Give the terminal back.  Accepts NULL. */
void top_ui__free(struct top_ui *ui);

/*
 * Draw the current screen from @rows and, on a gate's detail, its
 * "live_detail" record @detail (NULL: none yet); @msg is the status line.
 */
void top_ui_draw(struct top_ui *ui, const struct top_row *rows, int n, json_object *detail,
		 const char *msg);
/* The gate whose detail is on the screen (its live name), or NULL. */
const char *top_ui_detail_name(struct top_ui *ui);
/*
 * Wait up to @timeout_ms for a key and act on it.  TOP_EV_ACTION fills
 * @op and @name (the gate's live name) after the operator confirmed it.
 */
enum top_event top_ui_input(struct top_ui *ui, int timeout_ms, enum gate_op *op, char *name,
			    size_t len);
/* Space freezes the display: the driver then keeps its rows. */
bool top_ui_frozen(const struct top_ui *ui);

/* One plain frame of the overview, @width columns wide, for --once. */
void top_print_once(FILE *out, const struct top_row *rows, int n, int width);

/* The watch screen (the ui was made with .watch): the functions, the selected one's p99. */
void top_ui_draw_watch(struct top_ui *ui, const struct top_watch_view *v, const char *msg);
/* One plain frame of the watch screen, for --once. */
void top_print_watch_once(FILE *out, const struct top_watch_view *v, int width);

#endif
