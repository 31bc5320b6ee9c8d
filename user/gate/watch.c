// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `watch` and `residency`, for a process (--pid) and for the kernel
 * (--kernel) alike: resolve the functions in the target, attach the probe
 * engine (probe/probe.h), and print a row per function every interval until
 * the duration ends, Ctrl-C, or the target exits; or list who is inside
 * the functions right now.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "gate/opts.h"
#include "gate/preflight.h"
#include "gate/top.h"
#include "core/hist.h"
#include "probe/probe.h"
#include "view/output.h"
#include "view/report.h"
#include "view/report_row.h"
#include "view/top.h"
#include "lib/clock.h"

#define RESID_MAX 4096

static volatile sig_atomic_t exiting;

static void on_stop(int sig)
{
	(void)sig;
	exiting = 1;
}

/* Bad input (nothing to probe, or not like that) or the system's failure. */
static int open_exit_code(int e)
{
	switch (e) {
	case EINVAL:
	case ENOENT:
	case ENOTUNIQ:
	case ESRCH:
	case EOPNOTSUPP:
		return PG_EXIT_USAGE;
	default:
		return PG_EXIT_SYSTEM;
	}
}

/*
 * Open the target (@pid, 0 for the kernel) and resolve @n specs into
 * @funcs.  Returns the target, or NULL with *rc set to the exit code after
 * printing why.
 */
static struct probe_target *open_target(struct pg_ctx *ctx, const char *cmd, int pid, int n,
					char **specs, struct probe_func *funcs, int *rc)
{
	struct probe_target *t;
	char err[1024];
	int e;

	t = probe_target__open(pid, err, sizeof(err));
	if (!t) {
		*rc = errno == ENOTSUP ? PG_EXIT_SYSTEM : open_exit_code(errno);
		pg_err(ctx, *rc, "%s: %s", cmd, err);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		e = probe_target__resolve(t, specs[i], &funcs[i], err, sizeof(err));
		if (e) {
			*rc = e == -ESRCH ? PG_EXIT_USAGE : open_exit_code(-e);
			pg_err(ctx, *rc, "%s: %s", cmd, err);
			probe_target__free(t);
			return NULL;
		}
	}
	return t;
}

/* The "attached" report and the warnings about how the functions are probed. */
static void report_probes(struct pg_ctx *ctx, struct probe *p, int pid, const struct probe_func *f,
			  int n)
{
	struct pg_attach_report a[PG_MAX_FUNCS];
	int traps = 0;

	for (int i = 0; i < n; i++) {
		a[i] = (struct pg_attach_report){
			.func = f[i].sym.name, .object = f[i].sym.object, .probe = probe__how(p, i),
			.addr = f[i].sym.addr,
		};
		traps += !strcmp(a[i].probe, "trap");
		if (f[i].sympos)
			pg_warn(ctx, "watch: probes attach by name; ',%lu' of %s is ignored", f[i].sympos,
				f[i].sym.name);
	}
	if (traps)
		pg_warn(ctx, "%d probe site(s) trap (~14 us per call on this kernel, vs ~0.2 us on a "
			"5-byte nop) -- build the target with -pg -mfentry -mnop-mcount for nop5 entries",
			traps);
	if (probe__note(p)[0])
		pg_warn(ctx, "watch: %s", probe__note(p));
	if (ctx->verbose)
		pg_info(ctx, "watch: %d function(s), maps hold %.1f KiB", n,
			(double)probe__map_bytes(p) / 1024.0);
	report_attached(ctx, pid, a, n);
}

/* State of the loop between two reports. */
struct watch_rows {
	struct pg_func_report rows[PG_MAX_FUNCS];
	struct pg_hist prev_h[PG_MAX_FUNCS];
	struct probe_snap snap[PG_MAX_FUNCS];
	uint64_t prev_calls[PG_MAX_FUNCS];
};

/* Read every function and fill the rows; a map that cannot be read is an error. */
static int read_rows(struct pg_ctx *ctx, struct probe *p, const struct probe_func *f,
		     const struct pg_watch_opts *o, struct watch_rows *w, bool final, double dt)
{
	struct pg_hist win;
	int e;

	for (int i = 0; i < o->nfuncs; i++) {
		struct probe_snap *s = &w->snap[i];

		e = probe__snapshot(p, i, s);
		if (e) {
			pg_err(ctx, PG_EXIT_SYSTEM, "watch: cannot read the probes' maps for %s: %s",
			       f[i].sym.name, strerror(-e));
			return e;
		}
		hist_diff(&win, &s->hist, &w->prev_h[i]);
		report_row_fill(&w->rows[i], f[i].sym.name, f[i].sym.object, probe__how(p, i),
				o->err_mode, &s->st, &s->hist, final ? NULL : &win, &s->inf,
				w->prev_calls[i], dt);
		w->prev_calls[i] = s->st.calls;
		w->prev_h[i] = s->hist;
	}
	return 0;
}

/* Every interval a table (or JSON rows), at the end a summary over the whole run. */
static int watch_loop(struct pg_ctx *ctx, struct probe_target *t, struct probe *p,
		      const struct probe_func *f, const struct pg_watch_opts *o)
{
	struct sigaction sa = { .sa_handler = on_stop };
	const char *reason = "duration reached";
	struct watch_rows *w;
	double t0, last, now;
	int ret = PG_EXIT_SYSTEM;

	w = calloc(1, sizeof(*w));
	if (!w) {
		pg_err(ctx, PG_EXIT_SYSTEM, "watch: out of memory");
		return PG_EXIT_SYSTEM;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	t0 = last = pg_mono_s();
	for (;;) {
		double next = last + o->interval_s, end = o->duration_s > 0 ? t0 + o->duration_s : 0;
		double wait_s = next - pg_mono_s();
		/* a negative fd (the kernel never exits) only sleeps */
		struct pollfd pfd = { .fd = probe_target__exit_fd(t), .events = POLLIN };
		bool final = false;
		int pr;

		if (end && end < next)
			wait_s = end - pg_mono_s();
		pr = poll(&pfd, 1, wait_s > 0 ? (int)(wait_s * 1000.0 + 0.5) : 0);
		now = pg_mono_s();
		if (pr < 0 && errno != EINTR) {
			pg_err(ctx, PG_EXIT_SYSTEM, "watch: poll: %s", strerror(errno));
			goto cleanup;
		}
		if (exiting) {
			reason = "interrupted";
			final = true;
		} else if (pr > 0) {
			reason = "target exited";
			final = true;
		} else if (end && now >= end - 1e-3) {
			final = true;
		} else if (now < next - 1e-3) {
			continue;
		}
		if (read_rows(ctx, p, f, o, w, final, now - last))
			goto cleanup;
		if (final) {
			/* the summary's quantiles cover the whole run */
			for (int i = 0; i < o->nfuncs; i++) {
				w->rows[i].p50_ns = hist_quantile(&w->snap[i].hist, 0.50);
				w->rows[i].p90_ns = hist_quantile(&w->snap[i].hist, 0.90);
				w->rows[i].p99_ns = hist_quantile(&w->snap[i].hist, 0.99);
				w->rows[i].calls_per_s = now > t0 ? (double)w->rows[i].calls / (now - t0) : 0;
			}
			if (pr > 0)
				pg_info(ctx, "target pid %d exited", probe_target__pid(t));
			report_summary(ctx, w->rows, o->nfuncs, now - t0, reason);
			break;
		}
		report_interval_begin(ctx, now - t0);
		for (int i = 0; i < o->nfuncs; i++)
			report_func(ctx, &w->rows[i], now - t0);
		last = now;
	}
	ret = PG_EXIT_OK;
cleanup:
	free(w);
	return ret;
}

/*
 * Preflight, open the target, resolve the functions and attach the probes;
 * @announce prints the "attached" report.  Returns 0, or the exit code after
 * printing why (what was opened is freed).
 */
static int watch_open(struct pg_ctx *ctx, const char *cmd, const struct pg_watch_opts *o,
		      bool announce, struct probe_target **tp, struct probe_func **fp,
		      struct probe **pp)
{
	struct probe_target *t = NULL;
	struct probe_func *funcs = NULL;
	struct probe *p = NULL;
	int ret, err_modes[PG_MAX_FUNCS];
	char err[2048];

	ret = gate_preflight(ctx, cmd, o->pid ? GATE_NEED_PTRACE | GATE_NEED_UPROBE : GATE_NEED_KBPF, 0);
	if (ret)
		return ret;
	ret = PG_EXIT_SYSTEM;
	funcs = calloc(o->nfuncs, sizeof(*funcs));
	if (!funcs) {
		pg_err(ctx, PG_EXIT_SYSTEM, "%s: out of memory", cmd);
		return PG_EXIT_SYSTEM;
	}
	t = open_target(ctx, cmd, o->pid, o->nfuncs, o->funcs, funcs, &ret);
	if (!t)
		goto fail;
	for (int i = 0; i < o->nfuncs; i++)
		err_modes[i] = o->err_mode;
	p = probe__open(&(struct probe_opts){
		.target = t, .nfuncs = o->nfuncs, .funcs = funcs, .err_modes = err_modes,
		.empty = o->empty_probes,
		.mode = getenv("PATCHGATE_KPROBE") ? PROBE_KPROBE_ONLY : PROBE_AUTO,
	}, err, sizeof(err));
	if (!p) {
		ret = open_exit_code(errno);
		pg_err(ctx, ret, "%s: %s", cmd, err);
		goto fail;
	}
	if (announce)
		report_probes(ctx, p, probe_target__pid(t), funcs, o->nfuncs);
	*tp = t;
	*fp = funcs;
	*pp = p;
	return 0;
fail:
	probe_target__free(t);
	free(funcs);
	return ret;
}

int watch_main(struct pg_ctx *ctx, const struct pg_watch_opts *o)
{
	struct probe_target *t = NULL;
	struct probe_func *funcs = NULL;
	struct probe *p = NULL;
	int ret;

	ret = watch_open(ctx, "watch", o, true, &t, &funcs, &p);
	if (ret)
		return ret;
	ret = watch_loop(ctx, t, p, funcs, o);
	probe__free(p);
	probe_target__free(t);
	free(funcs);
	return ret;
}

/* ---- top's ad-hoc watch mode ---------------------------------------------- */

/* top --pid PID FUNC... or top --kernel FUNC...: its loop around the watch screen. */
struct top_watch {
	struct watch_rows rows;
	double p99[PG_MAX_FUNCS][TOP_WATCH_HIST];
	int nhist;
	char target[160];
	struct top_watch_view view;
};

static void top_watch_target(struct top_watch *tw, int pid)
{
	char path[64], comm[64] = "";
	FILE *f;

	if (!pid) {
		snprintf(tw->target, sizeof(tw->target), "the kernel");
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(tw->target, sizeof(tw->target), "pid %d (%s)", pid, comm[0] ? comm : "?");
}

/* Read the probes over the last @dt seconds; add each function's p99 to its history. */
static int top_watch_read(struct pg_ctx *ctx, struct probe *p, const struct probe_func *f,
			  const struct pg_watch_opts *o, struct top_watch *tw, double dt)
{
	int e = read_rows(ctx, p, f, o, &tw->rows, false, dt);

	if (e)
		return e;
	if (tw->nhist == TOP_WATCH_HIST) {
		for (int i = 0; i < o->nfuncs; i++)
			memmove(tw->p99[i], tw->p99[i] + 1, sizeof(double) * (TOP_WATCH_HIST - 1));
		tw->nhist--;
	}
	for (int i = 0; i < o->nfuncs; i++)
		tw->p99[i][tw->nhist] = tw->rows.rows[i].p99_ns;
	tw->nhist++;
	tw->view.nhist = tw->nhist;
	return 0;
}

/* Has the target exited?  (The kernel's fd is negative: never.) */
static bool top_watch_ended(struct probe_target *t)
{
	struct pollfd pfd = { .fd = probe_target__exit_fd(t), .events = POLLIN };

	return pfd.fd >= 0 && poll(&pfd, 1, 0) > 0;
}

static int top_watch_once(struct pg_ctx *ctx, struct probe_target *t, struct probe *p,
			  const struct probe_func *f, const struct pg_watch_opts *o,
			  const struct pg_top_opts *to, struct top_watch *tw, double t0)
{
	struct pollfd pfd = { .fd = probe_target__exit_fd(t), .events = POLLIN };
	struct winsize ws;
	int width = 80;

	/* one refresh interval of calls, or less if the target exits first */
	if (poll(&pfd, 1, (int)(to->delay_s * 1000.0 + 0.5)) < 0 && errno != EINTR) {
		pg_err(ctx, PG_EXIT_SYSTEM, "top: poll: %s", strerror(errno));
		return PG_EXIT_SYSTEM;
	}
	tw->view.ended = top_watch_ended(t);
	if (top_watch_read(ctx, p, f, o, tw, pg_mono_s() - t0))
		return PG_EXIT_SYSTEM;
	tw->view.elapsed_s = pg_mono_s() - t0;
	if (ctx->json) {
		for (int i = 0; i < o->nfuncs; i++)
			report_func(ctx, &tw->rows.rows[i], tw->view.elapsed_s);
		return PG_EXIT_OK;
	}
	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col >= 60)
		width = ws.ws_col;
	top_print_watch_once(stdout, &tw->view, width);
	return PG_EXIT_OK;
}

static int top_watch_loop(struct pg_ctx *ctx, struct probe_target *t, struct probe *p,
			  const struct probe_func *f, const struct pg_watch_opts *o,
			  const struct pg_top_opts *to, struct top_watch *tw, double t0)
{
	struct sigaction sa = { .sa_handler = on_stop }, old_int, old_term;
	struct top_ui *ui;
	double last = t0, next = t0 + to->delay_s;
	char msg[200] = "";
	int ret = PG_EXIT_OK;

	ui = top_ui__new(&(struct top_ui_opts){ .color = to->color, .delay_s = to->delay_s,
						.state_dir = ctx->state_dir, .watch = true });
	if (!ui) {
		pg_err(ctx, PG_EXIT_SYSTEM, "top: cannot set up the terminal (TERM=%s)",
		       getenv("TERM") ? getenv("TERM") : "");
		return PG_EXIT_SYSTEM;
	}
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	snprintf(msg, sizeof(msg), "probes attached; the first figures after %.2gs", to->delay_s);
	while (!exiting) {
		enum gate_op op;
		char name[64];
		double now;

		top_ui_draw_watch(ui, &tw->view, msg);
		now = pg_mono_s();
		if (top_ui_input(ui, next > now ? (int)((next - now) * 1000.0) : 0, &op, name,
				 sizeof(name)) == TOP_EV_QUIT)
			break;
		now = pg_mono_s();
		if (now < next)
			continue;
		next = now + to->delay_s;
		if (tw->view.ended || top_ui_frozen(ui))
			continue;
		if (top_watch_ended(t)) {
			tw->view.ended = true;
			snprintf(msg, sizeof(msg), "target pid %d exited: the figures are its last; "
				 "q quits", probe_target__pid(t));
			continue;
		}
		if (top_watch_read(ctx, p, f, o, tw, now - last)) {
			ret = PG_EXIT_SYSTEM;
			break;
		}
		tw->view.elapsed_s = now - t0;
		last = now;
		msg[0] = '\0';
	}
	top_ui__free(ui);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return ret;
}

int top_watch_main(struct pg_ctx *ctx, const struct pg_top_opts *to, const struct pg_watch_opts *o)
{
	struct probe_target *t = NULL;
	struct probe_func *funcs = NULL;
	struct probe *p = NULL;
	struct top_watch *tw;
	double t0;
	int ret;

	if (!to->once && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		pg_err(ctx, PG_EXIT_USAGE, "top: needs a terminal; for a script or a pipe use --once");
		return PG_EXIT_USAGE;
	}
	tw = calloc(1, sizeof(*tw));
	if (!tw) {
		pg_err(ctx, PG_EXIT_SYSTEM, "top: out of memory");
		return PG_EXIT_SYSTEM;
	}
	/* -j --once: the "attached" record first, as watch -j gives it */
	ret = watch_open(ctx, "top", o, to->once && ctx->json, &t, &funcs, &p);
	if (ret) {
		free(tw);
		return ret;
	}
	top_watch_target(tw, probe_target__pid(t));
	tw->view = (struct top_watch_view){ .target = tw->target, .rows = tw->rows.rows,
					    .n = o->nfuncs, .p99_hist = tw->p99 };
	t0 = pg_mono_s();
	/* the first interval's window starts at attach */
	for (int i = 0; i < o->nfuncs; i++)
		report_row_fill(&tw->rows.rows[i], funcs[i].sym.name, funcs[i].sym.object,
				probe__how(p, i), o->err_mode, &(struct pg_func_stats){},
				&tw->rows.prev_h[i], NULL, &(struct pg_inflight){}, 0, 0);
	ret = to->once ? top_watch_once(ctx, t, p, funcs, o, to, tw, t0) :
			 top_watch_loop(ctx, t, p, funcs, o, to, tw, t0);
	probe__free(p);
	probe_target__free(t);
	free(funcs);
	free(tw);
	return ret;
}

int residency_main(struct pg_ctx *ctx, const struct pg_residency_opts *o)
{
	struct probe_target *t = NULL;
	struct probe_resid *r = NULL;
	struct probe_func *funcs = NULL;
	struct pg_inside *in = NULL;
	uint64_t walked = 0;
	int ret = PG_EXIT_SYSTEM, n;
	double t0, t1;
	char err[1024];

	ret = gate_preflight(ctx, "residency", o->pid ? GATE_NEED_PTRACE : GATE_NEED_KBPF, 0);
	if (ret)
		return ret;
	ret = PG_EXIT_SYSTEM;
	funcs = calloc(o->nfuncs, sizeof(*funcs));
	in = calloc(RESID_MAX, sizeof(*in));
	if (!funcs || !in) {
		pg_err(ctx, PG_EXIT_SYSTEM, "residency: out of memory");
		goto cleanup;
	}
	t = open_target(ctx, "residency", o->pid, o->nfuncs, o->funcs, funcs, &ret);
	if (!t)
		goto cleanup;
	r = probe_resid__open(t, funcs, o->nfuncs, err, sizeof(err));
	if (!r) {
		ret = open_exit_code(errno);
		pg_err(ctx, ret, "residency: %s", err);
		goto cleanup;
	}
	t0 = pg_mono_s();
	n = probe_resid__scan(r, in, RESID_MAX, &walked, err, sizeof(err));
	t1 = pg_mono_s();
	if (n < 0) {
		ret = n == -ESRCH || n == -EPERM || n == -ENOENT ? PG_EXIT_USAGE : PG_EXIT_SYSTEM;
		pg_err(ctx, ret, "residency: %s", err);
		goto cleanup;
	}
	if (n > RESID_MAX) {
		pg_warn(ctx, "residency: %d records, showing the first %d", n, RESID_MAX);
		n = RESID_MAX;
	}
	for (int i = 0; i < n; i++)
		report_resident(ctx, &in[i]);
	report_resident_end(ctx, n);
	if (ctx->verbose && walked)
		pg_info(ctx, "residency: %llu task(s) walked in %.3f ms", (unsigned long long)walked,
			(t1 - t0) * 1e3);
	ret = PG_EXIT_OK;
cleanup:
	probe_resid__free(r);
	probe_target__free(t);
	free(funcs);
	free(in);
	return ret;
}
