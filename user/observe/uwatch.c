// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `watch --pid` and `residency --pid`: the process side of observation.
 * Resolves the functions, attaches the probes, and prints a row per
 * function every interval until the duration ends, Ctrl-C, or the target
 * exits.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "cli/cmds.h"
#include "core/hist.h"
#include "observe/symbols.h"
#include "observe/ustack.h"
#include "observe/uwatch_bpf.h"
#include "observe/target.h"
#include "ui/output.h"
#include "ui/report.h"
#include "observe/report_row.h"

static volatile sig_atomic_t exiting;

static void on_stop(int sig)
{
	(void)sig;
	exiting = 1;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int target_check_pid(struct pg_cli *cli, const char *cmd, int pid)
{
	char path[64];

	if (pid == getpid()) {
		pg_err(cli, PG_EXIT_USAGE, "%s: pid %d is patchgate itself", cmd, pid);
		return PG_EXIT_USAGE;
	}
	if (kill(pid, 0) && errno == ESRCH) {
		pg_err(cli, PG_EXIT_USAGE, "%s: no process with pid %d", cmd, pid);
		return PG_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (access(path, F_OK) && errno != EACCES) {
		pg_err(cli, PG_EXIT_USAGE, "%s: pid %d has no executable (a kernel thread?)", cmd, pid);
		return PG_EXIT_USAGE;
	}
	return 0;
}

int target_resolve(struct pg_cli *cli, const char *cmd, int pid, int n, char **specs,
		   struct sym_func *out)
{
	struct sym_proc *sp;
	char err[1024];
	int r = 0;

	sp = sym_proc__new(pid);
	if (!sp) {
		pg_err(cli, PG_EXIT_USAGE, "%s: cannot read the mappings of pid %d: %s", cmd, pid,
		       strerror(errno));
		return PG_EXIT_USAGE;
	}
	for (int i = 0; i < n && !r; i++) {
		if (sym_proc__resolve(sp, specs[i], &out[i], err, sizeof(err))) {
			pg_err(cli, PG_EXIT_USAGE, "%s: %s", cmd, err);
			r = PG_EXIT_USAGE;
		}
	}
	sym_proc__free(sp);
	return r;
}


int uwatch_main(struct pg_cli *cli, const struct pg_watch_opts *o)
{
	struct sym_func *funcs = NULL;
	struct pg_func_report *rows = NULL;
	struct pg_hist *prev_h = NULL, *cur_h = NULL, win;
	uint64_t *prev_calls = NULL;
	int *err_modes = NULL;
	struct uwatch *w = NULL;
	const char *reason = "duration reached";
	double t0, last, now;
	int pidfd = -1, ret = PG_EXIT_SYSTEM, traps = 0;
	char err[1024];
	struct sigaction sa = { .sa_handler = on_stop };

	ret = target_check_pid(cli, "watch", o->pid);
	if (ret)
		return ret;
	ret = PG_EXIT_SYSTEM;
	funcs = calloc(o->nfuncs, sizeof(*funcs));
	rows = calloc(o->nfuncs, sizeof(*rows));
	prev_h = calloc(o->nfuncs, sizeof(*prev_h));
	cur_h = calloc(o->nfuncs, sizeof(*cur_h));
	prev_calls = calloc(o->nfuncs, sizeof(*prev_calls));
	err_modes = calloc(o->nfuncs, sizeof(*err_modes));
	if (!funcs || !rows || !prev_h || !cur_h || !prev_calls || !err_modes) {
		pg_err(cli, PG_EXIT_SYSTEM, "watch: out of memory");
		goto cleanup;
	}
	ret = target_resolve(cli, "watch", o->pid, o->nfuncs, o->funcs, funcs);
	if (ret)
		goto cleanup;
	for (int i = 0; i < o->nfuncs; i++) {
		err_modes[i] = o->err_mode;
		if (!funcs[i].nop5)
			traps++;
	}
	if (traps)
		pg_warn(cli, "%d probe site(s) trap (~14 us per call on this kernel, vs ~0.2 us on a "
			"5-byte nop) -- build the target with -pg -mfentry -mnop-mcount for nop5 entries",
			traps);

	/* open the pidfd before attaching, so an exit in between is still seen */
	pidfd = (int)syscall(SYS_pidfd_open, o->pid, 0);
	if (pidfd < 0) {
		pg_err(cli, PG_EXIT_USAGE, "watch: pid %d: %s", o->pid, strerror(errno));
		ret = PG_EXIT_USAGE;
		goto cleanup;
	}
	w = uwatch__open(&(struct uwatch_opts){
		.pid = o->pid, .nfuncs = o->nfuncs, .funcs = funcs, .err_modes = err_modes,
		.empty = o->empty_probes,
	}, err, sizeof(err));
	if (!w) {
		/* cannot probe this target: bad input, nothing changed */
		pg_err(cli, errno == ENOMEM ? PG_EXIT_SYSTEM : PG_EXIT_USAGE, "watch: %s", err);
		ret = errno == ENOMEM ? PG_EXIT_SYSTEM : PG_EXIT_USAGE;
		goto cleanup;
	}
	if (cli->verbose)
		pg_info(cli, "watch: %d function(s) in pid %d, maps hold %.1f KiB", o->nfuncs, o->pid,
			(double)uwatch__map_bytes(w) / 1024.0);
	if (!cli->json)
		pg_info(cli, "Tracing %d function(s) in pid %d... Ctrl-C to end.", o->nfuncs, o->pid);
	if (cli->json) {
		json_object *a = pg_json_record("attached");
		json_object *arr = json_object_new_array();

		json_object_object_add(a, "pid", json_object_new_int(o->pid));
		for (int i = 0; i < o->nfuncs; i++) {
			json_object *f = json_object_new_object();

			json_object_object_add(f, "func", json_object_new_string(funcs[i].name));
			json_object_object_add(f, "object", json_object_new_string(funcs[i].object));
			json_object_object_add(f, "probe", json_object_new_string(funcs[i].nop5 ? "nop5" : "trap"));
			json_object_object_add(f, "addr", json_object_new_uint64(funcs[i].addr));
			json_object_array_add(arr, f);
		}
		json_object_object_add(a, "funcs", arr);
		pg_json_emit(a);
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	t0 = last = mono_s();
	for (;;) {
		double next = last + o->interval_s, end = o->duration_s > 0 ? t0 + o->duration_s : 0;
		double wait_s = next - mono_s();
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		bool final = false;
		int pr;

		if (end && end < next)
			wait_s = end - mono_s();
		pr = poll(&pfd, 1, wait_s > 0 ? (int)(wait_s * 1000.0 + 0.5) : 0);
		now = mono_s();
		if (pr < 0 && errno != EINTR) {
			pg_err(cli, PG_EXIT_SYSTEM, "watch: poll: %s", strerror(errno));
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
		for (int i = 0; i < o->nfuncs; i++) {
			struct pg_func_stats st;
			struct pg_inflight inf = {};
			int slot = (int)(uwatch__generation(w) & (PG_GEN_SLOTS - 1));

			uwatch__read(w, i, slot, &st, &cur_h[i]);
			uwatch__inflight(w, i, &inf);
			hist_diff(&win, &cur_h[i], &prev_h[i]);
			report_row_fill(&rows[i], funcs[i].name, funcs[i].object,
				funcs[i].nop5 ? "nop5" : "trap", err_modes[i], &st, &cur_h[i], final ? NULL : &win,
				 &inf, prev_calls[i], now - last);
			prev_calls[i] = st.calls;
			prev_h[i] = cur_h[i];
		}
		if (final) {
			/* the summary's quantiles cover the whole run */
			for (int i = 0; i < o->nfuncs; i++) {
				rows[i].p50_ns = hist_quantile(&cur_h[i], 0.50);
				rows[i].p90_ns = hist_quantile(&cur_h[i], 0.90);
				rows[i].p99_ns = hist_quantile(&cur_h[i], 0.99);
				rows[i].calls_per_s = now > t0 ? (double)rows[i].calls / (now - t0) : 0;
			}
			if (!strcmp(reason, "target exited"))
				pg_info(cli, "target pid %d exited", o->pid);
			report_summary(cli, rows, o->nfuncs, now - t0, reason);
			break;
		}
		report_interval_begin(cli, now - t0);
		for (int i = 0; i < o->nfuncs; i++)
			report_func(cli, &rows[i], now - t0);
		last = now;
	}
	ret = PG_EXIT_OK;
cleanup:
	uwatch__free(w);
	if (pidfd >= 0)
		close(pidfd);
	free(funcs);
	free(rows);
	free(prev_h);
	free(cur_h);
	free(prev_calls);
	free(err_modes);
	return ret;
}

int uresidency_main(struct pg_cli *cli, const struct pg_residency_opts *o)
{
	struct ustack_range ranges[PG_MAX_FUNCS];
	struct ustack_hit *hits = NULL;
	struct sym_func *funcs = NULL;
	int ret, n, max = 65536;
	char err[512];

	ret = target_check_pid(cli, "residency", o->pid);
	if (ret)
		return ret;
	funcs = calloc(o->nfuncs, sizeof(*funcs));
	hits = calloc(max, sizeof(*hits));
	if (!funcs || !hits) {
		pg_err(cli, PG_EXIT_SYSTEM, "residency: out of memory");
		ret = PG_EXIT_SYSTEM;
		goto cleanup;
	}
	ret = target_resolve(cli, "residency", o->pid, o->nfuncs, o->funcs, funcs);
	if (ret)
		goto cleanup;
	for (int i = 0; i < o->nfuncs; i++) {
		ranges[i].start = funcs[i].addr;
		/* a symbol without a size covers at least its first instruction */
		ranges[i].end = funcs[i].addr + (funcs[i].size ? funcs[i].size : 1);
	}
	n = ustack_scan(o->pid, ranges, o->nfuncs, hits, max, err, sizeof(err));
	if (n < 0) {
		ret = n == -ESRCH || n == -EPERM || n == -ENOENT ? PG_EXIT_USAGE : PG_EXIT_SYSTEM;
		pg_err(cli, ret, "residency: %s", err);
		goto cleanup;
	}
	for (int i = 0; i < n; i++) {
		struct pg_resident_report r = {
			.pid = o->pid,
			.tid = hits[i].tid,
			.comm = hits[i].comm,
			.func = funcs[hits[i].func].name,
		};

		report_resident(cli, &r);
	}
	report_resident_end(cli, n);
	ret = PG_EXIT_OK;
cleanup:
	free(funcs);
	free(hits);
	return ret;
}
