// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `patchgate top`'s screens (ncursesw): the overview, a gate's detail, the
 * help, the filter prompt and the confirmation of an operator action.  No
 * statistics here: every number comes from the live records.
 */
#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "view/top.h"
#include "view/rollout.h"
#include "view/top_fmt.h"

enum top_screen {
	SCR_OVERVIEW = 0,
	SCR_DETAIL,
	SCR_HELP,
	SCR_WATCH,	/* ad-hoc watch mode: top's own probes, no gates */
};

struct top_ui {
	struct top_ui_opts o;
	bool utf8, color;
	enum top_screen screen, back;	/* back: where help returns to */
	int sort;
	char filter[64];
	bool filtering;
	bool frozen;
	char sel[64];			/* the selected row, by name: it survives a re-sort */
	int sel_fn;			/* detail and watch: the selected function */
	int wsort;			/* watch: the functions' sort key */
	int top;			/* overview: the first row shown */
	bool confirming;
	enum gate_op cop;
	char cname[64];
	char note[200];			/* the screen's own message (a refused key, ...) */
	/* the last rows drawn, in display order (valid until the next draw) */
	const struct top_row *rows;
	int nrows;
	int *vis, nvis, cap;
};

#define PAIR_GOOD 1
#define PAIR_BUSY 2
#define PAIR_BAD 3
#define PAIR_OFF 4

struct top_ui *top_ui__new(const struct top_ui_opts *o)
{
	struct top_ui *ui = calloc(1, sizeof(*ui));
	const char *cs;

	if (!ui)
		return NULL;
	ui->o = *o;
	ui->screen = ui->back = o->watch ? SCR_WATCH : SCR_OVERVIEW;
	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	ui->utf8 = cs && !strcmp(cs, "UTF-8");
	if (!initscr()) {
		free(ui);
		return NULL;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	if (o->color && has_colors()) {
		ui->color = true;
		start_color();
		use_default_colors();
		init_pair(PAIR_GOOD, COLOR_GREEN, -1);
		init_pair(PAIR_BUSY, COLOR_YELLOW, -1);
		init_pair(PAIR_BAD, COLOR_RED, -1);
		init_pair(PAIR_OFF, COLORS >= 16 ? 8 : COLOR_WHITE, -1);
	}
	return ui;
}

void top_ui__free(struct top_ui *ui)
{
	if (!ui)
		return;
	endwin();
	free(ui->vis);
	free(ui);
}

bool top_ui_frozen(const struct top_ui *ui)
{
	return ui->frozen;
}

static attr_t tone_attr(const struct top_ui *ui, enum top_tone t)
{
	if (!ui->color)
		return t == TOP_TONE_OFF ? A_DIM : A_NORMAL;
	switch (t) {
	case TOP_TONE_GOOD:
		return COLOR_PAIR(PAIR_GOOD);
	case TOP_TONE_BUSY:
		return COLOR_PAIR(PAIR_BUSY);
	case TOP_TONE_BAD:
		return COLOR_PAIR(PAIR_BAD) | A_BOLD;
	case TOP_TONE_OFF:
		return COLOR_PAIR(PAIR_OFF) | A_DIM;
	default:
		return A_NORMAL;
	}
}

/* One line at row @y, cut at the screen's edge, in @attr. */
static void put(int y, attr_t attr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void put(int y, attr_t attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (y < 0 || y >= LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	attrset(attr);
	mvaddnstr(y, 0, buf, COLS);
	attrset(A_NORMAL);
}

/* ---- rows in display order ---------------------------------------------- */

static int vis_cmp(const void *a, const void *b, void *arg)
{
	const struct top_ui *ui = arg;

	return top_row_cmp(&ui->rows[*(const int *)a], &ui->rows[*(const int *)b], ui->sort);
}

static bool row_matches(const struct top_row *r, const char *f)
{
	char line[512];

	if (!f[0])
		return true;
	top_fmt_row(r, line, sizeof(line), 200);
	return strcasestr(line, f) != NULL;
}

static void order_rows(struct top_ui *ui, const struct top_row *rows, int n)
{
	if (n > ui->cap) {
		int *nv = realloc(ui->vis, sizeof(int) * (size_t)n);

		if (!nv)
			n = ui->cap;
		else
			ui->vis = nv, ui->cap = n;
	}
	ui->rows = rows;
	ui->nrows = n;
	ui->nvis = 0;
	for (int i = 0; i < n; i++)
		if (row_matches(&rows[i], ui->filter))
			ui->vis[ui->nvis++] = i;
	qsort_r(ui->vis, (size_t)ui->nvis, sizeof(int), vis_cmp, ui);
}

/* The display position of the selected row; the first row when it went away. */
static int sel_pos(struct top_ui *ui)
{
	char name[64];

	for (int i = 0; i < ui->nvis; i++)
		if (!strcmp(top_row_name(&ui->rows[ui->vis[i]], name, sizeof(name)), ui->sel))
			return i;
	if (ui->nvis)
		top_row_name(&ui->rows[ui->vis[0]], ui->sel, sizeof(ui->sel));
	return ui->nvis ? 0 : -1;
}

static const struct top_row *sel_row(struct top_ui *ui)
{
	int p = sel_pos(ui);

	return p < 0 ? NULL : &ui->rows[ui->vis[p]];
}

/* ---- screens -------------------------------------------------------------- */

static void draw_footer(struct top_ui *ui, const char *msg)
{
	const char *m = ui->note[0] ? ui->note : msg;

	if (ui->confirming)
		put(LINES - 2, A_BOLD, "%s gate %s now? [y/N]",
		    ui->cop == GATE_OP_PROMOTE ? "Promote (commit)" :
		    ui->cop == GATE_OP_ABORT ? "Abort (revert)" :
		    ui->cop == GATE_OP_HOLD ? "Hold" : "Resume", ui->cname);
	else if (ui->filtering)
		put(LINES - 2, A_BOLD, "filter: %s_", ui->filter);
	else
		put(LINES - 2, A_BOLD, "%s", m ? m : "");
	put(LINES - 1, A_REVERSE, "%-*s", COLS,
	    ui->screen == SCR_WATCH ?
	    " j/k function  s sort  / filter  space freeze  h help  q quit" :
	    ui->screen == SCR_DETAIL ?
	    " Esc back  j/k function  P promote  A abort  H hold/resume  space freeze  h help  q quit" :
	    " Enter detail  P promote  A abort  H hold/resume  s sort  / filter  space freeze  h help  q quit");
}

static void draw_title(struct top_ui *ui, const struct top_row *rows, int n)
{
	int running = 0, gone = 0, patches = 0;
	char clock[16];
	time_t now = time(NULL);
	struct tm tm;

	for (int i = 0; i < n; i++) {
		if (rows[i].rollout)
			continue;
		if (!rows[i].rec)
			patches++;
		else if (!strcmp(rows[i].health, "running"))
			running++;
		else if (!strcmp(rows[i].health, "gone"))
			gone++;
	}
	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	put(0, A_BOLD, "patchgate top - %s  gates: %d running, %d gone  patches: %d  sort: %s%s%s%s%s",
	    clock, running, gone, patches, top_sort_name(ui->sort), ui->filter[0] ? "  filter: " : "",
	    ui->filter, ui->frozen ? "  [FROZEN]" : "", "");
}

static void draw_overview(struct top_ui *ui, const struct top_row *rows, int n)
{
	int p = sel_pos(ui), h = LINES - 4;
	char line[512];

	draw_title(ui, rows, n);
	top_fmt_header(line, sizeof(line), COLS);
	put(1, A_REVERSE, "%-*s", COLS, line);
	if (p >= 0 && p < ui->top)
		ui->top = p;
	if (p >= 0 && p >= ui->top + h)
		ui->top = p - h + 1;
	if (ui->top > ui->nvis - h)
		ui->top = ui->nvis - h > 0 ? ui->nvis - h : 0;
	for (int i = ui->top; i < ui->nvis && i - ui->top < h; i++) {
		const struct top_row *r = &rows[ui->vis[i]];

		top_fmt_row(r, line, sizeof(line), COLS);
		put(2 + i - ui->top, tone_attr(ui, top_row_tone(r)) | (i == p ? A_REVERSE : 0), "%-*s",
		    COLS, line);
	}
	if (!ui->nvis)
		put(3, A_NORMAL, "  %s", n ? "(nothing matches the filter)" :
		    "(no gate has run with this state directory, and no patch is applied)");
}

static void draw_fn_table(struct top_ui *ui, json_object *fns, int *y)
{
	int nf = fns ? (int)json_object_array_length(fns) : 0;

	put((*y)++, A_REVERSE, "%-*s", COLS,
	    "FUNCTION          CALLS/S INFL  P50 BASE    POST     x    P99 BASE    POST     x    MW-P TAIL-P");
	if (ui->sel_fn >= nf)
		ui->sel_fn = nf ? nf - 1 : 0;
	for (int i = 0; i < nf && *y < LINES - 8; i++) {
		json_object *f = json_object_array_get_idx(fns, (size_t)i);
		char b50[16], p50[16], b99[16], p99[16];

		top_fmt_ns(top_jnum(f, "p50_base_ns"), b50, sizeof(b50));
		top_fmt_ns(top_jnum(f, "p50_post_ns"), p50, sizeof(p50));
		top_fmt_ns(top_jnum(f, "p99_base_ns"), b99, sizeof(b99));
		top_fmt_ns(top_jnum(f, "p99_post_ns"), p99, sizeof(p99));
		put((*y)++, i == ui->sel_fn ? A_BOLD : A_NORMAL,
		    "%c%-16.16s %7.0f %4.0f %9s %8s %5.2f %9s %8s %5.2f %6.2g %6.2g",
		    i == ui->sel_fn ? '>' : ' ', top_jstr(f, "name"), top_jnum(f, "calls_per_s"),
		    top_jnum(f, "inflight"), b50, p50, top_jnum(f, "p50_ratio"), b99, p99,
		    top_jnum(f, "p99_ratio"), top_jnum(f, "mw_p"), top_jnum(f, "tail_p"));
	}
}

/* The selected function's p99 over time, the patch marked. */
static void draw_spark(struct top_ui *ui, json_object *detail, json_object *f, int *y)
{
	json_object *h = json_object_object_get(f, "p99_history_ns");
	int n = h ? (int)json_object_array_length(h) : 0, w = COLS - 8, from, mark;
	double v[64], lo = 0, hi = 0;
	char buf[512], a[16], b[16];

	from = n > w ? n - w : 0;
	if (n - from > 64)
		from = n - 64;
	for (int i = from; i < n; i++) {
		v[i - from] = json_object_get_double(json_object_array_get_idx(h, (size_t)i));
		if (v[i - from] > 0 && (!lo || v[i - from] < lo))
			lo = v[i - from];
		if (v[i - from] > hi)
			hi = v[i - from];
	}
	mark = (int)top_jnum(detail, "apply_index");
	mark = mark >= from ? mark - from : -1;
	top_fmt_spark(v, n - from, mark, ui->utf8, buf, sizeof(buf));
	top_fmt_ns(lo, a, sizeof(a));
	top_fmt_ns(hi, b, sizeof(b));
	put((*y)++, A_NORMAL, "p99 of %s, one point a second, | where the patch went in (%s .. %s):",
	    top_jstr(f, "name"), a, b);
	attrset(tone_attr(ui, TOP_TONE_BUSY));
	mvaddstr(*y, 2, buf);
	attrset(A_NORMAL);
	(*y)++;
}

/* Baseline against bake: each side's share of its calls per latency bin, as bars. */
static void draw_hist(json_object *f, int *y, int room)
{
	json_object *h = json_object_object_get(f, "hist"), *e, *b, *p;
	int nb, step, bar = (COLS - 26) / 2;

	if (!h || room < 3) {
		return;
	}
	e = json_object_object_get(h, "edges_ns");
	b = json_object_object_get(h, "base");
	p = json_object_object_get(h, "post");
	nb = b ? (int)json_object_array_length(b) : 0;
	if (!nb || !p || !e)
		return;
	/* fewer lines on a small screen: pairs of bins merged */
	step = nb + 1 <= room ? 1 : nb / 2 + 1 <= room ? 2 : 4;
	put((*y)++, A_NORMAL, "latency of %s: baseline %-*s bake", top_jstr(f, "name"), bar - 5, "");
	for (int i = 0; i < nb && *y < LINES - 2; i += step) {
		double fb = 0, fp = 0;
		char lo[16], sb[128], sp[128];
		int kb, kp;

		for (int k = i; k < i + step && k < nb; k++) {
			fb += json_object_get_double(json_object_array_get_idx(b, (size_t)k));
			fp += json_object_get_double(json_object_array_get_idx(p, (size_t)k));
		}
		top_fmt_ns(json_object_get_double(json_object_array_get_idx(e, (size_t)i)), lo,
			   sizeof(lo));
		kb = (int)(fb * (bar - 5) + 0.5);
		kp = (int)(fp * (bar - 5) + 0.5);
		memset(sb, '#', sizeof(sb));
		memset(sp, '#', sizeof(sp));
		sb[kb < 127 ? kb : 127] = '\0';
		sp[kp < 127 ? kp : 127] = '\0';
		put((*y)++, A_NORMAL, " %8s %-*s%3.0f%% %-*s%3.0f%%", lo, bar - 5, sb, fb * 100,
		    bar - 5, sp, fp * 100);
	}
}

static void draw_tail(json_object *rec, int *y)
{
	json_object *bl = json_object_object_get(rec, "blockers");
	json_object *d = json_object_object_get(rec, "decisions");
	int nbl = bl ? (int)json_object_array_length(bl) : 0;
	int nd = d ? (int)json_object_array_length(d) : 0, room;

	if (nbl && *y < LINES - 3) {
		put((*y)++, A_BOLD, "%s: %d", !strcmp(top_jstr(rec, "phase"), "TRANSITION") ?
		    "stragglers" : "blocked by", (int)top_jnum(rec, "blockers_total"));
		for (int i = 0; i < nbl && i < 3 && *y < LINES - 3; i++) {
			json_object *x = json_object_array_get_idx(bl, (size_t)i);

			put((*y)++, A_NORMAL, "  tid %d (%s) in %s %s", (int)top_jnum(x, "tid"),
			    top_jstr(x, "comm"), top_jstr(x, "func"), top_jstr(x, "state"));
		}
	}
	room = LINES - 3 - *y;
	if (room < 2 || !nd)
		return;
	put((*y)++, A_BOLD, "audit (last decisions):");
	for (int i = nd - (room - 1 < nd ? room - 1 : nd); i < nd && *y < LINES - 2; i++) {
		json_object *x = json_object_array_get_idx(d, (size_t)i);
		char uid[32] = "";

		if (json_object_object_get(x, "operator_uid"))
			snprintf(uid, sizeof(uid), " uid %d", (int)top_jnum(x, "operator_uid"));
		put((*y)++, A_NORMAL, " %6.1fs %s -> %s (%s%s): %s", top_jnum(x, "elapsed_s"),
		    top_jstr(x, "from"), top_jstr(x, "to"), top_jstr(x, "reason"), uid,
		    top_jstr(x, "detail"));
	}
}

static void draw_patch_detail(const struct top_row *r, int *y)
{
	put((*y)++, A_BOLD, "patch %s (%s%s%d): %s", r->patch->patch, r->kind,
	    r->patch->pid ? ", pid " : "", r->patch->pid, r->rec ? "" :
	    !strcmp(r->kind, "klp") ? (r->patch->enabled ? "enabled" : "disabled") :
	    r->patch->journal_state);
	for (unsigned int i = 0; i < r->patch->nfuncs && *y < LINES - 2; i++)
		put((*y)++, A_NORMAL, "  %s%s%s", r->patch->funcs[i].object,
		    r->patch->funcs[i].object[0] ? ":" : "", r->patch->funcs[i].func);
}

/* The live record of the gate of rollout member @m (filtered out or not), or NULL. */
static json_object *member_gate(const struct top_ui *ui, const struct ro_member *m)
{
	for (int i = 0; i < ui->nrows; i++) {
		json_object *rec = ui->rows[i].rec;

		if (rec && m->gate_pid && (int)top_jnum(rec, "gate_pid") == m->gate_pid)
			return rec;
	}
	return NULL;
}

/*
 * A rollout as a tree: the rollout, its rings, each ring's processes, and
 * for a process whose gate runs, that gate's phase and functions (from its
 * live record; the gate's own row has the rest).
 */
static void draw_rollout_detail(struct top_ui *ui, const struct top_row *r, int *y)
{
	const struct ro_run *ro = r->rollout;
	const char *branch = ui->utf8 ? "\u251c\u2500" : "|-", *last = ui->utf8 ? "\u2514\u2500" : "`-";
	const char *pipe = ui->utf8 ? "\u2502" : "|";
	unsigned int nr = ro_last_ring(ro);

	put((*y)++, A_BOLD | tone_attr(ui, top_row_tone(r)), "rollout %s: %s, ring %u of %u%s%s",
	    ro->id, ro_state_name(ro->state), ro->ring, ro->nrings,
	    !strcmp(r->health, "gone") ? " (interrupted: rollout --resume)" : "",
	    ui->frozen ? "  [FROZEN]" : "");
	put((*y)++, A_NORMAL, "  patch %s", ro->patch);
	put((*y)++, A_NORMAL, "  target %s (build-id %.16s)", ro->exe[0] ? ro->exe : "--pids",
	    ro->build_id);
	for (unsigned int k = 1; k <= nr && *y < LINES - 2; k++) {
		unsigned int nm = 0, ncommit = 0;
		bool lastring = k == nr;

		for (unsigned int i = 0; i < ro->n; i++)
			if (ro->m[i].ring == k) {
				nm++;
				ncommit += ro->m[i].state == RO_M_COMMITTED;
			}
		put((*y)++, k < ro->ring ? A_NORMAL : k == ro->ring ? A_BOLD : A_DIM,
		    "%s ring %u: %u process%s, %u committed%s", lastring ? last : branch, k, nm,
		    nm == 1 ? "" : "es", ncommit, k == ro->ring && ro->state == RO_RUNNING ?
		    "  <- now" : "");
		for (unsigned int i = 0; i < ro->n && *y < LINES - 2; i++) {
			const struct ro_member *m = &ro->m[i];
			json_object *g, *fns;
			char text[256];

			if (m->ring != k)
				continue;
			view_rollout_member_text(m, text, sizeof(text));
			g = m->state == RO_M_RUNNING ? member_gate(ui, m) : NULL;
			put((*y)++, A_NORMAL, "%s    %s%s%s", lastring ? " " : pipe, text, g ? ", gate " : "",
			    g ? top_jstr(g, "phase") : "");
			fns = g ? json_object_object_get(g, "functions") : NULL;
			for (size_t f = 0; fns && f < json_object_array_length(fns) && *y < LINES - 2;
			     f++) {
				json_object *fn = json_object_array_get_idx(fns, f);
				char x50[16] = "-", x99[16] = "-";

				/* the ratios once the bake has post-patch calls */
				if (top_jnum(fn, "p50_ratio") > 0) {
					snprintf(x50, sizeof(x50), "x%.2f", top_jnum(fn, "p50_ratio"));
					snprintf(x99, sizeof(x99), "x%.2f", top_jnum(fn, "p99_ratio"));
				}
				put((*y)++, A_DIM, "%s        %-24.24s %7.0f calls/s  p50 %s  p99 %s",
				    lastring ? " " : pipe, top_jstr(fn, "name"),
				    top_jnum(fn, "calls_per_s"), x50, x99);
			}
		}
	}
}

static void draw_detail(struct top_ui *ui, json_object *detail)
{
	const struct top_row *r = sel_row(ui);
	json_object *fns, *f, *df = NULL;
	int y = 0, hist_room;

	if (!r) {
		ui->screen = SCR_OVERVIEW;
		return;
	}
	if (r->rollout) {
		draw_rollout_detail(ui, r, &y);
		return;
	}
	if (!r->rec) {
		draw_patch_detail(r, &y);
		return;
	}
	put(y++, A_BOLD | tone_attr(ui, top_row_tone(r)),
	    "gate %s %s %s %s%s %.0fs, bake left %.0fs, alpha spent %.2g, pid %d %s%s",
	    top_jstr(r->rec, "name"), top_jstr(r->rec, "patch"), top_jstr(r->rec, "kind"),
	    top_jstr(r->rec, "phase"), top_jbool(r->rec, "held") ? " HELD" : "",
	    top_jnum(r->rec, "phase_s"), top_jnum(r->rec, "bake_left_s"),
	    top_jnum(r->rec, "alpha_spent"), (int)top_jnum(r->rec, "gate_pid"), r->health,
	    ui->frozen ? "  [FROZEN]" : "");
	fns = json_object_object_get(r->rec, "functions");
	draw_fn_table(ui, fns, &y);
	f = fns && json_object_array_length(fns) ? json_object_array_get_idx(fns, (size_t)ui->sel_fn) :
	    NULL;
	/* the history and the histograms, from the gate's detail record */
	fns = json_object_object_get(detail, "functions");
	for (size_t i = 0; f && fns && i < json_object_array_length(fns); i++)
		if (!strcmp(top_jstr(json_object_array_get_idx(fns, i), "name"), top_jstr(f, "name")))
			df = json_object_array_get_idx(fns, i);
	if (df) {
		y++;
		draw_spark(ui, detail, df, &y);
		hist_room = LINES - y - 8;
		draw_hist(df, &y, hist_room > 13 ? 13 : hist_room);
	}
	draw_tail(r->rec, &y);
}

/* A help screen: its title, then @lines as far as the screen goes. */
static void draw_text(struct top_ui *ui, const char *const *lines, size_t n)
{
	int y = 0;

	put(y++, A_BOLD, "patchgate top - help (refresh every %.2gs, -d to change)", ui->o.delay_s);
	for (size_t i = 0; i < n && y < LINES - 1; i++)
		put(y++, A_NORMAL, "%s", lines[i]);
}

static void draw_watch_help(struct top_ui *ui)
{
	static const char *const lines[] = {
		"patchgate top, ad-hoc watch mode: top's own probes on the functions named",
		"",
		"  q            quit (the probes are detached)",
		"  h ? F1       this help (any key returns)",
		"  Up Down j k  move the selection; its p99 over time is drawn below the table",
		"  s            sort: as given, calls/s, p99, in flight",
		"  /            filter functions by name (Enter keeps it, Esc clears it)",
		"  space        freeze the display (the probes go on counting)",
		"",
		"Each row is the last refresh interval: calls per second, threads inside now,",
		"latency p50/p90/p99 and the largest since attach, and the error rate when",
		"--errors is given.  PROBE is how the entry is probed: nop5 (cheap) or trap",
		"(a breakpoint, ~14 us a call) for a process; fentry or kprobe in the kernel.",
	};

	draw_text(ui, lines, sizeof(lines) / sizeof(lines[0]));
}

static void draw_help(struct top_ui *ui)
{
	static const char *const lines[] = {
		"patchgate top: every gate running with this state directory, and the patches applied",
		"",
		"  q            quit",
		"  h ? F1       this help (any key returns)",
		"  Up Down j k  move the selection (detail: the function)",
		"  Enter        the selected gate's detail: functions, p99 over time, latency",
		"               histogram of the baseline against the bake, blockers, decisions;",
		"               on the rollout row, the rollout as a tree: rings, processes, and",
		"               the functions of each gate that runs (its CALLS/S column: done/all)",
		"  Esc Left     back to the overview",
		"  s            sort: target, phase, p99 ratio, calls/s",
		"  /            filter rows by any text (Enter keeps it, Esc clears it)",
		"  space        freeze the display (the gates go on)",
		"  P            promote the selected gate: commit now (BAKE only)",
		"  A            abort the selected gate: revert now, or apply nothing (exit 6)",
		"  H            hold the selected gate's verdict and bake, or resume it",
		"",
		"Each action asks for a confirmation, goes to the gate over its control",
		"socket, and is written to the audit log with your uid.",
		"",
		"Colours: COMMITTED green; BASELINE, WAIT_WINDOW, BAKE yellow; REVERTING,",
		"REVERTED red; ABORTED and gone (the gate died) grey.  NO_COLOR turns them off.",
	};

	draw_text(ui, lines, sizeof(lines) / sizeof(lines[0]));
}

const char *top_ui_detail_name(struct top_ui *ui)
{
	const struct top_row *r;

	if (ui->screen != SCR_DETAIL || !ui->rows)
		return NULL;
	r = sel_row(ui);
	return r && r->rec ? top_jstr(r->rec, "name") : NULL;
}

void top_ui_draw(struct top_ui *ui, const struct top_row *rows, int n, json_object *detail,
		 const char *msg)
{
	erase();
	order_rows(ui, rows, n);
	if (COLS < 60 || LINES < 12) {
		put(0, A_BOLD, "terminal too small (%dx%d): at least 60x12", COLS, LINES);
		refresh();
		return;
	}
	switch (ui->screen) {
	case SCR_HELP:
		draw_help(ui);
		break;
	case SCR_DETAIL:
		draw_detail(ui, detail);
		if (ui->screen == SCR_DETAIL)
			break;
		draw_overview(ui, rows, n);	/* the row went away */
		break;
	default:
		draw_overview(ui, rows, n);
		break;
	}
	if (ui->screen != SCR_HELP)
		draw_footer(ui, msg);
	refresh();
}

/* ---- ad-hoc watch mode ---------------------------------------------------- */

static int watch_cmp(const void *a, const void *b, void *arg)
{
	const struct top_ui *ui = ((const void **)arg)[0];
	const struct pg_func_report *r = ((const void **)arg)[1];
	int ia = *(const int *)a, ib = *(const int *)b, c;

	c = top_watch_cmp(&r[ia], &r[ib], ui->wsort);
	return c ? c : ia - ib;
}

/* The functions in display order (sorted, filtered by name) into ui->vis. */
static void order_watch(struct top_ui *ui, const struct top_watch_view *v)
{
	const void *arg[2] = { ui, v->rows };
	int n = v->n;

	if (n > ui->cap) {
		int *nv = realloc(ui->vis, sizeof(int) * (size_t)n);

		if (!nv)
			n = ui->cap;
		else
			ui->vis = nv, ui->cap = n;
	}
	ui->nvis = 0;
	for (int i = 0; i < n; i++)
		if (!ui->filter[0] || strcasestr(v->rows[i].func, ui->filter))
			ui->vis[ui->nvis++] = i;
	qsort_r(ui->vis, (size_t)ui->nvis, sizeof(int), watch_cmp, arg);
	if (ui->sel_fn >= ui->nvis)
		ui->sel_fn = ui->nvis ? ui->nvis - 1 : 0;
}

static void draw_watch(struct top_ui *ui, const struct top_watch_view *v)
{
	char line[512], clock[16], a[16], b[16];
	int y = 2, h = LINES - 10, first = 0;
	time_t now = time(NULL);
	struct tm tm;

	order_watch(ui, v);
	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	put(0, A_BOLD, "patchgate top %s  %s  %.0fs  sort: %s%s%s%s%s",
	    clock, v->target, v->elapsed_s, top_watch_sort_name(ui->wsort),
	    ui->filter[0] ? "  filter: " : "", ui->filter, ui->frozen ? "  [FROZEN]" : "",
	    v->ended ? "  [TARGET EXITED]" : "");
	top_fmt_watch_header(line, sizeof(line), COLS);
	put(1, A_REVERSE, "%-*s", COLS, line);
	if (ui->sel_fn >= h)
		first = ui->sel_fn - h + 1;
	for (int i = first; i < ui->nvis && y < 2 + h; i++) {
		const struct pg_func_report *r = &v->rows[ui->vis[i]];

		top_fmt_watch_row(r, line, sizeof(line), COLS);
		put(y++, (i == ui->sel_fn ? A_REVERSE : 0) |
		    tone_attr(ui, r->calls_per_s > 0 ? TOP_TONE_GOOD : TOP_TONE_OFF), "%-*s", COLS, line);
	}
	if (!ui->nvis) {
		put(y++, A_NORMAL, "  (no function matches the filter)");
		return;
	}
	/* the selected function: its p99 over time, and its totals */
	{
		int k = ui->vis[ui->sel_fn], from = v->nhist > COLS - 4 ? v->nhist - (COLS - 4) : 0;
		const struct pg_func_report *r = &v->rows[k];
		const double *hist = v->p99_hist[k] + from;
		double lo = 0, hi = 0;

		for (int i = 0; i < v->nhist - from; i++) {
			if (hist[i] > 0 && (!lo || hist[i] < lo))
				lo = hist[i];
			if (hist[i] > hi)
				hi = hist[i];
		}
		top_fmt_ns(lo, a, sizeof(a));
		top_fmt_ns(hi, b, sizeof(b));
		y++;
		put(y++, A_NORMAL, "p99 of %s, one point a refresh (%s .. %s):", r->func, a, b);
		top_fmt_spark(hist, v->nhist - from, -1, ui->utf8, line, sizeof(line));
		attrset(tone_attr(ui, TOP_TONE_BUSY));
		mvaddstr(y++, 2, line);
		attrset(A_NORMAL);
		put(y++, A_NORMAL, "%s in %s: %llu calls since attach, at most %lld inside at once",
		    r->func, r->object, (unsigned long long)r->calls, (long long)r->inflight_max);
		if (r->overflow)
			put(y++, A_NORMAL, "  %llu calls nested too deep to time",
			    (unsigned long long)r->overflow);
		if (r->errors_on)
			put(y++, A_NORMAL, "  errors: %llu (%.2f%% of returns)",
			    (unsigned long long)r->errors, r->error_rate * 100.0);
	}
}

void top_ui_draw_watch(struct top_ui *ui, const struct top_watch_view *v, const char *msg)
{
	erase();
	if (COLS < 60 || LINES < 12) {
		put(0, A_BOLD, "terminal too small (%dx%d): at least 60x12", COLS, LINES);
		refresh();
		return;
	}
	if (ui->screen == SCR_HELP) {
		draw_watch_help(ui);
	} else {
		draw_watch(ui, v);
		draw_footer(ui, msg);
	}
	refresh();
}

/* ---- keys ----------------------------------------------------------------- */

static void move_sel(struct top_ui *ui, int d)
{
	int p;

	/* the watch screen has no gate rows: only its functions */
	if (ui->screen == SCR_DETAIL || ui->screen == SCR_WATCH) {
		ui->sel_fn += d;
		if (ui->sel_fn < 0)
			ui->sel_fn = 0;	/* the upper end is clamped at the next draw */
		return;
	}
	p = sel_pos(ui);
	if (p < 0)
		return;
	p += d;
	p = p < 0 ? 0 : p >= ui->nvis ? ui->nvis - 1 : p;
	top_row_name(&ui->rows[ui->vis[p]], ui->sel, sizeof(ui->sel));
}

static void ask(struct top_ui *ui, int key)
{
	const struct top_row *r = ui->screen == SCR_WATCH ? NULL : sel_row(ui);

	if (ui->screen == SCR_WATCH) {
		snprintf(ui->note, sizeof(ui->note), "watch mode: no gate here (promote, abort and "
			 "hold act on gated applies)");
		return;
	}
	if (!r || !r->rec || strcmp(r->health, "running")) {
		snprintf(ui->note, sizeof(ui->note), "select a running gate first (%s acts on gates, "
			 "not on applied patches or finished gates)", key == 'P' ? "promote" :
			 key == 'A' ? "abort" : "hold");
		return;
	}
	ui->confirming = true;
	ui->cop = key == 'P' ? GATE_OP_PROMOTE : key == 'A' ? GATE_OP_ABORT :
		  top_jbool(r->rec, "held") ? GATE_OP_RESUME : GATE_OP_HOLD;
	snprintf(ui->cname, sizeof(ui->cname), "%s", top_jstr(r->rec, "name"));
}

static enum top_event filter_key(struct top_ui *ui, int ch)
{
	size_t len = strlen(ui->filter);

	if (ch == 27) {
		ui->filter[0] = '\0';
		ui->filtering = false;
	} else if (ch == '\n' || ch == KEY_ENTER || ch == '\r') {
		ui->filtering = false;
	} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
		if (len)
			ui->filter[len - 1] = '\0';
	} else if (ch >= 32 && ch < 127 && len + 1 < sizeof(ui->filter)) {
		ui->filter[len] = (char)ch;
		ui->filter[len + 1] = '\0';
	}
	return TOP_EV_REDRAW;
}

enum top_event top_ui_input(struct top_ui *ui, int timeout_ms, enum gate_op *op, char *name,
			    size_t len)
{
	int ch;

	timeout(timeout_ms < 0 ? 0 : timeout_ms);
	ch = getch();
	if (ch == ERR)
		return TOP_EV_TIMEOUT;
	if (ch == KEY_RESIZE)
		return TOP_EV_REDRAW;
	ui->note[0] = '\0';
	if (ui->filtering)
		return filter_key(ui, ch);
	if (ui->confirming) {
		ui->confirming = false;
		if (ch != 'y' && ch != 'Y') {
			snprintf(ui->note, sizeof(ui->note), "cancelled: nothing sent");
			return TOP_EV_REDRAW;
		}
		*op = ui->cop;
		snprintf(name, len, "%s", ui->cname);
		return TOP_EV_ACTION;
	}
	if (ui->screen == SCR_HELP) {
		ui->screen = ui->back;
		return ch == 'q' ? TOP_EV_QUIT : TOP_EV_REDRAW;
	}
	switch (ch) {
	case 'q':
		return TOP_EV_QUIT;
	case 'h':
	case '?':
	case KEY_F(1):
		ui->back = ui->screen;
		ui->screen = SCR_HELP;
		break;
	case KEY_UP:
	case 'k':
		move_sel(ui, -1);
		break;
	case KEY_DOWN:
	case 'j':
		move_sel(ui, 1);
		break;
	case KEY_NPAGE:
		move_sel(ui, LINES - 5);
		break;
	case KEY_PPAGE:
		move_sel(ui, -(LINES - 5));
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
	case KEY_RIGHT:
		if (ui->screen != SCR_WATCH && sel_row(ui)) {
			ui->screen = SCR_DETAIL;
			ui->sel_fn = 0;
		}
		break;
	case 27:
	case KEY_LEFT:
	case KEY_BACKSPACE:
		if (ui->screen != SCR_WATCH)
			ui->screen = SCR_OVERVIEW;
		break;
	case 's':
		if (ui->screen == SCR_WATCH)
			ui->wsort = (ui->wsort + 1) % TOP_WATCH_NSORTS;
		else
			ui->sort = (ui->sort + 1) % TOP_NSORTS;
		break;
	case '/':
		ui->filtering = true;
		break;
	case ' ':
		ui->frozen = !ui->frozen;
		break;
	case 'P':
	case 'A':
	case 'H':
		ask(ui, ch);
		break;
	default:
		break;
	}
	return TOP_EV_REDRAW;
}
