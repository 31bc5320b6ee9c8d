// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `patchgate apply` (gated): the loop around the pure gate.  Every tick it
 * gathers what the current state needs (samples, window, transition,
 * death, taint), feeds it to gate_step(), performs the returned actions
 * through the backend, and records each decision: a narrative line (or a
 * JSON "decision" line with -j) and one JSON line in the audit log under
 * the state directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "gate/policy_load.h"
#include "gate/gate_observe.h"
#include "gate/gate_run.h"
#include "gate/live.h"
#include "gate/preflight.h"
#include "view/audit.h"
#include "view/output.h"
#include "lib/clock.h"
#include "lib/procmaps.h"
#include "lib/file.h"
#include "lib/callgraph.h"
#include "lib/symbols.h"
#include "lib/statedir.h"

#define GR_TICK_MS 200

static volatile sig_atomic_t gr_cancel;

static void on_cancel(int sig)
{
	(void)sig;
	gr_cancel++;
}


/*
 * The state directory must take the gate's records before anything is
 * touched: checked (lib/statedir.h: ours, writable by nobody else,
 * created 0700), and the audit log and a phase file can be written there,
 * never through a symbolic link.  PG_EXIT_USAGE when the directory is
 * refused, PG_EXIT_SYSTEM when it cannot be written; a message either way.
 */
static int records_check(struct gr *g)
{
	char why[1024];
	const char *name = "audit.log";
	int dfd, fd;

	dfd = pg_statedir_open(g->ctx->state_dir, true, why, sizeof(why));
	if (dfd < 0) {
		pg_err(g->ctx, dfd == -EPERM ? PG_EXIT_USAGE : PG_EXIT_SYSTEM, "apply: %s", why);
		return dfd == -EPERM ? PG_EXIT_USAGE : PG_EXIT_SYSTEM;
	}
	fd = pg_statedir_openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT, 0600);
	if (fd < 0)
		goto fail;
	close(fd);
	snprintf(why, sizeof(why), ".gate-%d.probe", (int)getpid());
	name = why;
	fd = pg_statedir_openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		goto fail;
	close(fd);
	unlinkat(dfd, name, 0);
	close(dfd);
	return 0;
fail:
	pg_err(g->ctx, PG_EXIT_SYSTEM, "apply: cannot write %s/%s: %s -- every decision is recorded "
	       "there; nothing was changed", g->ctx->state_dir, name,
	       errno == ELOOP ? "it is a symbolic link, which is never followed" : strerror(errno));
	close(dfd);
	return PG_EXIT_SYSTEM;
}

/* @name in the state directory, opened relative to it and never through a symlink; -1 with errno. */
static int state_open(struct gr *g, const char *name, int flags)
{
	char why[1024];
	int dfd, fd, e;

	dfd = pg_statedir_open(g->ctx->state_dir, false, why, sizeof(why));
	if (dfd < 0) {
		errno = -dfd;
		return -1;
	}
	fd = pg_statedir_openat(dfd, name, flags, 0600);
	e = errno;
	close(dfd);
	errno = e;
	return fd;
}

/*
 * Append one JSON line to <state_dir>/audit.log (created 0600, O_APPEND)
 * and fsync it: the decision at Unix time @wall, with "hist": @hist_ref
 * when its histograms were kept (hist_write).  Returns 0 or -errno; the
 * caller stops the gate on error.
 */
static int audit_append(struct gr *g, const struct gate_audit *a, int64_t wall, const char *hist_ref)
{
	char path[PATH_MAX];
	json_object *o;
	const char *s;
	int fd, e;

	snprintf(path, sizeof(path), "%s/audit.log", g->ctx->state_dir);
	fd = state_open(g, "audit.log", O_WRONLY | O_APPEND | O_CREAT);
	if (fd < 0) {
		e = -errno;
		pg_err(g->ctx, PG_EXIT_SYSTEM, "cannot write the audit log %s: %s", path, strerror(-e));
		return e;
	}
	o = audit_to_json(a, "decision");
	json_object_object_add(o, "patch", json_object_new_string(g->patch_name));
	json_object_object_add(o, "target", g->o->klp ? json_object_new_string("kernel")
						      : json_object_new_int(g->o->pid));
	json_object_object_add(o, "wall_time", json_object_new_int64(wall));
	json_object_object_add(o, "sha256", json_object_new_string(g->sha256));
	json_object_object_add(o, "build_id", json_object_new_string(g->build_id));
	if (hist_ref && *hist_ref)
		json_object_object_add(o, "hist", json_object_new_string(hist_ref));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	e = pg_file_append_line(fd, s);
	if (close(fd) && !e)
		e = -errno;
	json_object_put(o);
	if (e)
		pg_err(g->ctx, PG_EXIT_SYSTEM, "cannot write the audit log %s: %s", path, strerror(-e));
	return e;
}

/*
 * At a final decision (to COMMITTED or REVERTING): the functions' baseline
 * and bake histograms as a "histograms" record (docs/json.md) in
 * <state_dir>/hist/<target>-<wall>-<seq>.json, written to a temporary file
 * and renamed (lib/statedir.h), for `report`.  Sets @ref to
 * "hist/<file>", the decision's "hist" field.  When it cannot be written (a
 * full disk) it warns and leaves @ref empty: the audit line goes on
 * without it, as it matters more.
 */
static void hist_write(struct gr *g, struct gate *gt, const struct gate_audit *a, int64_t wall,
		       char *ref, size_t reflen)
{
	const struct pg_hist *base[PG_MAX_FUNCS] = {}, *post[PG_MAX_FUNCS] = {};
	char name[256], why[1024];
	json_object *o = NULL;
	const char *s;
	char *line;
	int dfd = -1, hfd = -1, e;

	ref[0] = '\0';
	if (a->to != GATE_COMMITTED && a->to != GATE_REVERTING)
		return;
	for (unsigned int i = 0; i < a->nfuncs && i < PG_MAX_FUNCS; i++)
		if (gate_fn_hists(gt, i, &base[i], &post[i]))
			base[i] = post[i] = NULL;
	if (g->o->klp)
		snprintf(name, sizeof(name), "kernel-%s-%lld-%llu.json", g->patch_name, (long long)wall,
			 (unsigned long long)a->seq);
	else
		snprintf(name, sizeof(name), "%d-%lld-%llu.json", g->o->pid, (long long)wall,
			 (unsigned long long)a->seq);
	why[0] = '\0';
	dfd = pg_statedir_open(g->ctx->state_dir, false, why, sizeof(why));
	e = dfd;
	if (dfd >= 0) {
		hfd = pg_statedir_subdir(dfd, "hist", 0700, why, sizeof(why));
		e = hfd;
	}
	o = e >= 0 ? audit_hists_to_json(a, base, post) : NULL;
	if (e >= 0 && !o)
		e = -ENOMEM;
	if (o) {
		json_object_object_add(o, "patch", json_object_new_string(g->patch_name));
		json_object_object_add(o, "target", g->o->klp ? json_object_new_string("kernel")
							      : json_object_new_int(g->o->pid));
		json_object_object_add(o, "wall_time", json_object_new_int64(wall));
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		line = s ? malloc(strlen(s) + 2) : NULL;
		e = -ENOMEM;
		if (line) {
			/* one JSON line, as every record file */
			snprintf(line, strlen(s) + 2, "%s\n", s);
			e = pg_statedir_replace(hfd, name, line, strlen(line));
			free(line);
		}
	}
	if (e < 0)
		pg_warn(g->ctx, "cannot keep the histograms in %s/hist/%s: %s -- the decision is "
			"recorded without them", g->ctx->state_dir, name, why[0] ? why : strerror(-e));
	else
		snprintf(ref, reflen, "hist/%s", name);
	json_object_put(o);
	if (hfd >= 0)
		close(hfd);
	if (dfd >= 0)
		close(dfd);
}

/*
 * Write <state_dir>/gate-<target>.json (the phase `status` shows) through a
 * temporary file and rename.  Returns 0 or -errno (message printed).
 */
static int phase_write(struct gr *g, const struct gate_audit *a)
{
	char name[PATH_MAX], tmp[PATH_MAX + 8], why[1024];
	json_object *o;
	const char *s;
	int dfd, fd, e;

	if (g->o->klp)
		snprintf(name, sizeof(name), "gate-kernel-%s.json", g->patch_name);
	else
		snprintf(name, sizeof(name), "gate-%d.json", g->o->pid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	dfd = pg_statedir_open(g->ctx->state_dir, false, why, sizeof(why));
	if (dfd < 0) {
		e = dfd;
		goto out;
	}
	/* a fresh file: whatever sits at the temporary name (even a symlink) goes first */
	unlinkat(dfd, tmp, 0);
	fd = pg_statedir_openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		e = -errno;
		goto out;
	}
	o = audit_to_json(a, "phase");
	json_object_object_add(o, "patch", json_object_new_string(g->o->patch_path));
	json_object_object_add(o, "wall_time", json_object_new_int64((int64_t)time(NULL)));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	e = pg_file_write_all(fd, s, strlen(s));
	if (!e)
		e = pg_file_write_all(fd, "\n", 1);
	json_object_put(o);
	if (close(fd) && !e)
		e = -errno;
	if (!e && renameat(dfd, tmp, dfd, name))
		e = -errno;
	if (e)
		unlinkat(dfd, tmp, 0);
out:
	if (dfd >= 0)
		close(dfd);
	if (e)
		pg_err(g->ctx, PG_EXIT_SYSTEM, "cannot write the phase file %s/%s: %s", g->ctx->state_dir, name,
		       strerror(-e));
	return e;
}

static void clear_progress(struct gr *g, bool *shown)
{
	if (*shown && !g->ctx->json) {
		printf("\r\033[K");
		fflush(stdout);
		*shown = false;
	}
}

static void print_decision(struct gr *g, const struct gate_audit *a)
{
	char buf[2048];

	if (g->ctx->json) {
		json_object *o = audit_to_json(a, "decision");

		json_object_object_add(o, "patch", json_object_new_string(g->patch_name));
		pg_json_emit(o);
		return;
	}
	audit_format(a, buf, sizeof(buf));
	printf("%s\n", buf);
	fflush(stdout);
}

static void print_blockers(struct gr *g, const struct gate_out *out, const char *what)
{
	if (g->ctx->json) {
		json_object *o = pg_json_record("blockers"), *arr = json_object_new_array();

		json_object_object_add(o, "what", json_object_new_string(what));
		json_object_object_add(o, "total", json_object_new_int((int)out->nblockers_total));
		for (unsigned int i = 0; i < out->nblockers; i++) {
			const struct pg_inside *b = &out->blockers[i];
			json_object *x = json_object_new_object();

			json_object_object_add(x, "pid", json_object_new_int(b->pid));
			json_object_object_add(x, "tid", json_object_new_int(b->tid));
			json_object_object_add(x, "comm", json_object_new_string(b->comm));
			json_object_object_add(x, "func", json_object_new_string(b->func));
			json_object_object_add(x, "state", json_object_new_string(b->state));
			json_object_array_add(arr, x);
		}
		json_object_object_add(o, "blockers", arr);
		pg_json_emit(o);
		return;
	}
	printf("  %s: %u\n", what, out->nblockers_total);
	for (unsigned int i = 0; i < out->nblockers; i++) {
		const struct pg_inside *b = &out->blockers[i];

		printf("    tid %d (%s) %s %s%s%s\n", b->tid, b->comm,
		       g->o->klp ? "sleeping in" : "inside", b->func,
		       b->state[0] ? " state " : "", b->state);
	}
	fflush(stdout);
}

/*
 * Perform @out's actions in order.  Each backend result goes back into the
 * gate as an observation, whose own actions are performed in turn.
 */
static int run_actions(struct gr *g, struct gate *gt, struct gate_out *out, int *exit_code);

static int feed(struct gr *g, struct gate *gt, const struct gate_obs *obs, int *exit_code)
{
	struct gate_out out;
	int e;

	e = gate_step(gt, obs, pg_mono_ns(), &out);
	if (e) {
		pg_err(g->ctx, PG_EXIT_SYSTEM, "gate refused %s in %s: internal error",
		       gate_obs_name(obs->type), gate_state_name(gate_state(gt)));
		*exit_code = PG_EXIT_SYSTEM;
		return e;
	}
	return run_actions(g, gt, &out, exit_code);
}

static int run_actions(struct gr *g, struct gate *gt, struct gate_out *out, int *exit_code)
{
	struct gate_out copy = *out;

	if (copy.audit) {
		int64_t wall = (int64_t)time(NULL);
		char hist_ref[300];

		gate_live_decision(g->live, copy.audit);
		hist_write(g, gt, copy.audit, wall, hist_ref, sizeof(hist_ref));
		/* a decision that cannot be recorded stops the gate (see the loop) */
		if (audit_append(g, copy.audit, wall, hist_ref) || phase_write(g, copy.audit))
			g->record_failed = true;
		print_decision(g, copy.audit);
	}
	for (unsigned int i = 0; i < copy.nact; i++) {
		const struct gate_action *a = &copy.act[i];
		struct gate_obs obs = {};
		int e;

		switch (a->type) {
		case GATE_ACT_ATTACH_PROBES:
			e = gate_observe_open(g);
			if (e) {
				*exit_code = e;
				return -1;
			}
			break;
		case GATE_ACT_APPLY: {
			bool partial = false;

			e = gate_patch_apply(g, &partial);
			if (!e || partial)
				g->applied = true;
			if (!e)
				gate_live_applied(g->live);
			if (g->observe_failed) {
				*exit_code = PG_EXIT_SYSTEM;
				return -1;
			}
			obs.type = GATE_OBS_APPLIED;
			obs.applied.err = e;
			obs.applied.partial = partial;
			if (feed(g, gt, &obs, exit_code))
				return -1;
			break;
		}
		case GATE_ACT_BUMP_GENERATION:
			if (gate_observe_bump(g)) {
				*exit_code = PG_EXIT_SYSTEM;
				return -1;
			}
			break;
		case GATE_ACT_REVERT:
			e = gate_patch_revert(g);
			obs.type = GATE_OBS_REVERTED;
			obs.reverted.err = e;
			if (feed(g, gt, &obs, exit_code))
				return -1;
			break;
		case GATE_ACT_REPORT_BLOCKERS:
			print_blockers(g, &copy, gate_state(gt) == GATE_TRANSITION ?
				       "transition stragglers" : "blocked by");
			break;
		case GATE_ACT_DONE:
			*exit_code = a->exit_code;
			break;
		}
	}
	return 0;
}

static int load_policy(struct gr *g)
{
	char err[1024];

	if (policy_load_apply(&g->pol, g->o, err, sizeof(err))) {
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	return 0;
}

/* What one run of the loop keeps between ticks. */
struct gr_loop {
	bool tty;			/* a progress line on a terminal */
	bool progress_shown;
	int cancels_sent;		/* SIGINT/SIGTERM already fed as CANCEL */
	bool record_cancelled;		/* a failed record already fed as CANCEL */
	struct pg_inside bl[GATE_MAX_BLOCKERS];
	struct gate_fn_sample fs[PG_MAX_FUNCS];
};

/*
 * The concurrent control (policy key `control`): functions the patch does
 * not replace, or the verdict falls back to before/after, with a warning.
 */
/*
 * --control-pid: another process of the target's binary (the build-ids of
 * their main executables match), not the target itself.  Its copies of the
 * replaced functions become controls.
 */
/* Has this process a patch applied by patchgate (a journal in the state directory)? */
static bool patched_by_us(const struct gr *g, int pid)
{
	char prefix[32];
	struct dirent *de;
	bool found = false;
	DIR *d = opendir(g->ctx->state_dir);

	if (!d)
		return false;
	snprintf(prefix, sizeof(prefix), "ulp-%d-", pid);
	while (!found && (de = readdir(d)))
		found = !strncmp(de->d_name, prefix, strlen(prefix));
	closedir(d);
	return found;
}

/*
 * --control-pid auto: the lowest pid of the other processes of the
 * target's binary that patchgate has not patched; 0 (and a warning) when
 * there is none, and the verdict goes on without a sibling.
 */
static int sibling_find(struct gr *g)
{
	int cand[256], n, e;

	n = pg_procs_same_binary(g->o->pid, cand, 256);
	if (n < 0) {
		e = n;
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: --control-pid auto: cannot read the build-id "
		       "of process %d's executable: %s", g->o->pid, e == -ENOENT ?
		       "no such process, or no build-id" : strerror(-e));
		return -1;
	}
	for (int i = 0; i < n && i < 256; i++)
		if (!patched_by_us(g, cand[i])) {
			pg_info(g->ctx, "control: pid %d runs the same binary, unpatched (one of %d "
				"found by build-id)", cand[i], n);
			return cand[i];
		}
	pg_warn(g->ctx, "--control-pid auto: %s: no sibling control", n ? "every other process "
		"of this binary is patched" : "no other process runs this binary");
	return 0;
}

static int sibling_check(struct gr *g)
{
	int pid = g->o->control_pid, e;
	char path[64], want[128], got[128];

	if (pid == PG_CONTROL_PID_AUTO) {
		pid = sibling_find(g);
		if (pid < 0)
			return PG_EXIT_USAGE;
	}
	if (!pid)
		return 0;
	if (pid == g->o->pid) {
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: --control-pid %d is the target itself; the "
		       "control must be another, unpatched process of the same binary", pid);
		return PG_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", g->o->pid);
	e = sym_elf_build_id(path, want, sizeof(want));
	if (e < 0) {
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: cannot read the build-id of process %d's "
		       "executable: %s", g->o->pid, strerror(-e));
		return PG_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	e = sym_elf_build_id(path, got, sizeof(got));
	if (e < 0) {
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: --control-pid %d: cannot read the build-id of "
		       "its executable: %s", pid, e == -ENOENT ? "no such process, or no build-id" :
		       strerror(-e));
		return PG_EXIT_USAGE;
	}
	if (strcmp(want, got)) {
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: --control-pid %d runs another binary (build-id "
		       "%s; the target's is %s): a sibling control must run the same one", pid, got,
		       want);
		return PG_EXIT_USAGE;
	}
	g->nsib = g->nfuncs;
	g->sib_pid = pid;
	for (unsigned int i = 0; i < g->nfuncs; i++) {
		char fn[41];

		snprintf(fn, sizeof(fn), "%s", g->fname[i]);
		snprintf(g->sibname[i], sizeof(g->sibname[i]), "pid%d:%s", pid, fn);
	}
	return 0;
}

/* control = auto chooses up to this many (the detection figures in docs/policy.md use 4) */
#define GATE_AUTO_CONTROLS	4

/*
 * control = auto: the replaced functions' siblings in their object, from its
 * direct-call graph (lib/callgraph.h): called by the same callers, so on the
 * same threads, and neither calling a replaced function nor called by one,
 * so the patch cannot slow them.  The baseline does not wait for them; one
 * with too few calls is left out.  None found: before/after, with a warning.
 */
static void control_auto(struct gr *g)
{
	struct cg_sibling sib[GATE_AUTO_CONTROLS];
	uint64_t addr[PG_MAX_FUNCS];
	char err[256], prefix[160] = "", *path = NULL, list[512] = "";
	struct sym_proc *sp = NULL;
	struct sym_func *sf = NULL;
	const char *colon;
	int n = 0, k = -ENOENT;

	g->pol.control.n = 0;
	g->control_auto = true;
	snprintf(err, sizeof(err), "no replaced function could be found in the process");
	if (g->o->klp) {
		snprintf(err, sizeof(err), "it chooses in a process only, not in the kernel");
		goto none;
	}
	sp = sym_proc__new(g->o->pid);
	sf = calloc(1, sizeof(*sf));
	if (!sp || !sf)
		goto none;
	/* the replaced functions of the first one's object */
	for (unsigned int i = 0; i < g->nfuncs; i++) {
		char e2[256];

		if (!g->fspec[i] || sym_proc__resolve(sp, g->fspec[i], sf, e2, sizeof(e2)))
			continue;
		if (!path)
			path = strdup(sf->open_path);
		if (path && !strcmp(path, sf->open_path))
			addr[n++] = sf->st_value;
	}
	if (path)
		k = cg_siblings(path, addr, n, sib, GATE_AUTO_CONTROLS, err, sizeof(err));
	if (k == 0)
		snprintf(err, sizeof(err), "no sibling of the replaced functions in their object's call "
			 "graph (a function their callers call that neither calls them nor is called by them)");
	if (k <= 0)
		goto none;
	colon = strrchr(g->fspec[0], ':');
	if (colon)
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(colon - g->fspec[0] + 1), g->fspec[0]);
	for (int i = 0; i < k; i++) {
		char spec[sizeof(prefix) + CG_NAME_LEN];
		unsigned int j = g->pol.control.n;
		size_t len = strlen(list);

		if ((size_t)snprintf(spec, sizeof(spec), "%s%s", prefix, sib[i].name) >=
		    sizeof(g->pol.control.name[j]))
			continue;	/* a name too long for a control */
		memcpy(g->pol.control.name[j], spec, strlen(spec) + 1);
		g->pol.control.n++;
		snprintf(list + len, sizeof(list) - len, "%s%.60s (called by %.60s)", j ? ", " : "",
			 sib[i].name, sib[i].parent);
	}
	if (!g->pol.control.n) {
		snprintf(err, sizeof(err), "the siblings' names are too long for a control");
		goto none;
	}
	pg_info(g->ctx, "control = auto: %s", list);
	/* and in STARTED's detail, for the audit */
	{
		size_t len = strlen(g->note);

		snprintf(g->note + len, sizeof(g->note) - len, "%scontrols chosen by control = auto",
			 len ? "; " : "");
	}
	goto out;
none:
	pg_warn(g->ctx, "control = auto: %s; the verdict compares before with after only", err);
out:
	free(path);
	free(sf);
	sym_proc__free(sp);
}

static int control_check(struct gr *g)
{
	const struct pg_funclist *c = &g->pol.control;
	int e = sibling_check(g);

	if (e)
		return e;
	for (unsigned int i = 0; i < c->n && c->n > 1; i++)
		if (!strcmp(c->name[i], "auto")) {
			pg_err(g->ctx, PG_EXIT_USAGE, "apply: control = auto stands alone: it chooses "
			       "the controls, so name none beside it");
			return PG_EXIT_USAGE;
		}
	if (c->n == 1 && !strcmp(c->name[0], "auto")) {
		control_auto(g);
		if (!c->n && !g->nsib)
			return 0;
	}
	if (c->n + g->nsib > POLICY_MAX_CONTROLS) {
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: %u control functions and %u in the sibling: at "
		       "most %d in all", c->n, g->nsib, POLICY_MAX_CONTROLS);
		return PG_EXIT_USAGE;
	}
	if (g->nfuncs + c->n + g->nsib > PG_MAX_FUNCS) {
		pg_err(g->ctx, PG_EXIT_USAGE, "apply: %u functions and %u controls: at most %d in all",
		       g->nfuncs, c->n, PG_MAX_FUNCS);
		return PG_EXIT_USAGE;
	}
	for (unsigned int i = 0; i < c->n; i++) {
		const char *sym = strrchr(c->name[i], ':') ? strrchr(c->name[i], ':') + 1 : c->name[i];

		for (unsigned int j = 0; j < g->nfuncs; j++)
			if (!strcmp(sym, g->fname[j])) {
				pg_err(g->ctx, PG_EXIT_USAGE, "apply: control function %s is one the "
				       "patch replaces; a control must be a function it leaves alone",
				       c->name[i]);
				return PG_EXIT_USAGE;
			}
	}
	if (!c->n && !g->nsib)
		pg_warn(g->ctx, "no control function (policy key control): the verdict compares "
			"before with after only, and a host that gets busier during the bake "
			"reads as a regression");
	return 0;
}

/*
 * The live model and the control socket (gate/live.h).  The gate runs
 * without them when they cannot be had, with a warning: top and the
 * operator commands then do not see it.
 */
static void live_open(struct gr *g)
{
	char name[128], why[1024];
	size_t n = strlen(g->patch_name);

	if (g->o->klp)
		snprintf(name, sizeof(name), "kernel-%.*s",
			 (int)(n > 3 && !strcmp(g->patch_name + n - 3, ".ko") ? n - 3 : n), g->patch_name);
	else
		snprintf(name, sizeof(name), "%d", g->o->pid);
	g->live = gate_live__open(&(struct gate_live_opts){
		.state_dir = g->ctx->state_dir, .name = name,
		.target_pid = g->o->klp ? 0 : g->o->pid, .patch = g->patch_name,
		.path = g->o->patch_path, .build_id = g->build_id,
	}, why, sizeof(why));
	if (!g->live)
		pg_warn(g->ctx, "no live model for top and no control channel: %s", why);
}

/* Publish the live model; a failure is said once and never stops the gate. */
static void live_publish(struct gr *g, struct gate *gt, bool done, int exit_code)
{
	int e = gate_live_publish(g->live, gt, pg_mono_ns(), done, exit_code);

	if (e && !g->live_failed) {
		g->live_failed = true;
		pg_warn(g->ctx, "cannot publish the live model in %s/%s: %s (the gate goes on)",
			g->ctx->state_dir, LIVE_DIR, strerror(-e));
	}
}

/*
 * An operator's request from the control socket: fed to the gate, answered
 * before its actions run (a revert must not keep the operator waiting),
 * then performed like any decision's.  0, or -1 to stop (*exit_code set).
 */
static int feed_operator(struct gr *g, struct gate *gt, struct gate_live_req *req, int *exit_code)
{
	struct gate_obs obs = { .type = GATE_OBS_OPERATOR };
	struct gate_out out;

	obs.op.op = req->op;
	obs.op.uid = req->uid;
	if (gate_step(gt, &obs, pg_mono_ns(), &out)) {
		gate_live_reply(req, -EINVAL, "the gate is finishing");
		return 0;
	}
	if (out.op_err) {
		gate_live_reply(req, out.op_err, out.op_why);
		return 0;
	}
	gate_live_reply(req, 0, out.audit ? out.audit->detail :
			"abort taken: the patch is reverted as soon as the apply returns");
	return run_actions(g, gt, &out, exit_code);
}

/*
 * Setup: policy, the state directory, the backend (validates the patch and
 * the target; changes nothing), where the probes go, and the pure gate.
 * Returns 0, or an outcome with the error printed.
 */
static int gate_setup(struct gr *g, struct gate **gtp)
{
	const char *names[PG_MAX_FUNCS], *controls[PG_MAX_FUNCS];
	const struct pg_apply_opts *o = g->o;
	int e;

	g->be = o->klp ? &gr_klp_backend : &gr_ulp_backend;
	g->patch_name = strrchr(o->patch_path, '/') ? strrchr(o->patch_path, '/') + 1 : o->patch_path;
	e = load_policy(g);
	if (!e)
		e = records_check(g);
	if (!e)
		e = gate_patch_open(g);
	if (!e)
		e = g->be->where(g);
	if (e)
		return e;
	for (unsigned int i = 0; i < g->nfuncs; i++)
		names[i] = g->fname[i];
	e = control_check(g);
	if (e)
		return e;
	for (unsigned int i = 0; i < g->pol.control.n; i++)
		controls[i] = g->pol.control.name[i];
	for (unsigned int i = 0; i < g->nsib; i++)
		controls[g->pol.control.n + i] = g->sibname[i];
	*gtp = gate__new(&(struct gate_opts){
		.policy = &g->pol, .backend = g->be->kind, .nfuncs = g->nfuncs, .funcs = names,
		.ncontrols = g->pol.control.n + g->nsib, .controls = controls, .dry_run = o->dry_run,
		.controls_optional = g->control_auto,
		.note = g->note,
	});
	if (!*gtp) {
		pg_err(g->ctx, PG_EXIT_SYSTEM, "apply: cannot create the gate: %s", strerror(errno));
		return PG_EXIT_SYSTEM;
	}
	live_open(g);
	if (!g->ctx->json)
		printf("patchgate: gating %s on %s (%u function%s, %s backend)\n", g->patch_name,
		       o->klp ? "the kernel" : "a process", g->nfuncs, g->nfuncs == 1 ? "" : "s",
		       g->be->name);
	return 0;
}

/*
 * What interrupts the state's own observation, in order: a decision that
 * could not be recorded (nothing may go on unaudited: cancel, and exit 5
 * whatever the gate decides), an operator's cancel, the target's death, a
 * change of the kernel's taint (WARN or not).  Fills @obs and returns true
 * when one of them is due.
 */
static bool gate_interrupt(struct gr *g, struct gr_loop *l, struct gate_obs *obs)
{
	struct pg_health h;

	if (g->record_failed && !l->record_cancelled) {
		l->record_cancelled = true;
		clear_progress(g, &l->progress_shown);
		pg_warn(g->ctx, "a gate record could not be written: cancelling the gate");
		obs->type = GATE_OBS_CANCEL;
		return true;
	}
	if (gr_cancel > l->cancels_sent) {
		l->cancels_sent = gr_cancel;
		obs->type = GATE_OBS_CANCEL;
		return true;
	}
	if (gate_patch_health(g, &h))
		memset(&h, 0, sizeof(h));
	if (h.died) {
		obs->type = GATE_OBS_TARGET_DIED;
		obs->died.status = h.status;
		return true;
	}
	if (h.taint != g->taint_fed || h.new_warns) {
		g->taint_fed = h.taint;
		obs->type = GATE_OBS_TAINT;
		obs->taint.taint = h.taint;
		obs->taint.new_warns = h.new_warns;
		return true;
	}
	return false;
}

/*
 * The observation state @st needs: the window, the transition's progress,
 * or the functions' samples; a plain tick otherwise.  0 or -errno (the
 * message is printed).
 */
static int gate_observe_state(struct gr *g, struct gr_loop *l, enum gate_state st,
			      struct gate_obs *obs)
{
	unsigned int total = 0;
	bool flag = false;
	int e = 0;

	switch (st) {
	case GATE_WAIT_WINDOW:
		e = gate_observe_window(g, &flag, l->bl, &total);
		obs->type = GATE_OBS_WINDOW;
		obs->window.clear = flag;
		obs->window.nblockers = total;
		obs->window.blockers = l->bl;
		break;
	case GATE_TRANSITION:
		e = gate_patch_transition(g, &flag, l->bl, &total);
		obs->type = GATE_OBS_TRANSITION;
		obs->transition.done = flag;
		obs->transition.nstragglers = total;
		obs->transition.stragglers = l->bl;
		break;
	case GATE_BASELINE:
	case GATE_BAKE:
		e = gate_observe_samples(g, l->fs);
		obs->type = GATE_OBS_SAMPLES;
		obs->samples.nfuncs = g->nfuncs + g->pol.control.n + g->nsib;
		obs->samples.fn = l->fs;
		break;
	default:
		obs->type = GATE_OBS_TICK;
		break;
	}
	return e;
}

/*
 * One step of the gate on @obs: name the threads behind a hang before the
 * revert, perform the actions, redraw the progress line.  Returns 0 to go
 * on, or -1 to stop (*exit_code set).
 */
static int gate_tick(struct gr *g, struct gr_loop *l, struct gate *gt, const struct gate_obs *obs,
		     int *exit_code)
{
	struct gate_out out;
	uint64_t now = pg_mono_ns();

	if (gate_step(gt, obs, now, &out)) {
		pg_err(g->ctx, PG_EXIT_SYSTEM, "gate refused %s in %s: internal error",
		       gate_obs_name(obs->type), gate_state_name(gate_state(gt)));
		*exit_code = PG_EXIT_SYSTEM;
		return -1;
	}
	if (out.audit || out.nact)
		clear_progress(g, &l->progress_shown);
	if (out.audit && out.audit->reason == GATE_R_HUNG) {
		struct gate_out so = { .blockers = l->bl };

		if (!gate_observe_stuck(g, l->bl, &so.nblockers_total)) {
			so.nblockers = so.nblockers_total < GATE_MAX_BLOCKERS ?
				       so.nblockers_total : GATE_MAX_BLOCKERS;
			print_blockers(g, &so, "stuck in the patched code");
		}
	}
	if (run_actions(g, gt, &out, exit_code))
		return -1;
	if (l->tty && !gate_done(gt)) {
		char line[1024];

		audit_progress_line(gate_snapshot(gt, now), line, sizeof(line));
		printf("\r\033[K  %.*s", 150, line);
		fflush(stdout);
		l->progress_shown = true;
	}
	return 0;
}

/*
 * The outcome of a finished (or stopped) run.  The stop-the-world check at
 * apply that never found the functions free is "no safe window, nothing
 * applied" (3), not a system error; a decision that could not be recorded
 * is a system error (5) whatever the gate decided.
 */
static int gate_outcome(const struct gr *g, struct gate *gt, int exit_code)
{
	if (exit_code < 0)
		exit_code = gate_done(gt) ? gate_exit_code(gt) : PG_EXIT_SYSTEM;
	if (g->no_window && gate_state(gt) == GATE_ABORTED && exit_code == PG_EXIT_SYSTEM)
		exit_code = PG_EXIT_NO_WINDOW;
	if (g->record_failed)
		exit_code = PG_EXIT_SYSTEM;
	return exit_code;
}

int gate_apply_main(struct pg_ctx *ctx, const struct pg_apply_opts *o)
{
	struct gr g = { .ctx = ctx, .o = o };
	struct gr_loop l = { .tty = isatty(STDOUT_FILENO) && !ctx->json };
	struct sigaction sa = { .sa_handler = on_cancel }, old_int, old_term, old_hup, old_pipe;
	struct gate *gt = NULL;
	struct gate_obs obs = {};
	struct pg_health h;
	int exit_code = -1, e;

	e = gate_preflight(ctx, "apply", o->klp ? GATE_NEED_MODULE | GATE_NEED_KBPF | GATE_NEED_STATEDIR :
			   GATE_NEED_PTRACE | GATE_NEED_MEM | GATE_NEED_UPROBE | GATE_NEED_STATEDIR, o->pid);
	if (e)
		return e;	/* nothing opened yet */
	e = gate_setup(&g, &gt);
	if (e) {
		exit_code = e;
		goto cleanup;
	}
	/*
	 * Ctrl-C, a kill, and a hangup (the ssh session that ran the gate
	 * dropped) all cancel: what was applied is reverted.  A hangup that
	 * was ignored already (nohup) stays ignored.  Writes to a terminal or
	 * pipe that went away fail instead of killing the gate.
	 */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, NULL, &old_hup);
	if (old_hup.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &(struct sigaction){ .sa_handler = SIG_IGN }, &old_pipe);

	obs.type = GATE_OBS_START;
	/* what the kernel is tainted with before the patch is the reference */
	if (!gate_patch_health(&g, &h))
		obs.start.taint = g.taint_fed = h.taint;
	if (feed(&g, gt, &obs, &exit_code))
		goto done;
	while (!gate_done(gt) && exit_code < 0) {
		struct gate_live_req req;

		live_publish(&g, gt, false, -1);
		usleep(GR_TICK_MS * 1000);
		memset(&obs, 0, sizeof(obs));
		if (gate_interrupt(&g, &l, &obs)) {
			clear_progress(&g, &l.progress_shown);
			if (feed(&g, gt, &obs, &exit_code))
				break;
			continue;
		}
		if (gate_live_poll(g.live, &req) == 1) {
			clear_progress(&g, &l.progress_shown);
			if (feed_operator(&g, gt, &req, &exit_code))
				break;
			continue;
		}
		if (gate_observe_state(&g, &l, gate_state(gt), &obs)) {
			exit_code = PG_EXIT_SYSTEM;
			break;
		}
		if (gate_tick(&g, &l, gt, &obs, &exit_code))
			break;
	}
done:
	clear_progress(&g, &l.progress_shown);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	exit_code = gate_outcome(&g, gt, exit_code);
	live_publish(&g, gt, true, exit_code);
	if (!ctx->json)
		printf("patchgate: %s, exit %d\n", gate_state_name(gate_state(gt)), exit_code);
cleanup:
	gate_live__free(g.live);
	gate_observe_close(&g);
	gate_patch_close(&g);
	gate__free(gt);
	return exit_code;
}
