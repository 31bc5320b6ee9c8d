// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "observe/uwatch_bpf.h"
#include "uwatch.skel.h"

struct uwatch {
	struct uwatch_bpf *skel;
	struct bpf_link *entry[PG_MAX_FUNCS];
	struct bpf_link *exit[PG_MAX_FUNCS];
	int nfuncs;
	int pid;
	bool empty;
	int ncpus;
	void *buf;		/* per-CPU read buffer, sized for the largest value */
};

void uwatch__free(struct uwatch *w)
{
	if (!w)
		return;
	for (int i = 0; i < w->nfuncs; i++)
		uwatch__detach_func(w, i);
	uwatch_bpf__destroy(w->skel);
	free(w->buf);
	free(w);
}

int uwatch__detach_func(struct uwatch *w, int fn)
{
	if (fn < 0 || fn >= w->nfuncs)
		return -EINVAL;
	bpf_link__destroy(w->entry[fn]);
	bpf_link__destroy(w->exit[fn]);
	w->entry[fn] = w->exit[fn] = NULL;
	return 0;
}

int uwatch__attach_func(struct uwatch *w, int fn, const struct sym_func *at, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct bpf_program *pe, *px;
	int e;

	if (fn < 0 || fn >= PG_MAX_FUNCS)
		return -EINVAL;
	pe = w->empty ? w->skel->progs.pg_empty_entry : w->skel->progs.pg_entry;
	px = w->empty ? w->skel->progs.pg_empty_exit : w->skel->progs.pg_exit;
	uo.bpf_cookie = (__u64)fn;
	uo.retprobe = false;
	w->entry[fn] = bpf_program__attach_uprobe_opts(pe, w->pid, at->open_path, at->probe_off, &uo);
	if (!w->entry[fn]) {
		e = -errno;
		snprintf(err, errlen, "cannot attach uprobe to %s at %s+0x%llx: %s", at->name, at->object,
			 (unsigned long long)at->probe_off, strerror(-e));
		return e;
	}
	uo.retprobe = true;
	w->exit[fn] = bpf_program__attach_uprobe_opts(px, w->pid, at->open_path, at->probe_off, &uo);
	if (!w->exit[fn]) {
		e = -errno;
		bpf_link__destroy(w->entry[fn]);
		w->entry[fn] = NULL;
		snprintf(err, errlen, "cannot attach uretprobe to %s: %s", at->name, strerror(-e));
		return e;
	}
	if (fn >= w->nfuncs)
		w->nfuncs = fn + 1;
	return 0;
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("PATCHGATE_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

struct uwatch *uwatch__open(const struct uwatch_opts *o, char *err, size_t errlen)
{
	struct uwatch *w = NULL;
	int e;

	libbpf_set_print(silent_print);
	if (o->nfuncs <= 0 || o->nfuncs > PG_MAX_FUNCS) {
		snprintf(err, errlen, "between 1 and %d functions, not %d", PG_MAX_FUNCS, o->nfuncs);
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->pid = o->pid;
	w->empty = o->empty;
	w->ncpus = libbpf_num_possible_cpus();
	if (w->ncpus <= 0) {
		e = w->ncpus ? w->ncpus : -EINVAL;
		snprintf(err, errlen, "cannot count possible CPUs: %s", strerror(-e));
		goto fail;
	}
	w->buf = calloc(w->ncpus, sizeof(struct pg_hist));
	w->skel = uwatch_bpf__open();
	if (!w->buf || !w->skel) {
		e = -errno ? -errno : -ENOMEM;
		snprintf(err, errlen, "cannot open BPF skeleton: %s", strerror(-e));
		goto fail;
	}
	for (int i = 0; i < o->nfuncs; i++)
		w->skel->rodata->err_mode[i] = o->err_modes ? (__u8)o->err_modes[i] : PG_ERR_NONE;
	e = uwatch_bpf__load(w->skel);
	if (e) {
		snprintf(err, errlen, "cannot load BPF programs: %s%s", strerror(-e),
			 e == -EPERM ? " -- run as root (CAP_BPF and CAP_PERFMON)" : "");
		goto fail;
	}
	for (int i = 0; i < o->nfuncs; i++) {
		e = uwatch__attach_func(w, i, &o->funcs[i], err, errlen);
		if (e)
			goto fail;
	}
	w->nfuncs = o->nfuncs;
	return w;
fail:
	uwatch__free(w);
	errno = -e;
	return NULL;
}

int uwatch__read(struct uwatch *w, int fn, int slot, struct pg_func_stats *st, struct pg_hist *h)
{
	__u32 key = (__u32)(fn * PG_GEN_SLOTS + (slot & (PG_GEN_SLOTS - 1)));

	if (st) {
		struct pg_func_stats *v = w->buf;

		memset(st, 0, sizeof(*st));
		if (bpf_map__lookup_elem(w->skel->maps.stats, &key, sizeof(key), v,
					 sizeof(*v) * w->ncpus, 0))
			return -errno;
		for (int c = 0; c < w->ncpus; c++) {
			st->calls += v[c].calls;
			st->exits += v[c].exits;
			st->errors += v[c].errors;
			st->overflow += v[c].overflow;
			st->lost += v[c].lost;
			st->sum_ns += v[c].sum_ns;
			if (v[c].max_ns > st->max_ns)
				st->max_ns = v[c].max_ns;
		}
	}
	if (h) {
		struct pg_hist *v = w->buf;

		memset(h, 0, sizeof(*h));
		if (bpf_map__lookup_elem(w->skel->maps.hists, &key, sizeof(key), v,
					 sizeof(*v) * w->ncpus, 0))
			return -errno;
		for (int c = 0; c < w->ncpus; c++)
			for (unsigned int b = 0; b < PG_HIST_BUCKETS; b++)
				h->slots[b] += v[c].slots[b];
	}
	return 0;
}

int uwatch__inflight(struct uwatch *w, int fn, struct pg_inflight *out)
{
	__u32 key = (__u32)fn;

	if (bpf_map__lookup_elem(w->skel->maps.inflight, &key, sizeof(key), out, sizeof(*out), 0))
		return -errno;
	return 0;
}

uint32_t uwatch__generation(const struct uwatch *w)
{
	return w->skel->bss->generation;
}

int uwatch__bump_generation(struct uwatch *w)
{
	uint32_t next = w->skel->bss->generation + 1;
	__u32 slot = next & (PG_GEN_SLOTS - 1);
	void *zero = calloc(w->ncpus, sizeof(struct pg_hist));

	if (!zero)
		return -ENOMEM;
	/* clear the slot the new generation will fill, before any call can use it */
	for (int fn = 0; fn < w->nfuncs; fn++) {
		__u32 key = fn * PG_GEN_SLOTS + slot;

		bpf_map__update_elem(w->skel->maps.stats, &key, sizeof(key), zero,
				     sizeof(struct pg_func_stats) * w->ncpus, 0);
		bpf_map__update_elem(w->skel->maps.hists, &key, sizeof(key), zero,
				     sizeof(struct pg_hist) * w->ncpus, 0);
	}
	free(zero);
	__atomic_store_n(&w->skel->bss->generation, next, __ATOMIC_SEQ_CST);
	return 0;
}

size_t uwatch__map_bytes(const struct uwatch *w)
{
	size_t n = 0;

	n += (size_t)PG_MAX_FUNCS * PG_GEN_SLOTS * sizeof(struct pg_func_stats) * w->ncpus;
	n += (size_t)PG_MAX_FUNCS * PG_GEN_SLOTS * sizeof(struct pg_hist) * w->ncpus;
	n += (size_t)PG_MAX_FUNCS * sizeof(struct pg_inflight);
	/* task storage: one pg_nest per thread that has called a target */
	return n;
}
