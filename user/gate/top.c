// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `patchgate top`: the loop around the screens (view/top.h).  Every delay
 * it reads the live records of the gates (gate/live.h) and the rollout
 * journal (gate/rollout.h) and, less often, the patches applied (each
 * backend's status); it sends the operator's
 * confirmed actions over the gates' control sockets.  It only reads files
 * the gates replace whole and never waits on a gate, so a slow or stopped
 * top costs them nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gate/live.h"
#include "gate/rollout.h"
#include "gate/top.h"
#include "backend/backend.h"
#include "core/outcome.h"
#include "view/live.h"
#include "view/rollout.h"
#include "view/top.h"
#include "lib/clock.h"

#define TOP_PATCHES_NS	5000000000ULL	/* the patches applied change rarely: read every 5 s */
#define TOP_ACTION_MS	3000		/* a gate answers within a tick (200 ms) */

static volatile sig_atomic_t top_stop;

static void on_stop(int sig)
{
	(void)sig;
	top_stop = 1;
}

struct top_data {
	struct live_entry *live;
	int nlive;
	struct pg_patch_status *ulp, *klp;
	int nulp, nklp;
	uint64_t patches_at;
	struct ro_run *ro;		/* the state directory's rollout, when has_ro */
	bool has_ro;
	struct stat ro_st;		/* the journal as last read: re-read when it changes */
	int ro_live;			/* its driver: 1 runs, 0 does not */
	struct top_row *rows;
	int nrows;
	json_object *detail;		/* the "live_detail" of the gate on the detail screen */
};

static void patches_free(struct top_data *d)
{
	free(d->ulp);
	free(d->klp);
	d->ulp = d->klp = NULL;
	d->nulp = d->nklp = 0;
}

/* The patches applied: every journal's process (ulp), and the kernel's livepatches. */
static void patches_load(struct pg_ctx *ctx, struct top_data *d)
{
	struct pg_backend_opts bo = { .state_dir = ctx->state_dir };
	struct pg_be_result r;

	patches_free(d);
	if (pg_ulp_ops.status(&bo, &d->ulp, &d->nulp, &r)) {
		d->ulp = NULL;
		d->nulp = 0;
	}
	if (!access("/sys/kernel/livepatch", F_OK) && pg_klp_ops.status(&bo, &d->klp, &d->nklp, &r)) {
		d->klp = NULL;
		d->nklp = 0;
	}
}

/*
 * The rollout journal: parsed again only when the file changed (a rollout
 * rewrites it whole at each change of state, far less often than top
 * ticks); whether its driver still runs is asked every time.
 */
static void rollout_load(struct pg_ctx *ctx, struct top_data *d)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, RO_JOURNAL);
	if (stat(path, &st)) {
		d->has_ro = false;
		return;
	}
	if (!d->has_ro || st.st_ino != d->ro_st.st_ino || st.st_size != d->ro_st.st_size ||
	    st.st_mtim.tv_sec != d->ro_st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != d->ro_st.st_mtim.tv_nsec) {
		if (!d->ro)
			d->ro = malloc(sizeof(*d->ro));
		d->has_ro = d->ro && !ro_journal_read(ctx, d->ro);
		d->ro_st = st;
	}
	d->ro_live = d->has_ro && ro_owner_alive(d->ro);
}

/* Read the gates now (and the patches when due); rebuild the rows. */
static int top_load(struct pg_ctx *ctx, struct top_data *d, bool patches)
{
	int e, n;

	live_entries_free(d->live, d->nlive);
	d->live = NULL;
	d->nlive = 0;
	e = live_read_all(ctx->state_dir, &d->live, &d->nlive);
	if (patches)
		patches_load(ctx, d);
	rollout_load(ctx, d);
	n = d->nlive + d->nulp + d->nklp + d->has_ro;
	free(d->rows);
	d->rows = calloc((size_t)(n ? n : 1), sizeof(*d->rows));
	d->nrows = 0;
	if (!d->rows)
		return -ENOMEM;
	if (d->has_ro) {
		bool going = d->ro->state == RO_RUNNING || d->ro->state == RO_STOPPING;

		d->rows[d->nrows++] = (struct top_row){ .kind = "set", .rollout = d->ro,
			.health = !going ? "finished" : d->ro_live ? "running" : "gone" };
	}
	for (int i = 0; i < d->nlive; i++)
		d->rows[d->nrows++] = (struct top_row){ .rec = d->live[i].rec,
			.health = live_health_name(d->live[i].health) };
	for (int i = 0; i < d->nulp; i++)
		d->rows[d->nrows++] = (struct top_row){ .kind = "ulp", .patch = &d->ulp[i] };
	for (int i = 0; i < d->nklp; i++)
		d->rows[d->nrows++] = (struct top_row){ .kind = "klp", .patch = &d->klp[i] };
	return e;
}

static void top_data_free(struct top_data *d)
{
	live_entries_free(d->live, d->nlive);
	patches_free(d);
	free(d->rows);
	free(d->ro);
	json_object_put(d->detail);
}

/* The detail record of the gate top shows in detail, read only then (one file a refresh). */
static void detail_load(struct pg_ctx *ctx, struct top_data *d, const char *name)
{
	json_object_put(d->detail);
	d->detail = name ? live_read_detail(ctx->state_dir, name) : NULL;
}

static int top_once(struct pg_ctx *ctx, struct top_data *d)
{
	struct winsize ws;
	int width = 80;

	if (ctx->json) {
		if (d->has_ro)
			view_rollout_print(ctx, d->ro, d->ro_live);
		for (int i = 0; i < d->nlive; i++)
			live_print_status(ctx, d->live[i].rec, live_health_name(d->live[i].health));
		return PG_EXIT_OK;
	}
	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col >= 60)
		width = ws.ws_col;
	top_print_once(stdout, d->rows, d->nrows, width);
	/* the rollout as a tree under the table, as `status` shows it */
	if (d->has_ro) {
		printf("\n");
		view_rollout_print(ctx, d->ro, d->ro_live);
	}
	return PG_EXIT_OK;
}

/* Send a confirmed action; its answer becomes the status line. */
static void top_act(struct pg_ctx *ctx, enum gate_op op, const char *name, char *msg, size_t len)
{
	char reply[400];
	int e = live_control(ctx->state_dir, name, op, TOP_ACTION_MS, reply, sizeof(reply));

	snprintf(msg, len, "%s %s: %s: %s", gate_op_name(op), name,
		 !e ? "ok" : e == -EACCES ? "denied" : e == -EBUSY || e == -EALREADY ? "refused" :
		 "failed", reply);
}

int top_main(struct pg_ctx *ctx, const struct pg_top_opts *o)
{
	struct sigaction sa = { .sa_handler = on_stop }, old_int, old_term;
	struct top_data d = {};
	struct top_ui *ui = NULL;
	uint64_t delay = (uint64_t)(o->delay_s * 1e9), next;
	char msg[600] = "";
	int e;

	e = top_load(ctx, &d, true);
	if (e && e != -ENOENT)
		snprintf(msg, sizeof(msg), "cannot read %s/%s: %s", ctx->state_dir, LIVE_DIR, strerror(-e));
	if (o->once) {
		if (e && e != -ENOENT)
			pg_warn(ctx, "top: %s", msg);
		e = top_once(ctx, &d);
		top_data_free(&d);
		return e;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		top_data_free(&d);
		pg_err(ctx, PG_EXIT_USAGE, "top: needs a terminal; for a script or a pipe use --once");
		return PG_EXIT_USAGE;
	}
	ui = top_ui__new(&(struct top_ui_opts){ .color = o->color, .delay_s = o->delay_s,
						.state_dir = ctx->state_dir });
	if (!ui) {
		top_data_free(&d);
		pg_err(ctx, PG_EXIT_SYSTEM, "top: cannot set up the terminal (TERM=%s)",
		       getenv("TERM") ? getenv("TERM") : "");
		return PG_EXIT_SYSTEM;
	}
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	d.patches_at = pg_mono_ns();
	next = pg_mono_ns() + delay;
	while (!top_stop) {
		enum gate_op op;
		char name[128];
		uint64_t now;
		enum top_event ev;

		const char *dn;

		top_ui_draw(ui, d.rows, d.nrows, d.detail, msg);
		now = pg_mono_ns();
		ev = top_ui_input(ui, next > now ? (int)((next - now) / 1000000) : 0, &op, name,
				  sizeof(name));
		if (ev == TOP_EV_QUIT)
			break;
		/* a key that opened another gate's detail: read it at once */
		dn = top_ui_detail_name(ui);
		if (dn && (!d.detail || strcmp(dn, json_object_get_string(
				json_object_object_get(d.detail, "name")) ?: "")))
			detail_load(ctx, &d, dn);
		if (ev == TOP_EV_ACTION) {
			top_act(ctx, op, name, msg, sizeof(msg));
			next = 0;	/* show what it did at once */
		}
		now = pg_mono_ns();
		if (now < next)
			continue;
		next = now + delay;
		if (top_ui_frozen(ui))
			continue;
		/* the name first: the rows the screen points into go with the reload */
		dn = top_ui_detail_name(ui);
		snprintf(name, sizeof(name), "%s", dn ? dn : "");
		e = top_load(ctx, &d, now - d.patches_at >= TOP_PATCHES_NS);
		detail_load(ctx, &d, name[0] ? name : NULL);
		if (now - d.patches_at >= TOP_PATCHES_NS)
			d.patches_at = now;
		if (e && e != -ENOENT)
			snprintf(msg, sizeof(msg), "cannot read %s/%s: %s", ctx->state_dir, LIVE_DIR,
				 strerror(-e));
	}
	top_ui__free(ui);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	top_data_free(&d);
	return PG_EXIT_OK;
}
