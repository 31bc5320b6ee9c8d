// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "observe/uwatch_bpf.h"
#include "observe/pgmaps.h"
#include "uwatch.skel.h"

struct uwatch {
	struct uwatch_bpf *skel;
	struct bpf_link *entry[PG_MAX_FUNCS];
	struct bpf_link *exit[PG_MAX_FUNCS];
	int nfuncs;
	int pid;
	bool empty;
	int ncpus;
	struct pg_maps maps;	/* the shared counter maps, read by observe/pgmaps.c */
};

void uwatch__free(struct uwatch *w)
{
	if (!w)
		return;
	for (int i = 0; i < w->nfuncs; i++)
		uwatch__detach_func(w, i);
	uwatch_bpf__destroy(w->skel);
	pgmaps_fini(&w->maps);
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
	/*
	 * Entry probe first.  (Return probe first would keep a call that begins
	 * between the two attaches from leaving in-flight one too high, but on
	 * 6.18, at a patch's new function (a nop5 stub in a mapping injected
	 * into a busy target), an entry probe attached after the return probe
	 * never fired: the gate saw 0 post-patch calls.  Not understood yet; a
	 * call caught in between is rare and only skews the in-flight gauge.)
	 */
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
	e = pgmaps_init(&w->maps);
	if (e) {
		snprintf(err, errlen, "cannot set up the map reader: %s", strerror(-e));
		goto fail;
	}
	w->ncpus = w->maps.ncpus;
	w->skel = uwatch_bpf__open();
	if (!w->skel) {
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
	w->maps.stats = w->skel->maps.stats;
	w->maps.hists = w->skel->maps.hists;
	w->maps.inflight = w->skel->maps.inflight;
	w->maps.generation = &w->skel->bss->generation;
	w->maps.nfuncs = o->nfuncs;
	return w;
fail:
	uwatch__free(w);
	errno = -e;
	return NULL;
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

/* The counter maps are read the same way for both engines: observe/pgmaps.c. */
int uwatch__read(struct uwatch *w, int fn, int slot, struct pg_func_stats *st, struct pg_hist *h)
{
	return pgmaps_read(&w->maps, fn, slot, st, h);
}

int uwatch__inflight(struct uwatch *w, int fn, struct pg_inflight *out)
{
	return pgmaps_inflight(&w->maps, fn, out);
}

uint32_t uwatch__generation(const struct uwatch *w)
{
	return pgmaps_generation(&w->maps);
}

int uwatch__bump_generation(struct uwatch *w)
{
	return pgmaps_bump_generation(&w->maps);
}
