// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pg_klp_ops: kernel livepatch modules behind the one backend interface.
 * The one klp apply (load, then check that sysfs lists what the file
 * said), the one transition probe, and the one revert (disable, wait for
 * the reverse transition, delete_module), for the gate and the CLI alike.
 * Every wait here is a deadline on the one clock; the constants below are
 * all the timing this backend has.
 *
 * Atomic replace (a cumulative patch, replace=1): while it loads, the
 * kernel adds a nop function for each function of the patches it replaces
 * that it does not patch itself, so sysfs lists those too; once its
 * transition completes, the replaced patches are disabled for good.  A
 * revert from then on would leave no patch at all, a state nobody had: so
 * for a caller that may revert after the transition (the gate), open
 * finds the replaced patch's module file and the revert reloads it (on top
 * of this patch, so that there is no instant without a patch), then takes
 * this one off.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend/backend.h"
#include "backend/klp/klp.h"
#include "lib/clock.h"
#include "lib/symbols.h"
#include "lib/trust.h"

#define KLP_POLL_US	100000	/* sysfs polling period while waiting */
#define KLP_UNLOAD_S	10.0	/* after the reverse transition: sysfs teardown, then delete_module */

/* The patch a replace patch replaces, to reload it if the replace patch is reverted. */
struct klp_prev {
	char name[256];
	char path[PATH_MAX];
	char params[4096];
	bool replace;			/* itself a replace patch */
};

struct pg_backend {
	struct pg_backend_opts o;
	char name[256];			/* the patch's (module's) name */
	struct klp_info *info;		/* apply: what the module file says */
	struct klp_func_info *before;	/* apply, replace: the functions of every patch before */
	int nbefore;
	struct klp_prev prev;		/* apply, replace, restore_replaced: what to reload */
	bool have_prev;
	struct klp_func_info *sys;	/* revert: what sysfs lists */
	int nsys;
	bool reverting;			/* the transition goes to unpatched */
	uint64_t warn_count;
	bool have_warn_count;
	char sha256[PG_SHA256_HEX], build_id[64];	/* apply: the module file's */
};

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

static const struct klp_func_info *funcs_of(const struct pg_backend *b, int *n)
{
	if (b->info) {
		*n = b->info->nfuncs;
		return b->info->funcs;
	}
	*n = b->nsys;
	return b->sys;
}

static unsigned int fill_funcs(struct pg_patch_func *f, unsigned int max, const struct klp_func_info *k,
			       int n)
{
	unsigned int i;

	for (i = 0; i < max && (int)i < n; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		snprintf(f[i].object, sizeof(f[i].object), "%s", k[i].object ? k[i].object : "vmlinux");
		snprintf(f[i].func, sizeof(f[i].func), "%s", k[i].name);
		f[i].sympos = k[i].sympos;
	}
	return i;
}

static void klp_close(struct pg_backend *b)
{
	if (!b)
		return;
	klp_info__free(b->info);
	klp_funcs__free(b->sys, b->nsys);
	klp_funcs__free(b->before, b->nbefore);
	free(b);
}

/* Append @n functions to @b->before. */
static int before_add(struct pg_backend *b, const struct klp_func_info *f, int n)
{
	struct klp_func_info *p;

	if (!n)
		return 0;
	p = realloc(b->before, (b->nbefore + n) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	b->before = p;
	for (int i = 0; i < n; i++) {
		p[b->nbefore].object = strdup(f[i].object);
		p[b->nbefore].name = strdup(f[i].name);
		p[b->nbefore].sympos = f[i].sympos;
		if (!p[b->nbefore].object || !p[b->nbefore].name) {
			free(p[b->nbefore].object);
			free(p[b->nbefore].name);
			return -ENOMEM;
		}
		b->nbefore++;
	}
	return 0;
}

/*
 * The module file of patch @name, to reload it: b->o.previous, else the
 * file patchgate recorded when it loaded it.  It must be that patch: the
 * same name, the functions sysfs lists for it, and the same srcversion
 * when both say one.  Fills b->prev; -EINVAL with r set when not.
 */
static int prev_file(struct pg_backend *b, const char *name, const struct klp_func_info *sys,
		     int nsys, struct pg_be_result *r)
{
	struct klp_prev *p = &b->prev;
	struct klp_info *pi = NULL;
	char err[512], sv[128];
	int e;

	snprintf(p->name, sizeof(p->name), "%s", name);
	if (b->o.previous) {
		snprintf(p->path, sizeof(p->path), "%s", b->o.previous);
		p->params[0] = '\0';
	} else if (!b->o.state_dir || klp_record_read(b->o.state_dir, name, p->path, sizeof(p->path),
						      p->params, sizeof(p->params))) {
		return pg_be_fail(r, PG_BE_INPUT, -EINVAL, "%s replaces %s, and patchgate does not know "
			       "its module file: give it with --previous FILE (the gate reloads it if "
			       "it reverts), or apply with --no-gate; nothing applied", b->name, name);
	}
	e = klp_inspect(p->path, &pi, err, sizeof(err));
	if (!e && strcmp(pi->name, name)) {
		snprintf(err, sizeof(err), "it is patch %.200s, not %.200s", pi->name, name);
		e = -EINVAL;
	}
	if (!e)
		e = klp_funcs_compare(pi->funcs, pi->nfuncs, sys, nsys, err, sizeof(err));
	if (!e && pi->srcversion && !klp_module_attr(name, "srcversion", sv, sizeof(sv)) &&
	    strcmp(sv, pi->srcversion)) {
		snprintf(err, sizeof(err), "srcversion %s, the loaded %s has %s", pi->srcversion, name, sv);
		e = -EINVAL;
	}
	if (!e)
		p->replace = pi->replace;
	klp_info__free(pi);
	if (e)
		return pg_be_fail(r, PG_BE_INPUT, -EINVAL, "%s replaces %s, but %s cannot bring it back: "
			       "%s; nothing applied", b->name, name, p->path, err);
	b->have_prev = true;
	return 0;
}

/*
 * A replace patch: the functions of the patches now enabled (the nops the
 * kernel may add are among them) and, for a caller that may revert after
 * the transition (o.restore_replaced), the one patch it replaces and its
 * module file.  More than one replaced patch is refused there: their
 * order cannot be rebuilt.
 */
static int open_replaced(struct pg_backend *b, struct pg_be_result *r)
{
	struct klp_func_info *sys = NULL;
	char **names = NULL, pred[256] = "";
	int nn, npred = 0, nsys = 0, e = 0;

	nn = klp_list(&names);
	if (nn < 0)
		return pg_be_fail(r, PG_BE_SYSTEM, nn, "cannot list %s: %s", KLP_SYSFS, strerror(-nn));
	for (int i = 0; i < nn && !e; i++) {
		struct klp_state st;

		if (!strcmp(names[i], b->name) || klp_transition_state(names[i], &st) || !st.enabled)
			continue;
		e = klp_sysfs_funcs(names[i], &sys, &nsys);
		if (!e)
			e = before_add(b, sys, nsys);
		if (!e && !npred++)
			snprintf(pred, sizeof(pred), "%s", names[i]);
		if (!e && b->o.restore_replaced && npred == 1 && st.transition)
			e = pg_be_fail(r, PG_BE_INPUT, -EBUSY, "%s replaces %s, which is still in "
				       "transition; nothing applied", b->name, pred);
		else if (!e && b->o.restore_replaced && npred == 1)
			e = prev_file(b, pred, sys, nsys, r);
		else if (e)
			e = pg_be_fail(r, PG_BE_SYSTEM, e, "cannot read %s/%s: %s", KLP_SYSFS, names[i],
				       strerror(-e));
		klp_funcs__free(sys, nsys);
		sys = NULL;
		nsys = 0;
	}
	klp_list__free(names, nn);
	if (!e && b->o.restore_replaced && npred > 1) {
		b->have_prev = false;
		e = pg_be_fail(r, PG_BE_INPUT, -EINVAL, "%s replaces %d patches (%s and more); the gate "
			       "can bring back one replaced patch, not several in their order: replace "
			       "them with --no-gate, or one at a time; nothing applied",
			       b->name, npred, pred);
	}
	return e;
}

static int open_file(struct pg_backend *b, struct pg_be_result *r)
{
	char err[1024], real[PATH_MAX];
	struct pg_trust t;
	int e;

	/* who can change the file, its digest, its signature (lib/trust.h) */
	if (!realpath(b->o.patch, real))
		return pg_be_fail(r, PG_BE_INPUT, -errno, "%s: %s", b->o.patch, strerror(errno));
	e = pg_trust_file(real, &b->o.trust, &t, err, sizeof(err));
	if (e)
		return pg_be_fail(r, PG_BE_INPUT, e, "%s", err);
	snprintf(b->sha256, sizeof(b->sha256), "%s", t.sha256);
	sym_elf_build_id(real, b->build_id, sizeof(b->build_id));
	e = klp_inspect(b->o.patch, &b->info, err, sizeof(err));
	if (e)
		return pg_be_fail(r, PG_BE_INPUT, e, "%s", err);
	e = klp_check(b->info, err, sizeof(err), r->note, sizeof(r->note));
	if (e)
		return pg_be_fail(r, PG_BE_INPUT, e, "%s", err);
	/* no function at all is valid: callbacks and klp_state only */
	if (b->info->nfuncs > PG_MAX_FUNCS)
		return pg_be_fail(r, PG_BE_INPUT, -E2BIG, "%s patches %d functions (at most %d supported)",
			       b->o.patch, b->info->nfuncs, PG_MAX_FUNCS);
	snprintf(b->name, sizeof(b->name), "%s", b->info->name);
	r->replace = b->info->replace;
	return b->info->replace ? open_replaced(b, r) : 0;
}

/*
 * Revert by name: only a patch the kernel lists in /sys/kernel/livepatch.
 * A module of that name that is not listed (not a livepatch, or a patch
 * already disabled or replaced) is left alone: revert unloads only what it
 * disabled.
 */
static int open_loaded(struct pg_backend *b, struct pg_be_result *r)
{
	struct klp_state st;

	snprintf(b->name, sizeof(b->name), "%s", b->o.patch);
	if (klp_transition_state(b->name, &st)) {
		if (!klp_module_loaded(b->name))
			return pg_be_fail(r, PG_BE_INPUT, -ENOENT, "no livepatch named %s is loaded",
				       b->name);
		return pg_be_fail(r, PG_BE_INPUT, -ENOENT, "no livepatch named %s in %s: module %s "
			       "is not a livepatch, or one already disabled (replaced?); left loaded "
			       "-- remove it with rmmod if that is what you want",
			       b->name, KLP_SYSFS, b->name);
	}
	klp_sysfs_funcs(b->name, &b->sys, &b->nsys);
	return 0;
}

static int klp_open(const struct pg_backend_opts *o, struct pg_backend **out, struct pg_be_result *r)
{
	struct pg_backend *b;
	int e;

	memset(r, 0, sizeof(*r));
	*out = NULL;
	if (!klp_supported())
		return pg_be_fail(r, PG_BE_SYSTEM, -ENOSYS, "this kernel has no livepatch support (%s missing) "
			       "-- CONFIG_LIVEPATCH is needed", KLP_SYSFS);
	if (!o->patch)
		return pg_be_fail(r, PG_BE_INPUT, -EINVAL, "no livepatch named");
	b = calloc(1, sizeof(*b));
	if (!b)
		return pg_be_fail(r, PG_BE_SYSTEM, -ENOMEM, "out of memory");
	b->o = *o;
	e = o->for_revert ? open_loaded(b, r) : open_file(b, r);
	if (e) {
		klp_close(b);
		return e;
	}
	snprintf(r->name, sizeof(r->name), "%s", b->name);
	snprintf(r->sha256, sizeof(r->sha256), "%s", b->sha256);
	snprintf(r->build_id, sizeof(r->build_id), "%s", b->build_id);
	b->have_warn_count = !read_u64_file("/sys/kernel/warn_count", &b->warn_count);
	*out = b;
	return 0;
}

static int klp_functions(struct pg_backend *b, struct pg_patch_func *f, unsigned int max)
{
	int n;
	const struct klp_func_info *k = funcs_of(b, &n);

	return (int)fill_funcs(f, max, k, n);
}

/*
 * sysfs must list what the file said and, for a replace patch, may list
 * more: the nops, each a function of a patch enabled before it.
 */
static int check_sysfs(struct pg_backend *b, const struct klp_func_info *sf, int n, char *err,
		       size_t errlen)
{
	const struct klp_info *in = b->info;
	struct klp_func_info *own;
	int e, k = 0;

	if (!in->replace)
		return klp_funcs_compare(in->funcs, in->nfuncs, sf, n, err, errlen);
	/* sysfs minus the nops, against the file */
	own = calloc(n ? (size_t)n : 1, sizeof(*own));
	if (!own)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		bool nop = !klp_funcs_has(in->funcs, in->nfuncs, &sf[i]) &&
			   klp_funcs_has(b->before, b->nbefore, &sf[i]);

		if (!nop)
			own[k++] = sf[i];
	}
	e = klp_funcs_compare(in->funcs, in->nfuncs, own, k, err, errlen);
	free(own);
	return e;
}

/* Load the module (its init enables the patch); sysfs must list what the file said. */
static int klp_apply_op(struct pg_backend *b, struct pg_be_result *r)
{
	struct klp_func_info *sf = NULL;
	char err[512];
	int e, n = 0;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", b->name);
	snprintf(r->sha256, sizeof(r->sha256), "%s", b->sha256);
	snprintf(r->build_id, sizeof(r->build_id), "%s", b->build_id);
	r->replace = b->info->replace;
	r->nfuncs = fill_funcs(r->funcs, PG_MAX_FUNCS, b->info->funcs, b->info->nfuncs);
	b->reverting = false;
	e = klp_load(b->o.patch, b->o.params);
	if (e) {
		/* a module whose init failed is not loaded; one that loaded may be half-enabled */
		r->partial = klp_module_loaded(b->name);
		return pg_be_fail(r, e == -EEXIST ? PG_BE_INPUT : PG_BE_SYSTEM, e,
			       "loading %s failed: %s -- see dmesg", b->o.patch, strerror(-e));
	}
	e = klp_sysfs_funcs(b->name, &sf, &n);
	if (e)
		snprintf(err, sizeof(err), "cannot read %s/%s: %s", KLP_SYSFS, b->name, strerror(-e));
	else
		e = check_sysfs(b, sf, n, err, sizeof(err));
	klp_funcs__free(sf, n);
	if (e) {
		r->partial = true;
		return pg_be_fail(r, PG_BE_SYSTEM, e, "%s: sysfs disagrees with the module file: %s", b->name, err);
	}
	/* where it came from, for a later replace patch's revert; without it that one is refused */
	if (b->o.state_dir && (e = klp_record_write(b->o.state_dir, b->name, b->o.patch, b->o.params)))
		snprintf(r->note, sizeof(r->note), "cannot record %s's module file in %s: %s", b->name,
			 b->o.state_dir, strerror(-e));
	return 0;
}

static int klp_transition(struct pg_backend *b, struct pg_progress *p, struct pg_inside *s,
			  unsigned int max, struct pg_be_result *r)
{
	struct klp_state st;
	const struct klp_func_info *f;
	int e, n, nf;

	memset(p, 0, sizeof(*p));
	e = klp_transition_state(b->name, &st);
	if (e) {
		if (b->reverting) {
			p->done = true;	/* the patch is gone: the reverse transition is over */
			return 0;
		}
		return pg_be_fail(r, PG_BE_GONE, e, "%s: cannot read the transition: %s", b->name, strerror(-e));
	}
	p->enabled = st.enabled;
	p->done = !st.transition;
	if (p->done && !st.enabled && !b->reverting)
		return pg_be_fail(r, PG_BE_GONE, -ENOENT, "%s was disabled during its transition "
			       "(reverted from elsewhere?)", b->name);
	if (p->done || !max)
		return 0;
	f = funcs_of(b, &nf);
	n = klp_stragglers(st.enabled ? 1 : 0, f, nf, s, (int)max);
	if (n < 0)
		return 0;	/* /proc unreadable: progress without names */
	p->total = (unsigned int)n;
	p->n = p->total < max ? p->total : max;
	return 0;
}

/* Wait until @b's transition ends (or the patch goes) by @deadline; true when it ended. */
static bool wait_transition(struct pg_backend *b, double deadline)
{
	struct klp_state st;

	while (!klp_transition_state(b->name, &st) && st.transition) {
		if (pg_mono_s() >= deadline)
			return false;
		usleep(KLP_POLL_US);
	}
	return true;
}

/* delete_module @name, a disabled patch, retried while busy until @deadline. */
static int unload_disabled(const char *name, double deadline)
{
	int e;

	while (klp_module_loaded(name)) {
		e = klp_unload(name);
		if (!e || e == -ENOENT)
			return 0;
		if ((e != -EAGAIN && e != -EBUSY && e != -EWOULDBLOCK) || pg_mono_s() >= deadline)
			return e;
		usleep(KLP_POLL_US);
	}
	return 0;
}

/* The patch's sysfs directory goes after the reverse transition; then delete_module. */
static int unload(struct pg_backend *b)
{
	double deadline = pg_mono_s() + KLP_UNLOAD_S;
	struct klp_state st;

	while (!klp_transition_state(b->name, &st) && pg_mono_s() < deadline)
		usleep(KLP_POLL_US);
	return unload_disabled(b->name, deadline);
}

/*
 * The revert of a replace patch whose transition completed: its
 * predecessor, disabled for good by the kernel, is loaded again from its
 * file, on top of this patch (a replace predecessor replaces it outright;
 * any other is stacked on it and this one is then disabled by the caller).
 * Returns 0 with *@done when this patch is gone already, or -errno with r
 * set: then this patch is still in effect, nothing was lost.
 */
static int restore_prev(struct pg_backend *b, double deadline, bool *done, struct pg_be_result *r)
{
	const struct klp_prev *p = &b->prev;
	struct klp_state st;
	int e;

	*done = false;
	e = unload_disabled(p->name, deadline);
	if (e)
		return pg_be_fail(r, PG_BE_SYSTEM, e, "%s: cannot unload the replaced %s to load it again: "
			       "%s; %s stays applied", b->name, p->name, strerror(-e), b->name);
	e = klp_load(p->path, p->params);
	if (e)
		return pg_be_fail(r, PG_BE_SYSTEM, e, "%s: cannot load the replaced %s again from %.512s: "
			       "%s; %s stays applied", b->name, p->name, p->path, strerror(-e), b->name);
	if (b->o.state_dir)
		klp_record_write(b->o.state_dir, p->name, p->path, p->params);
	snprintf(r->note, sizeof(r->note), "%.200s restored from %.200s (the patch %.64s replaced)",
		 p->name, p->path, b->name);
	while (!klp_transition_state(p->name, &st) && st.transition) {
		if (pg_mono_s() >= deadline)
			return pg_be_fail(r, PG_BE_TIMEOUT, -ETIMEDOUT, "%s: the transition of the restored "
				       "%s did not complete in time; both are loaded", b->name, p->name);
		usleep(KLP_POLL_US);
	}
	/* a replace predecessor has disabled this patch: only the module is left */
	*done = p->replace;
	return 0;
}

static int klp_revert_op(struct pg_backend *b, double timeout_s, struct pg_be_result *r)
{
	double t0 = pg_mono_s(), deadline = t0 + timeout_s, t_disable;
	struct klp_state st;
	bool done = false;
	int e;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", b->name);
	r->nfuncs = klp_functions(b, r->funcs, PG_MAX_FUNCS);
	b->reverting = true;
	/*
	 * A replace patch whose predecessor is gone from sysfs (replaced for
	 * good: the transition completed) brings it back first; before that
	 * (a transition reversed) the kernel re-enables it by itself.
	 */
	if (b->have_prev && !klp_transition_state(b->name, &st) &&
	    klp_transition_state(b->prev.name, &st)) {
		if ((e = restore_prev(b, deadline, &done, r)))
			return e;
		if (done)
			goto unload;
	}
	if (klp_transition_state(b->name, &st)) {
		if (!klp_module_loaded(b->name)) {
			r->already = true;	/* nothing was loaded */
			return 0;
		}
		goto unload;	/* already disabled, the module is still in */
	}
	/*
	 * A transition with "enabled" still 0 is either a reverse already
	 * under way or a forward one still being set up: sysfs shows the
	 * transition before the kernel marks the patch enabled, and on 6.12
	 * under TCG that setup took seconds.  The write tells them apart: it
	 * waits for the setup (the kernel's livepatch mutex) and reverses
	 * it, and a patch already disabled answers EINVAL.
	 */
	if ((st.enabled || st.transition) && (e = klp_disable(b->name)) && e != -ENOENT &&
	    !(e == -EINVAL && !st.enabled))
		return pg_be_fail(r, PG_BE_SYSTEM, e, "cannot disable %s: %s", b->name, strerror(-e));
	/* the write returns once the kernel has started the reverse */
	t_disable = pg_mono_s() - t0;
	if (!wait_transition(b, deadline)) {
		struct pg_progress p;
		struct pg_be_result ignored;

		klp_transition(b, &p, r->inside, PG_BE_MAX_INSIDE, &ignored);
		r->ninside = p.n;
		if (!b->o.force)
			return pg_be_fail(r, PG_BE_TIMEOUT, -ETIMEDOUT,
				       "%s: the reverse transition did not complete in %.0f s (the "
				       "kernel took %.1f s of them to start it); left disabled and "
				       "loaded (patchgate never forces on its own)",
				       b->name, timeout_s, t_disable);
		e = klp_force(b->name);
		if (e)
			return pg_be_fail(r, PG_BE_SYSTEM, e, "cannot force %s: %s", b->name, strerror(-e));
		wait_transition(b, pg_mono_s() + timeout_s);
		r->forced = true;
		r->transition_s = pg_mono_s() - t0;
		return 0;	/* a forced patch's module can never be unloaded */
	}
	r->transition_s = pg_mono_s() - t0;
unload:
	e = unload(b);
	if (e || klp_module_loaded(b->name))
		return pg_be_fail(r, PG_BE_SYSTEM, e ? e : -EBUSY, "%s is disabled but cannot be unloaded: %s",
			       b->name, strerror(e ? -e : EBUSY));
	if (b->o.state_dir)
		klp_record_remove(b->o.state_dir, b->name);
	return 0;
}

static int klp_status_op(const struct pg_backend_opts *o, struct pg_patch_status **out, int *n,
			 struct pg_be_result *r)
{
	struct pg_patch_status *v = NULL;
	char **names = NULL;
	int nn, k = 0;

	(void)o;
	memset(r, 0, sizeof(*r));
	*out = NULL;
	*n = 0;
	if (!klp_supported())
		return pg_be_fail(r, PG_BE_SYSTEM, -ENOSYS, "this kernel has no livepatch support (%s missing)",
			       KLP_SYSFS);
	nn = klp_list(&names);
	if (nn < 0)
		return pg_be_fail(r, PG_BE_SYSTEM, nn, "cannot list %s: %s", KLP_SYSFS, strerror(-nn));
	v = calloc(nn ? (size_t)nn : 1, sizeof(*v));
	if (!v) {
		klp_list__free(names, nn);
		return pg_be_fail(r, PG_BE_SYSTEM, -ENOMEM, "out of memory");
	}
	for (int i = 0; i < nn; i++) {
		struct pg_patch_status *s = &v[k];
		struct klp_func_info *funcs = NULL;
		struct klp_state st;
		int nf = 0, ns = 0;

		if (klp_transition_state(names[i], &st))
			continue;	/* went away meanwhile */
		snprintf(s->patch, sizeof(s->patch), "%s", names[i]);
		s->enabled = st.enabled;
		s->transition = st.transition;
		klp_sysfs_funcs(names[i], &funcs, &nf);
		s->nfuncs = fill_funcs(s->funcs, PG_MAX_FUNCS, funcs, nf);
		if (st.transition)
			ns = klp_stragglers(st.enabled, funcs, nf, s->inside, PG_BE_MAX_INSIDE);
		if (ns > 0) {
			s->inside_total = (unsigned int)ns;
			s->ninside = ns < PG_BE_MAX_INSIDE ? (unsigned int)ns : PG_BE_MAX_INSIDE;
		}
		klp_funcs__free(funcs, nf);
		k++;
	}
	klp_list__free(names, nn);
	*out = v;
	*n = k;
	return 0;
}

/* The taint mask now, and the WARNs since the previous call (or open). */
static int klp_health(struct pg_backend *b, struct pg_health *h)
{
	uint64_t wc;
	int e;

	memset(h, 0, sizeof(*h));
	e = read_u64_file("/proc/sys/kernel/tainted", &h->taint);
	if (e)
		return e;
	if (b->have_warn_count && !read_u64_file("/sys/kernel/warn_count", &wc)) {
		if (wc > b->warn_count)
			h->new_warns = (unsigned int)(wc - b->warn_count);
		b->warn_count = wc;
	}
	return 0;
}

const struct pg_backend_ops pg_klp_ops = {
	.name = "klp",
	.kind = PG_BE_KLP,
	.open = klp_open,
	.functions = klp_functions,
	.apply = klp_apply_op,
	.transition = klp_transition,
	.revert = klp_revert_op,
	.status = klp_status_op,
	.health = klp_health,
	.close = klp_close,
};
