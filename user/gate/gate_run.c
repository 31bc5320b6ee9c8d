// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `patchgate apply` (gated): the loop around the pure gate.  Every tick it
 * gathers what the current state needs (samples, window, transition,
 * death, taint), feeds it to gate_step(), performs the returned actions
 * through the backend, and records each decision: a narrative line (or a
 * JSON "decision" line with -j) and one JSON line in the audit log under
 * the state directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli/policy_load.h"
#include "gate/gate_run.h"
#include "ui/audit.h"
#include "ui/output.h"

#define GR_TICK_MS 200

static volatile sig_atomic_t gr_cancel;

static void on_cancel(int sig)
{
	(void)sig;
	gr_cancel++;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Append one JSON line to <state_dir>/audit.log (created 0600, O_APPEND). */
static void audit_append(struct gr *g, const struct gate_audit *a)
{
	char path[4200];
	json_object *o;
	const char *s;
	int fd;

	mkdir(g->cli->state_dir, 0700);
	snprintf(path, sizeof(path), "%s/audit.log", g->cli->state_dir);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		pg_warn(g->cli, "cannot write the audit log %s: %s", path, strerror(errno));
		return;
	}
	o = audit_to_json(a, "decision");
	json_object_object_add(o, "patch", json_object_new_string(g->patch_name));
	json_object_object_add(o, "target", g->o->klp ? json_object_new_string("kernel")
						      : json_object_new_int(g->o->pid));
	json_object_object_add(o, "wall_time", json_object_new_int64((int64_t)time(NULL)));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (write(fd, s, strlen(s)) < 0 || write(fd, "\n", 1) < 0)
		pg_warn(g->cli, "cannot write the audit log %s: %s", path, strerror(errno));
	fsync(fd);
	close(fd);
	json_object_put(o);
}

/* Write <state_dir>/gate-<target>.json: the phase `status` shows. */
static void phase_write(struct gr *g, const struct gate_audit *a)
{
	char path[4200], tmp[4300];
	json_object *o;
	FILE *f;

	mkdir(g->cli->state_dir, 0700);
	if (g->o->klp)
		snprintf(path, sizeof(path), "%s/gate-kernel-%s.json", g->cli->state_dir, g->patch_name);
	else
		snprintf(path, sizeof(path), "%s/gate-%d.json", g->cli->state_dir, g->o->pid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return;
	o = audit_to_json(a, "phase");
	json_object_object_add(o, "patch", json_object_new_string(g->o->patch_path));
	json_object_object_add(o, "wall_time", json_object_new_int64((int64_t)time(NULL)));
	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	fclose(f);
	rename(tmp, path);
}

static void clear_progress(struct gr *g, bool *shown)
{
	if (*shown && !g->cli->json) {
		printf("\r\033[K");
		fflush(stdout);
		*shown = false;
	}
}

static void print_decision(struct gr *g, const struct gate_audit *a)
{
	char buf[2048];

	if (g->cli->json) {
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
	if (g->cli->json) {
		json_object *o = pg_json_record("blockers"), *arr = json_object_new_array();

		json_object_object_add(o, "what", json_object_new_string(what));
		json_object_object_add(o, "total", json_object_new_int((int)out->nblockers_total));
		for (unsigned int i = 0; i < out->nblockers; i++) {
			const struct gate_blocker *b = &out->blockers[i];
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
		const struct gate_blocker *b = &out->blockers[i];

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

	e = gate_step(gt, obs, mono_ns(), &out);
	if (e) {
		pg_err(g->cli, PG_EXIT_SYSTEM, "gate refused %s in %s: internal error",
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
		audit_append(g, copy.audit);
		phase_write(g, copy.audit);
		print_decision(g, copy.audit);
	}
	for (unsigned int i = 0; i < copy.nact; i++) {
		const struct gate_action *a = &copy.act[i];
		struct gate_obs obs = {};
		int e;

		switch (a->type) {
		case GATE_ACT_ATTACH_PROBES:
			e = g->be->attach(g);
			if (e) {
				*exit_code = e;
				return -1;
			}
			break;
		case GATE_ACT_APPLY: {
			bool partial = false;

			e = g->be->apply(g, &partial);
			if (!e || partial)
				g->applied = true;
			obs.type = GATE_OBS_APPLIED;
			obs.applied.err = e;
			obs.applied.partial = partial;
			if (feed(g, gt, &obs, exit_code))
				return -1;
			break;
		}
		case GATE_ACT_BUMP_GENERATION:
			/* ulp bumps at apply, before moving the probes to the new code */
			if (g->be->bump && (e = g->be->bump(g)))
				pg_warn(g->cli, "cannot start a new probe generation: %s", strerror(-e));
			break;
		case GATE_ACT_REVERT:
			e = g->be->revert(g);
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
	char err[512];

	policy_defaults(&g->pol);
	if (g->o->policy_path && policy_load_file(&g->pol, g->o->policy_path, err, sizeof(err))) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	for (int i = 0; i < g->o->nsets; i++) {
		if (policy_apply_override(&g->pol, g->o->sets[i], err, sizeof(err))) {
			pg_err(g->cli, PG_EXIT_USAGE, "apply: --set %s: %s", g->o->sets[i], err);
			return PG_EXIT_USAGE;
		}
	}
	if (g->o->max_wait_s >= 0)
		g->pol.max_wait_ns = (uint64_t)(g->o->max_wait_s * 1e9);
	if (policy_validate(&g->pol, err, sizeof(err))) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: policy: %s", err);
		return PG_EXIT_USAGE;
	}
	return 0;
}

int gate_apply_main(struct pg_cli *cli, const struct pg_apply_opts *o)
{
	struct gr g = { .cli = cli, .o = o };
	struct sigaction sa = { .sa_handler = on_cancel }, old_int, old_term;
	const char *names[PG_MAX_FUNCS];
	struct gate *gt = NULL;
	struct gate_obs obs = {};
	bool progress_shown = false;
	bool tty = isatty(STDOUT_FILENO) && !cli->json;
	int exit_code = -1, e, cancels_sent = 0;
	uint64_t taint = 0;
	unsigned int warns;

	g.be = o->klp ? &gr_klp_backend : &gr_ulp_backend;
	g.patch_name = strrchr(o->patch_path, '/') ? strrchr(o->patch_path, '/') + 1 : o->patch_path;
	e = load_policy(&g);
	if (e)
		return e;
	e = g.be->prepare(&g);
	if (e)
		goto cleanup_be;
	for (unsigned int i = 0; i < g.nfuncs; i++)
		names[i] = g.fname[i];
	gt = gate__new(&(struct gate_opts){
		.policy = &g.pol, .backend = g.be->kind, .nfuncs = g.nfuncs, .funcs = names,
		.dry_run = o->dry_run,
	});
	if (!gt) {
		pg_err(cli, PG_EXIT_SYSTEM, "apply: cannot create the gate: %s", strerror(errno));
		exit_code = PG_EXIT_SYSTEM;
		goto cleanup_be;
	}
	if (!cli->json)
		printf("patchgate: gating %s on %s (%u function%s, %s backend)\n", g.patch_name,
		       o->klp ? "the kernel" : "a process", g.nfuncs, g.nfuncs == 1 ? "" : "s", g.be->name);

	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	obs.type = GATE_OBS_START;
	if (g.be->taint && !g.be->taint(&g, &taint, &warns))
		obs.start.taint = taint;
	if (feed(&g, gt, &obs, &exit_code))
		goto done;

	while (!gate_done(gt) && exit_code < 0) {
		struct gate_fn_sample fs[PG_MAX_FUNCS];
		struct gate_blocker bl[GATE_MAX_BLOCKERS];
		enum gate_state st = gate_state(gt);
		unsigned int total = 0;
		int status = 0;
		bool flag;

		usleep(GR_TICK_MS * 1000);
		memset(&obs, 0, sizeof(obs));
		if (gr_cancel > cancels_sent) {
			cancels_sent = gr_cancel;
			clear_progress(&g, &progress_shown);
			obs.type = GATE_OBS_CANCEL;
			if (feed(&g, gt, &obs, &exit_code))
				break;
			continue;
		}
		if (g.be->died && g.be->died(&g, &status) > 0) {
			clear_progress(&g, &progress_shown);
			obs.type = GATE_OBS_TARGET_DIED;
			obs.died.status = status;
			if (feed(&g, gt, &obs, &exit_code))
				break;
			continue;
		}
		if (g.be->taint && g.applied && !g.be->taint(&g, &taint, &warns) && warns) {
			clear_progress(&g, &progress_shown);
			obs.type = GATE_OBS_TAINT;
			obs.taint.taint = taint;
			obs.taint.new_warns = warns;
			if (feed(&g, gt, &obs, &exit_code))
				break;
			continue;
		}
		switch (st) {
		case GATE_WAIT_WINDOW:
			e = g.be->window(&g, &flag, bl, &total);
			if (e) {
				exit_code = PG_EXIT_SYSTEM;
				goto done;
			}
			obs.type = GATE_OBS_WINDOW;
			obs.window.clear = flag;
			obs.window.nblockers = total;
			obs.window.blockers = bl;
			break;
		case GATE_TRANSITION:
			e = g.be->transition(&g, &flag, bl, &total);
			if (e) {
				exit_code = PG_EXIT_SYSTEM;
				goto done;
			}
			obs.type = GATE_OBS_TRANSITION;
			obs.transition.done = flag;
			obs.transition.nstragglers = total;
			obs.transition.stragglers = bl;
			break;
		case GATE_BASELINE:
		case GATE_BAKE:
			e = g.be->samples(&g, fs);
			if (e) {
				exit_code = PG_EXIT_SYSTEM;
				goto done;
			}
			obs.type = GATE_OBS_SAMPLES;
			obs.samples.nfuncs = g.nfuncs;
			obs.samples.fn = fs;
			break;
		default:
			obs.type = GATE_OBS_TICK;
			break;
		}
		{
			struct gate_out out;
			uint64_t now = mono_ns();

			e = gate_step(gt, &obs, now, &out);
			if (e) {
				pg_err(cli, PG_EXIT_SYSTEM, "gate refused %s in %s: internal error",
				       gate_obs_name(obs.type), gate_state_name(st));
				exit_code = PG_EXIT_SYSTEM;
				break;
			}
			if (out.audit || out.nact)
				clear_progress(&g, &progress_shown);
			/* name the threads behind a hang before reverting */
			if (out.audit && out.audit->reason == GATE_R_HUNG && g.be->stuck) {
				struct gate_out so = { .blockers = bl };

				if (!g.be->stuck(&g, bl, &so.nblockers_total)) {
					so.nblockers = so.nblockers_total < GATE_MAX_BLOCKERS ?
						       so.nblockers_total : GATE_MAX_BLOCKERS;
					print_blockers(&g, &so, "stuck in the patched code");
				}
			}
			if (run_actions(&g, gt, &out, &exit_code))
				break;
			if (tty && !gate_done(gt)) {
				char line[1024];

				audit_progress_line(gate_snapshot(gt, now), line, sizeof(line));
				printf("\r\033[K  %.*s", 150, line);
				fflush(stdout);
				progress_shown = true;
			}
		}
	}
done:
	clear_progress(&g, &progress_shown);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (exit_code < 0)
		exit_code = gate_done(gt) ? gate_exit_code(gt) : PG_EXIT_SYSTEM;
	/*
	 * The stop-the-world check at apply never found the functions free:
	 * that is "no safe window, nothing applied" (3), not a system error.
	 */
	if (g.no_window && gate_state(gt) == GATE_ABORTED && exit_code == PG_EXIT_SYSTEM)
		exit_code = PG_EXIT_NO_WINDOW;
	if (!cli->json)
		printf("patchgate: %s, exit %d\n", gate_state_name(gate_state(gt)), exit_code);
cleanup_be:
	if (g.be->cleanup)
		g.be->cleanup(&g);
	gate__free(gt);
	return exit_code < 0 ? e : exit_code;
}
