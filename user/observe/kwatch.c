// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `watch --kernel` and `residency --kernel`: the kernel side of
 * observation.  Same rows and JSON as the process side (ui/report.h).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli/cmds.h"
#include "core/hist.h"
#include "observe/kallsyms.h"
#include "observe/kresid.h"
#include "observe/kwatch_bpf.h"
#include "ui/output.h"
#include "ui/report.h"
#include "observe/report_row.h"

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

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

/* Both commands need BTF: CO-RE, task storage, fentry. */
static int need_btf(struct pg_cli *cli, const char *cmd)
{
	if (access(KERNEL_BTF, R_OK)) {
		pg_err(cli, PG_EXIT_SYSTEM, "%s: this kernel has no BTF (%s: %s) -- "
		       "CONFIG_DEBUG_INFO_BTF=y is needed", cmd, KERNEL_BTF, strerror(errno));
		return PG_EXIT_SYSTEM;
	}
	return 0;
}

/*
 * Parse the FUNC specs into @out and check each exists in kallsyms.
 * Returns 0 or an exit code (error printed).
 */
static int resolve_kfuncs(struct pg_cli *cli, const char *cmd, int n, char **specs,
			  char (*names)[128], char (*mods)[64], unsigned long *sympos)
{
	struct ksyms *ks = ksyms__load(NULL);
	int rc = 0;

	if (!ks) {
		pg_err(cli, PG_EXIT_SYSTEM, "%s: cannot read /proc/kallsyms: %s", cmd, strerror(errno));
		return PG_EXIT_SYSTEM;
	}
	if (n > PG_MAX_FUNCS) {
		pg_err(cli, PG_EXIT_USAGE, "%s: at most %d functions", cmd, PG_MAX_FUNCS);
		rc = PG_EXIT_USAGE;
		goto cleanup;
	}
	for (int i = 0; i < n && !rc; i++) {
		const char *mod;
		int cnt;

		if (ksyms_parse_spec(specs[i], names[i], sizeof(names[i]), mods[i], sizeof(mods[i]),
				     &sympos[i])) {
			pg_err(cli, PG_EXIT_USAGE, "%s: bad function '%s' (want [MODULE:]NAME[,SYMPOS])",
			       cmd, specs[i]);
			rc = PG_EXIT_USAGE;
			break;
		}
		mod = mods[i][0] ? mods[i] : "vmlinux";
		cnt = ksyms__count(ks, names[i], mod);
		if (!cnt && !mods[i][0]) {
			/* not in vmlinux: a module's, if exactly one module has it */
			int nm = ksyms__module_of(ks, names[i], mods[i], sizeof(mods[i]));

			if (nm > 1) {
				pg_err(cli, PG_EXIT_USAGE, "%s: %s is in %d modules: give MODULE:%s",
				       cmd, names[i], nm, names[i]);
				rc = PG_EXIT_USAGE;
				break;
			}
			if (nm == 1) {
				mod = mods[i];
				cnt = ksyms__count(ks, names[i], mod);
			}
		}
		if (!cnt) {
			pg_err(cli, PG_EXIT_USAGE, "%s: no function %s in %s (kallsyms)%s", cmd, names[i],
			       mod, mods[i][0] ? " -- is the module loaded?" : "");
			rc = PG_EXIT_USAGE;
		} else if (sympos[i] > (unsigned long)cnt) {
			pg_err(cli, PG_EXIT_USAGE, "%s: %s,%lu: only %d functions by that name in %s",
			       cmd, names[i], sympos[i], cnt, mod);
			rc = PG_EXIT_USAGE;
		}
	}
cleanup:
	ksyms__free(ks);
	return rc;
}


int kwatch_main(struct pg_cli *cli, const struct pg_watch_opts *o)
{
	struct kwatch_func *funcs = NULL;
	struct pg_func_report *rows = NULL;
	struct pg_hist *prev_h = NULL, *cur_h = NULL, win;
	uint64_t *prev_calls = NULL;
	int *err_modes = NULL;
	char (*names)[128] = NULL, (*mods)[64] = NULL;
	unsigned long *sympos = NULL;
	struct kwatch *w = NULL;
	const char *reason = "duration reached", *probe;
	struct sigaction sa = { .sa_handler = on_stop };
	char err[1024], why[1024];
	double t0, last, now;
	int ret;

	if ((ret = need_btf(cli, "watch")))
		return ret;
	ret = PG_EXIT_SYSTEM;
	funcs = calloc(o->nfuncs, sizeof(*funcs));
	rows = calloc(o->nfuncs, sizeof(*rows));
	prev_h = calloc(o->nfuncs, sizeof(*prev_h));
	cur_h = calloc(o->nfuncs, sizeof(*cur_h));
	prev_calls = calloc(o->nfuncs, sizeof(*prev_calls));
	err_modes = calloc(o->nfuncs, sizeof(*err_modes));
	names = calloc(o->nfuncs, sizeof(*names));
	mods = calloc(o->nfuncs, sizeof(*mods));
	sympos = calloc(o->nfuncs, sizeof(*sympos));
	if (!funcs || !rows || !prev_h || !cur_h || !prev_calls || !err_modes || !names || !mods ||
	    !sympos) {
		pg_err(cli, PG_EXIT_SYSTEM, "watch: out of memory");
		goto cleanup;
	}
	ret = resolve_kfuncs(cli, "watch", o->nfuncs, o->funcs, names, mods, sympos);
	if (ret)
		goto cleanup;
	ret = PG_EXIT_SYSTEM;
	for (int i = 0; i < o->nfuncs; i++) {
		if (sympos[i])
			pg_warn(cli, "watch: probes attach by name; ',%lu' of %s is ignored", sympos[i],
				names[i]);
		snprintf(funcs[i].name, sizeof(funcs[i].name), "%s", names[i]);
		snprintf(funcs[i].module, sizeof(funcs[i].module), "%s", mods[i]);
		err_modes[i] = o->err_mode;
	}
	w = kwatch__open(&(struct kwatch_opts){
		.nfuncs = o->nfuncs, .funcs = funcs, .err_modes = err_modes, .empty = o->empty_probes,
		.probe = getenv("PATCHGATE_KPROBE") ? KWATCH_KPROBE : KWATCH_AUTO,
	}, err, sizeof(err), why, sizeof(why));
	if (!w) {
		pg_err(cli, PG_EXIT_SYSTEM, "watch: %s%s%s", err, why[0] ? "; fentry failed first: " : "",
		       why);
		goto cleanup;
	}
	probe = kwatch__probe(w);
	if (why[0])
		pg_warn(cli, "watch: not using fentry (%s); using kprobe/kretprobe", why);
	if (cli->json) {
		json_object *a = pg_json_record("attached");
		json_object *arr = json_object_new_array();

		json_object_object_add(a, "kernel", json_object_new_boolean(true));
		for (int i = 0; i < o->nfuncs; i++) {
			json_object *f = json_object_new_object();

			json_object_object_add(f, "func", json_object_new_string(funcs[i].name));
			json_object_object_add(f, "object", json_object_new_string(
				funcs[i].module[0] ? funcs[i].module : "vmlinux"));
			json_object_object_add(f, "probe", json_object_new_string(probe));
			json_object_array_add(arr, f);
		}
		json_object_object_add(a, "funcs", arr);
		pg_json_emit(a);
	} else {
		pg_info(cli, "Tracing %d kernel function(s) with %s... Ctrl-C to end.", o->nfuncs,
			!strcmp(probe, "fentry") ? "fentry/fexit" : "kprobe/kretprobe");
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	t0 = last = mono_s();
	for (;;) {
		double next = last + o->interval_s, end = o->duration_s > 0 ? t0 + o->duration_s : 0;
		double wait_s = next - mono_s();
		bool final = false;

		if (end && end < next)
			wait_s = end - mono_s();
		if (wait_s > 0)
			poll(NULL, 0, (int)(wait_s * 1000.0 + 0.5));
		now = mono_s();
		if (exiting) {
			reason = "interrupted";
			final = true;
		} else if (end && now >= end - 1e-3) {
			final = true;
		} else if (now < next - 1e-3) {
			continue;
		}
		for (int i = 0; i < o->nfuncs; i++) {
			int slot = (int)(kwatch__generation(w) & (PG_GEN_SLOTS - 1));
			struct pg_inflight inf = {};
			struct pg_func_stats st;

			kwatch__read(w, i, slot, &st, &cur_h[i]);
			kwatch__inflight(w, i, &inf);
			hist_diff(&win, &cur_h[i], &prev_h[i]);
			report_row_fill(&rows[i], funcs[i].name, funcs[i].module[0] ? funcs[i].module : "vmlinux",
				 probe, err_modes[i], &st, &cur_h[i], final ? NULL : &win, &inf,
				 prev_calls[i], now - last);
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
	kwatch__free(w);
	free(funcs);
	free(rows);
	free(prev_h);
	free(cur_h);
	free(prev_calls);
	free(err_modes);
	free(names);
	free(mods);
	free(sympos);
	return ret;
}

#define KRESID_MAX 4096

int kresidency_main(struct pg_cli *cli, const struct pg_residency_opts *o)
{
	struct kresid_target *t = NULL;
	struct pg_resident *recs = NULL;
	char (*names)[128] = NULL, (*mods)[64] = NULL;
	unsigned long *sympos = NULL;
	struct kresid *kr = NULL;
	uint64_t tasks = 0;
	double t0, t1;
	char err[1024], fname[256];
	int ret, n;

	if ((ret = need_btf(cli, "residency")))
		return ret;
	ret = PG_EXIT_SYSTEM;
	t = calloc(o->nfuncs, sizeof(*t));
	names = calloc(o->nfuncs, sizeof(*names));
	mods = calloc(o->nfuncs, sizeof(*mods));
	sympos = calloc(o->nfuncs, sizeof(*sympos));
	recs = calloc(KRESID_MAX, sizeof(*recs));
	if (!t || !names || !mods || !sympos || !recs) {
		pg_err(cli, PG_EXIT_SYSTEM, "residency: out of memory");
		goto cleanup;
	}
	ret = resolve_kfuncs(cli, "residency", o->nfuncs, o->funcs, names, mods, sympos);
	if (ret)
		goto cleanup;
	ret = PG_EXIT_SYSTEM;
	for (int i = 0; i < o->nfuncs; i++) {
		snprintf(t[i].name, sizeof(t[i].name), "%s", names[i]);
		snprintf(t[i].module, sizeof(t[i].module), "%s", mods[i]);
		t[i].sympos = sympos[i];
	}
	kr = kresid__open(t, o->nfuncs, err, sizeof(err));
	if (!kr) {
		int code = errno == ENOENT || errno == ENOTUNIQ ? PG_EXIT_USAGE : PG_EXIT_SYSTEM;

		pg_err(cli, code, "residency: %s", err);
		ret = code;
		goto cleanup;
	}
	t0 = mono_s();
	n = kresid__scan(kr, recs, KRESID_MAX, &tasks);
	t1 = mono_s();
	if (n < 0) {
		pg_err(cli, PG_EXIT_SYSTEM, "residency: reading the task iterator: %s", strerror(-n));
		goto cleanup;
	}
	if (n > KRESID_MAX) {
		pg_warn(cli, "residency: %d records, showing the first %d", n, KRESID_MAX);
		n = KRESID_MAX;
	}
	for (int i = 0; i < n; i++) {
		const struct pg_resident *r = &recs[i];
		char comm[PG_COMM_LEN + 1];

		if (r->func >= (uint32_t)o->nfuncs)
			continue;
		memcpy(comm, r->comm, PG_COMM_LEN);
		comm[PG_COMM_LEN] = '\0';
		if (t[r->func].sympos)
			snprintf(fname, sizeof(fname), "%s,%lu", t[r->func].name, t[r->func].sympos);
		else
			snprintf(fname, sizeof(fname), "%s", t[r->func].name);
		report_resident(cli, &(struct pg_resident_report){
			.pid = (int)r->pid, .tid = (int)r->tid, .comm = comm, .func = fname,
			.state = kresid_state_str(r->state), .kthread = r->flags & PG_RES_KTHREAD,
			.best_effort = r->flags & PG_RES_RUNNING,
		});
	}
	report_resident_end(cli, n);
	if (cli->verbose)
		pg_info(cli, "residency: %llu task(s) walked in %.3f ms", (unsigned long long)tasks,
			(t1 - t0) * 1e3);
	ret = PG_EXIT_OK;
cleanup:
	kresid__free(kr);
	free(t);
	free(names);
	free(mods);
	free(sympos);
	free(recs);
	return ret;
}
