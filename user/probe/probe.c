// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The probe engine's front (probe.h): argument checks, the shared map
 * reading (pgmaps.c), and the dispatch to each kind's _impl, which the
 * target picked when it opened.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "probe/probe_impl.h"

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("PATCHGATE_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

void probe_quiet_libbpf(void)
{
	libbpf_set_print(silent_print);
}

/* ---- targets -------------------------------------------------------------- */

struct probe_target *probe_target__open(int pid, char *err, size_t errlen)
{
	struct probe_target *t;
	int e;

	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	t->pid = pid;
	t->exit_fd = -1;
	t->impl = pid ? &probe_process_target : &probe_kernel_target;
	e = t->impl->open(t, err, errlen);
	if (e) {
		probe_target__free(t);
		errno = -e;
		return NULL;
	}
	return t;
}

void probe_target__free(struct probe_target *t)
{
	if (!t)
		return;
	if (t->impl->close)
		t->impl->close(t);
	if (t->exit_fd >= 0)
		close(t->exit_fd);
	free(t);
}

int probe_target__pid(const struct probe_target *t)
{
	return t->pid;
}

int probe_target__resolve(struct probe_target *t, const char *spec, struct probe_func *out,
			  char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	return t->impl->resolve(t, spec, out, err, errlen);
}

int probe_target__object_code(struct probe_target *t, const char *object, struct probe_func *out,
			      int max, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out) * (max > 0 ? max : 0));
	return t->impl->object_code(t, object, out, max, err, errlen);
}

void probe_target__rescan(struct probe_target *t)
{
	t->impl->rescan(t);
}

int probe_target__exit_fd(const struct probe_target *t)
{
	return t->exit_fd;
}

/* ---- the engine ----------------------------------------------------------- */

struct probe *probe__open(const struct probe_opts *o, char *err, size_t errlen)
{
	struct probe *p = NULL;
	int e;

	probe_quiet_libbpf();
	if (o->nfuncs <= 0 || o->nfuncs > PG_MAX_FUNCS) {
		snprintf(err, errlen, "between 1 and %d functions, not %d", PG_MAX_FUNCS, o->nfuncs);
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	p->impl = o->target->impl->engine;
	p->target = o->target;
	p->empty = o->empty;
	e = pgmaps_init(&p->maps);
	if (e) {
		snprintf(err, errlen, "cannot set up the map reader: %s", strerror(-e));
		goto fail;
	}
	e = p->impl->open(p, o, err, errlen);
	if (e)
		goto fail;
	p->nfuncs = o->nfuncs;
	p->maps.nfuncs = o->nfuncs;
	return p;
fail:
	pgmaps_fini(&p->maps);
	free(p);
	errno = -e;
	return NULL;
}

void probe__free(struct probe *p)
{
	if (!p)
		return;
	p->impl->close(p);
	pgmaps_fini(&p->maps);
	free(p);
}

int probe__detach(struct probe *p, int fn)
{
	if (fn < 0 || fn >= p->nfuncs)
		return -EINVAL;
	p->impl->detach(p, fn);
	return 0;
}

int probe__attach(struct probe *p, int fn, const struct probe_func *at, char *err, size_t errlen)
{
	if (fn < 0 || fn >= p->nfuncs) {
		snprintf(err, errlen, "no function %d", fn);
		return -EINVAL;
	}
	p->impl->detach(p, fn);
	return p->impl->attach(p, fn, at, err, errlen);
}

int probe__snapshot(struct probe *p, int fn, struct probe_snap *s)
{
	if (fn < 0 || fn >= p->nfuncs)
		return -EINVAL;
	return pgmaps_snapshot(&p->maps, fn, &s->st, &s->inf, &s->hist);
}

int probe__bump_generation(struct probe *p)
{
	return pgmaps_bump_generation(&p->maps);
}

const char *probe__how(const struct probe *p, int fn)
{
	return p->impl->how(p, fn);
}

const char *probe__note(const struct probe *p)
{
	return p->note;
}

size_t probe__map_bytes(const struct probe *p)
{
	size_t n = 0;

	n += (size_t)PG_MAX_FUNCS * PG_GEN_SLOTS * sizeof(struct pg_func_stats) * p->maps.ncpus;
	n += (size_t)PG_MAX_FUNCS * PG_GEN_SLOTS * sizeof(struct pg_hist) * p->maps.ncpus;
	n += (size_t)PG_MAX_FUNCS * sizeof(struct pg_inflight);
	/* plus task storage: one pg_nest per thread that has called a target */
	return n;
}

/* ---- residency ------------------------------------------------------------ */

struct probe_resid *probe_resid__open(struct probe_target *t, const struct probe_func *funcs,
				      int n, char *err, size_t errlen)
{
	struct probe_resid *r = NULL;
	int e;

	probe_quiet_libbpf();
	if (n <= 0 || n > PG_MAX_FUNCS) {
		snprintf(err, errlen, "between 1 and %d functions, not %d", PG_MAX_FUNCS, n);
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r)
		r->funcs = calloc(n, sizeof(*r->funcs));
	if (!r || !r->funcs) {
		free(r);
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	r->impl = t->impl->resid;
	r->target = t;
	r->n = n;
	memcpy(r->funcs, funcs, n * sizeof(*funcs));
	e = r->impl->open(r, funcs, n, err, errlen);
	if (e) {
		free(r->funcs);
		free(r);
		errno = -e;
		return NULL;
	}
	return r;
}

void probe_resid__free(struct probe_resid *r)
{
	if (!r)
		return;
	r->impl->close(r);
	free(r->funcs);
	free(r);
}

int probe_resid__scan(struct probe_resid *r, struct pg_inside *out, int max, uint64_t *walked,
		      char *err, size_t errlen)
{
	if (walked)
		*walked = 0;
	return r->impl->scan(r, out, max, walked, err, errlen);
}

void probe_resid__confirm_scans(const struct probe_resid *r, unsigned int *sleeping,
				unsigned int *running)
{
	*sleeping = r->impl->confirm_sleeping;
	*running = r->impl->confirm_running;
}
