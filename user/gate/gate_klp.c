// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The gate's kernel backend: fentry/fexit (or kprobes) on the functions the
 * livepatch replaces, the iter/task stack walk for the window, and the
 * kernel's livepatch interface for apply, transition and revert.  fentry on
 * the old symbol keeps working across the livepatch and then times the new
 * code, so the probes stay where they are; the generation is bumped when
 * the transition completes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend/klp.h"
#include "gate/gate_run.h"
#include "observe/kresid.h"
#include "observe/kwatch_bpf.h"
#include "ui/output.h"

#define KLP_MAX_RES 4096

struct gr_klp {
	struct klp_info *info;
	struct kwatch *w;
	struct kresid *kr;
	struct kresid *kr_new;	/* the patch module's own functions, for hangs */
	char new_names[PG_MAX_FUNCS][sizeof(((struct kresid_target *)0)->name)];
	bool new_tried;
	struct pg_resident *res;
	struct pg_hist hist[PG_MAX_FUNCS];
	int err_modes[PG_MAX_FUNCS];
	uint64_t warn_count;
	bool have_warn_count;
};

static struct gr_klp *K(struct gr *g)
{
	return g->priv;
}

static int read_u64_file(const char *path, uint64_t *v)
{
	unsigned long long x;
	FILE *f = fopen(path, "re");
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%llu", &x);
	fclose(f);
	if (n != 1)
		return -EINVAL;
	*v = x;
	return 0;
}

static int klp_prepare(struct gr *g)
{
	struct kresid_target t[PG_MAX_FUNCS];
	struct gr_klp *k;
	char err[1024], note[1024] = "";
	int e;

	if (!klp_supported()) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: this kernel has no livepatch support (%s missing)",
		       KLP_SYSFS);
		return PG_EXIT_USAGE;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return PG_EXIT_SYSTEM;
	g->priv = k;
	e = klp_inspect(g->o->patch_path, &k->info, err, sizeof(err));
	if (e) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	e = klp_check(k->info, err, sizeof(err), note, sizeof(note));
	if (e) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	if (note[0])
		pg_warn(g->cli, "%s", note);
	if (k->info->nfuncs <= 0 || k->info->nfuncs > PG_MAX_FUNCS) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: %s patches %d functions (1 to %d supported)",
		       g->o->patch_path, k->info->nfuncs, PG_MAX_FUNCS);
		return PG_EXIT_USAGE;
	}
	g->nfuncs = (unsigned int)k->info->nfuncs;
	for (int i = 0; i < k->info->nfuncs; i++) {
		const struct klp_func_info *f = &k->info->funcs[i];

		snprintf(g->fname[i], sizeof(g->fname[i]), "%s", f->name);
		memset(&t[i], 0, sizeof(t[i]));
		snprintf(t[i].name, sizeof(t[i].name), "%s", f->name);
		if (f->object && strcmp(f->object, "vmlinux"))
			snprintf(t[i].module, sizeof(t[i].module), "%s", f->object);
		t[i].sympos = f->sympos;
		k->err_modes[i] = g->o->err_mode;
	}
	k->kr = kresid__open(t, k->info->nfuncs, err, sizeof(err));
	if (!k->kr) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	k->res = calloc(KLP_MAX_RES, sizeof(*k->res));
	if (!k->res)
		return PG_EXIT_SYSTEM;
	k->have_warn_count = !read_u64_file("/sys/kernel/warn_count", &k->warn_count);
	return 0;
}

static int klp_attach(struct gr *g)
{
	struct gr_klp *k = K(g);
	struct kwatch_func f[PG_MAX_FUNCS];
	char err[1024], why[512] = "";

	for (unsigned int i = 0; i < g->nfuncs; i++) {
		const struct klp_func_info *fi = &k->info->funcs[i];

		memset(&f[i], 0, sizeof(f[i]));
		snprintf(f[i].name, sizeof(f[i].name), "%s", fi->name);
		if (fi->object && strcmp(fi->object, "vmlinux"))
			snprintf(f[i].module, sizeof(f[i].module), "%s", fi->object);
	}
	k->w = kwatch__open(&(struct kwatch_opts){
		.nfuncs = (int)g->nfuncs, .funcs = f, .err_modes = k->err_modes,
	}, err, sizeof(err), why, sizeof(why));
	if (!k->w) {
		pg_err(g->cli, PG_EXIT_USAGE, "apply: %s", err);
		return PG_EXIT_USAGE;
	}
	if (why[0])
		pg_warn(g->cli, "fentry unavailable (%s): using kprobes", why);
	return 0;
}

static int klp_samples(struct gr *g, struct gate_fn_sample *fs)
{
	struct gr_klp *k = K(g);
	int slot = (int)(kwatch__generation(k->w) & (PG_GEN_SLOTS - 1));

	for (unsigned int i = 0; i < g->nfuncs; i++) {
		struct pg_func_stats st;
		struct pg_inflight inf = {};
		int e;

		e = kwatch__read(k->w, (int)i, slot, &st, &k->hist[i]);
		if (!e)
			e = kwatch__inflight(k->w, (int)i, &inf);
		if (e) {
			pg_err(g->cli, PG_EXIT_SYSTEM, "cannot read the probes' maps: %s", strerror(-e));
			return e;
		}
		fs[i] = (struct gate_fn_sample){
			.hist = &k->hist[i], .calls = st.calls, .exits = st.exits,
			.errors = st.errors > st.exits ? st.exits : st.errors, .inflight = inf.now,
		};
	}
	return 0;
}

static int klp_window(struct gr *g, bool *clear, struct gate_blocker *b, unsigned int *total)
{
	struct gr_klp *k = K(g);
	uint64_t tasks = 0;
	int n;

	n = kresid__scan(k->kr, k->res, KLP_MAX_RES, &tasks);
	if (n < 0) {
		pg_err(g->cli, PG_EXIT_SYSTEM, "residency scan: %s", strerror(-n));
		return n;
	}
	*total = (unsigned int)n;
	*clear = n == 0;
	for (int i = 0; i < n && i < GATE_MAX_BLOCKERS; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].pid = (int32_t)k->res[i].pid;
		b[i].tid = (int32_t)k->res[i].tid;
		snprintf(b[i].comm, sizeof(b[i].comm), "%.*s", PG_COMM_LEN, k->res[i].comm);
		snprintf(b[i].func, sizeof(b[i].func), "%s", g->fname[k->res[i].func % g->nfuncs]);
		snprintf(b[i].state, sizeof(b[i].state), "%s", kresid_state_str(k->res[i].state));
	}
	return 0;
}

static int klp_apply_be(struct gr *g, bool *partial)
{
	struct gr_klp *k = K(g);
	struct klp_func_info *sf = NULL;
	char err[512];
	int e, n = 0;

	*partial = false;
	e = klp_load(g->o->patch_path);
	if (e) {
		pg_warn(g->cli, "cannot load %s: %s", g->o->patch_path, strerror(-e));
		/* a module whose init failed is not loaded; one that loaded may be half-enabled */
		*partial = klp_module_loaded(k->info->name);
		return e;
	}
	/* what the kernel says it patches must be what the file said */
	e = klp_sysfs_funcs(k->info->name, &sf, &n);
	if (!e)
		e = klp_funcs_compare(k->info->funcs, k->info->nfuncs, sf, n, err, sizeof(err));
	klp_funcs__free(sf, n);
	if (e) {
		pg_warn(g->cli, "%s: sysfs disagrees with the module file: %s", k->info->name, err);
		*partial = true;
		return e;
	}
	return 0;
}

static int klp_transition_be(struct gr *g, bool *done, struct gate_blocker *b, unsigned int *total)
{
	struct gr_klp *k = K(g);
	struct klp_straggler s[GATE_MAX_BLOCKERS];
	struct klp_state st;
	int e, n;

	e = klp_transition_state(k->info->name, &st);
	if (e) {
		pg_err(g->cli, PG_EXIT_SYSTEM, "%s: cannot read the transition: %s", k->info->name,
		       strerror(-e));
		return e;
	}
	*done = !st.transition;
	*total = 0;
	if (*done)
		return 0;
	n = klp_stragglers(1, k->info->funcs, k->info->nfuncs, s, GATE_MAX_BLOCKERS);
	if (n < 0)
		return 0;
	*total = (unsigned int)n;
	for (int i = 0; i < n && i < GATE_MAX_BLOCKERS; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].pid = s[i].pid;
		b[i].tid = s[i].tid;
		snprintf(b[i].comm, sizeof(b[i].comm), "%s", s[i].comm);
		snprintf(b[i].func, sizeof(b[i].func), "%s", s[i].where);
		snprintf(b[i].state, sizeof(b[i].state), "%c", s[i].state);
	}
	return 0;
}

static int klp_bump(struct gr *g)
{
	return kwatch__bump_generation(K(g)->w);
}

/* Disable (reversing a transition in progress), wait for it, unload. */
static int klp_revert_be(struct gr *g)
{
	struct gr_klp *k = K(g);
	uint64_t waited_ms = 0, limit_ms = g->pol.transition_timeout_ns / 1000000ULL;
	struct klp_state st;
	int e;

	e = klp_disable(k->info->name);
	if (e && e != -ENOENT) {
		pg_warn(g->cli, "cannot disable %s: %s", k->info->name, strerror(-e));
		return e;
	}
	while (!klp_transition_state(k->info->name, &st) && st.transition) {
		if (waited_ms >= limit_ms) {
			pg_warn(g->cli, "%s: the reverse transition has not finished after %llu s; "
				"it is left to complete (patchgate never writes 'force' on its own)",
				k->info->name, (unsigned long long)(waited_ms / 1000));
			return -ETIMEDOUT;
		}
		usleep(100000);
		waited_ms += 100;
	}
	for (int i = 0; i < 100 && klp_module_loaded(k->info->name); i++) {
		e = klp_unload(k->info->name);
		if (!e || e == -ENOENT)
			break;
		usleep(100000);	/* the patch's sysfs teardown runs after the transition */
	}
	if (klp_module_loaded(k->info->name)) {
		pg_warn(g->cli, "%s: disabled, but the module is still loaded", k->info->name);
		return -EBUSY;
	}
	return 0;
}

static int klp_taint(struct gr *g, uint64_t *mask, unsigned int *new_warns)
{
	struct gr_klp *k = K(g);
	uint64_t wc;
	int e;

	*new_warns = 0;
	e = read_u64_file("/proc/sys/kernel/tainted", mask);
	if (e)
		return e;
	if (k->have_warn_count && !read_u64_file("/sys/kernel/warn_count", &wc)) {
		if (wc > k->warn_count)
			*new_warns = (unsigned int)(wc - k->warn_count);
		k->warn_count = wc;
	}
	return 0;
}

/*
 * The patch module's own functions, from /proc/kallsyms ("t"/"T" symbols
 * tagged [@mod]), into @t (at most @max), each with its sympos: the N-th
 * of its name (a module may list a name twice).  Returns the count or -errno.
 */
static int new_code_targets(const char *mod, struct kresid_target *t, int max)
{
	char line[512], name[128], owner[64], type;
	unsigned long long addr;
	FILE *f = fopen("/proc/kallsyms", "re");
	int n = 0;

	if (!f)
		return -errno;
	while (n < max && fgets(line, sizeof(line), f)) {
		unsigned long pos = 1;

		if (sscanf(line, "%llx %c %127s [%63[^]]]", &addr, &type, name, owner) != 4 ||
		    (type != 't' && type != 'T') || strcmp(owner, mod))
			continue;
		for (int i = 0; i < n; i++)
			pos += !strcmp(t[i].name, name);
		memset(&t[n], 0, sizeof(t[n]));
		t[n].sympos = pos;
		snprintf(t[n].name, sizeof(t[n].name), "%s", name);
		snprintf(t[n].module, sizeof(t[n].module), "%s", mod);
		n++;
	}
	fclose(f);
	return n;
}

/*
 * Tasks stuck in the patched code.  After the transition a call into a
 * replaced function runs the patch module's function, whose frame (not the
 * old function's) is on the stack: scan for the module's functions, opened
 * at the first call.  Falls back to the old functions' scan when the
 * module's symbols cannot be read.
 */
static int klp_stuck(struct gr *g, struct gate_blocker *b, unsigned int *total)
{
	struct gr_klp *k = K(g);
	struct kresid_target t[PG_MAX_FUNCS];
	char err[512];
	uint64_t tasks = 0;
	bool clear;
	int n;

	if (!k->new_tried) {
		k->new_tried = true;
		n = new_code_targets(k->info->name, t, PG_MAX_FUNCS);
		if (n > 0)
			k->kr_new = kresid__open(t, n, err, sizeof(err));
		else
			snprintf(err, sizeof(err), "no functions of %s in /proc/kallsyms%s%s",
				 k->info->name, n < 0 ? ": " : "", n < 0 ? strerror(-n) : "");
		if (!k->kr_new)
			pg_warn(g->cli, "cannot watch the patch's own functions (%s); "
				"looking for the replaced ones instead", err);
		for (int i = 0; k->kr_new && i < n; i++)
			memcpy(k->new_names[i], t[i].name, sizeof(k->new_names[i]));
	}
	if (!k->kr_new)
		return klp_window(g, &clear, b, total);
	n = kresid__scan(k->kr_new, k->res, KLP_MAX_RES, &tasks);
	if (n < 0) {
		pg_err(g->cli, PG_EXIT_SYSTEM, "residency scan: %s", strerror(-n));
		return n;
	}
	*total = (unsigned int)n;
	for (int i = 0; i < n && i < GATE_MAX_BLOCKERS; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].pid = (int32_t)k->res[i].pid;
		b[i].tid = (int32_t)k->res[i].tid;
		snprintf(b[i].comm, sizeof(b[i].comm), "%.*s", PG_COMM_LEN, k->res[i].comm);
		snprintf(b[i].func, sizeof(b[i].func), "%s",
			 k->new_names[k->res[i].func % PG_MAX_FUNCS]);
		snprintf(b[i].state, sizeof(b[i].state), "%s", kresid_state_str(k->res[i].state));
	}
	return 0;
}

static void klp_cleanup(struct gr *g)
{
	struct gr_klp *k = K(g);

	if (!k)
		return;
	kwatch__free(k->w);
	kresid__free(k->kr);
	kresid__free(k->kr_new);
	klp_info__free(k->info);
	free(k->res);
	free(k);
	g->priv = NULL;
}

const struct gr_backend gr_klp_backend = {
	.name = "klp",
	.kind = GATE_BACKEND_KLP,
	.prepare = klp_prepare,
	.attach = klp_attach,
	.samples = klp_samples,
	.window = klp_window,
	.apply = klp_apply_be,
	.transition = klp_transition_be,
	.bump = klp_bump,
	.revert = klp_revert_be,
	.taint = klp_taint,
	.stuck = klp_stuck,
	.cleanup = klp_cleanup,
};
