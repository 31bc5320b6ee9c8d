// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "observe/kwatch_bpf.h"
#include "observe/pgmaps.h"
#include "kwatch.skel.h"

struct kwatch {
	struct kwatch_bpf *skel;
	struct bpf_link *links[2 * PG_MAX_FUNCS];	/* entry, exit per function */
	int clone_fds[2 * PG_MAX_FUNCS];		/* fentry clones of functions 1.. */
	int clone_links[2 * PG_MAX_FUNCS];		/* their link fds */
	int nlinks;
	int nfuncs;
	enum kwatch_probe probe;
	int ncpus;
	struct pg_maps maps;	/* the shared counter maps, read by observe/pgmaps.c */
};

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && getenv("PATCHGATE_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static void kwatch_detach(struct kwatch *w)
{
	for (int i = 0; i < w->nlinks; i++)
		bpf_link__destroy(w->links[i]);
	for (int i = 0; i < 2 * PG_MAX_FUNCS; i++) {
		if (w->clone_links[i] > 0)
			close(w->clone_links[i]);
		if (w->clone_fds[i] > 0)
			close(w->clone_fds[i]);
	}
	memset(w->clone_fds, 0, sizeof(w->clone_fds));
	memset(w->clone_links, 0, sizeof(w->clone_links));
	w->nlinks = 0;
	kwatch_bpf__destroy(w->skel);
	w->skel = NULL;
}

void kwatch__free(struct kwatch *w)
{
	if (!w)
		return;
	kwatch_detach(w);
	pgmaps_fini(&w->maps);
	free(w);
}

const char *kwatch__probe(const struct kwatch *w)
{
	return w->probe == KWATCH_FENTRY ? "fentry" : "kprobe";
}

static bool is_vmlinux(const struct kwatch_func *f)
{
	return !f->module[0] || !strcmp(f->module, "vmlinux");
}

/*
 * Load a copy of the (loaded) fentry/fexit program @tmpl bound to the
 * function with BTF id @btf_id, and link it with @cookie.  A trampoline
 * program is verified against one function, hence one copy per function;
 * the copy shares the maps (their fds are in the loaded instructions).
 */
static int kwatch_clone(struct kwatch *w, struct bpf_program *tmpl, enum bpf_attach_type type,
			int btf_id, __u64 cookie, int slot)
{
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = type, .attach_btf_id = btf_id);
	LIBBPF_OPTS(bpf_link_create_opts, lo, .tracing.cookie = cookie);
	int fd, lfd;

	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, bpf_program__name(tmpl), "Dual BSD/GPL",
			   bpf_program__insns(tmpl), bpf_program__insn_cnt(tmpl), &po);
	if (fd < 0)
		return -errno;
	w->clone_fds[slot] = fd;
	lfd = bpf_link_create(fd, 0, type, &lo);
	if (lfd < 0)
		return -errno;
	w->clone_links[slot] = lfd;
	return 0;
}

static int kwatch_try(struct kwatch *w, const struct kwatch_opts *o, enum kwatch_probe kind,
		      char *err, size_t errlen)
{
	struct bpf_program *pe, *px, *all[8];
	struct btf *btf = NULL;
	int e = 0, n = 0;

	w->skel = kwatch_bpf__open();
	if (!w->skel) {
		e = -errno;
		snprintf(err, errlen, "cannot open BPF skeleton: %s", strerror(-e));
		return e;
	}
	for (int i = 0; i < o->nfuncs; i++)
		w->skel->rodata->err_mode[i] = o->err_modes ? (__u8)o->err_modes[i] : PG_ERR_NONE;
	if (kind == KWATCH_FENTRY) {
		pe = o->empty ? w->skel->progs.pg_empty_fentry : w->skel->progs.pg_fentry;
		px = o->empty ? w->skel->progs.pg_empty_fexit : w->skel->progs.pg_fexit;
	} else {
		pe = o->empty ? w->skel->progs.pg_empty_kprobe : w->skel->progs.pg_kprobe;
		px = o->empty ? w->skel->progs.pg_empty_kretprobe : w->skel->progs.pg_kretprobe;
	}
	all[n++] = w->skel->progs.pg_fentry;
	all[n++] = w->skel->progs.pg_fexit;
	all[n++] = w->skel->progs.pg_kprobe;
	all[n++] = w->skel->progs.pg_kretprobe;
	all[n++] = w->skel->progs.pg_empty_fentry;
	all[n++] = w->skel->progs.pg_empty_fexit;
	all[n++] = w->skel->progs.pg_empty_kprobe;
	all[n++] = w->skel->progs.pg_empty_kretprobe;
	for (int i = 0; i < n; i++)
		bpf_program__set_autoload(all[i], all[i] == pe || all[i] == px);
	if (kind == KWATCH_FENTRY) {
		for (int i = 0; i < o->nfuncs; i++)
			if (!is_vmlinux(&o->funcs[i])) {
				snprintf(err, errlen, "fentry on module functions (%s [%s]) is not "
					 "supported", o->funcs[i].name, o->funcs[i].module);
				e = -EOPNOTSUPP;
				goto cleanup;
			}
		if ((e = bpf_program__set_attach_target(pe, 0, o->funcs[0].name)) ||
		    (e = bpf_program__set_attach_target(px, 0, o->funcs[0].name))) {
			snprintf(err, errlen, "no BTF for %s: %s", o->funcs[0].name, strerror(-e));
			goto cleanup;
		}
	}
	if ((e = kwatch_bpf__load(w->skel))) {
		snprintf(err, errlen, "cannot load the %s programs: %s%s", kind == KWATCH_FENTRY ?
			 "fentry" : "kprobe", strerror(-e),
			 e == -EPERM ? " -- run as root (CAP_BPF and CAP_PERFMON)" : "");
		goto cleanup;
	}
	if (kind == KWATCH_FENTRY) {
		btf = btf__load_vmlinux_btf();
		if (!btf) {
			e = -errno;
			snprintf(err, errlen, "cannot read the kernel's BTF: %s", strerror(-e));
			goto cleanup;
		}
	}
	for (int i = 0; i < o->nfuncs; i++) {
		const struct kwatch_func *f = &o->funcs[i];

		if (kind == KWATCH_KPROBE) {
			LIBBPF_OPTS(bpf_kprobe_opts, ko, .bpf_cookie = (__u64)i);
			char sym[200];

			/* "mod:sym" pins a module's function, as the kprobe interface spells it */
			if (is_vmlinux(f))
				snprintf(sym, sizeof(sym), "%s", f->name);
			else
				snprintf(sym, sizeof(sym), "%s:%s", f->module, f->name);
			for (int k = 1; k >= 0; k--) {	/* exit first: see uwatch__attach_func */
				ko.retprobe = k == 1;
				w->links[w->nlinks] = bpf_program__attach_kprobe_opts(k ? px : pe, sym, &ko);
				if (!w->links[w->nlinks]) {
					e = -errno;
					snprintf(err, errlen, "cannot attach %s to %s: %s",
						 k ? "kretprobe" : "kprobe", sym, strerror(-e));
					goto cleanup;
				}
				w->nlinks++;
			}
		} else if (i == 0) {
			LIBBPF_OPTS(bpf_trace_opts, to, .cookie = 0);

			for (int k = 1; k >= 0; k--) {	/* exit first: see uwatch__attach_func */
				w->links[w->nlinks] = bpf_program__attach_trace_opts(k ? px : pe, &to);
				if (!w->links[w->nlinks]) {
					e = -errno;
					snprintf(err, errlen, "cannot attach %s to %s: %s",
						 k ? "fexit" : "fentry", f->name, strerror(-e));
					goto cleanup;
				}
				w->nlinks++;
			}
		} else {
			int id = btf__find_by_name_kind(btf, f->name, BTF_KIND_FUNC);

			if (id < 0) {
				e = -ENOENT;
				snprintf(err, errlen, "no BTF for %s", f->name);
				goto cleanup;
			}
			for (int k = 1; k >= 0; k--) {	/* exit first: see uwatch__attach_func */
				e = kwatch_clone(w, k ? px : pe, k ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY,
						 id, (__u64)i, 2 * i + k);
				if (e) {
					snprintf(err, errlen, "cannot attach %s to %s: %s",
						 k ? "fexit" : "fentry", f->name, strerror(-e));
					goto cleanup;
				}
			}
		}
	}
	w->probe = kind;
	w->maps.stats = w->skel->maps.stats;
	w->maps.hists = w->skel->maps.hists;
	w->maps.inflight = w->skel->maps.inflight;
	w->maps.generation = &w->skel->bss->generation;
	w->maps.nfuncs = w->nfuncs;
cleanup:
	btf__free(btf);
	if (e)
		kwatch_detach(w);
	return e;
}

/*
 * The livepatch that currently patches @f, into @patch; false when none.
 * (sysfs: /sys/kernel/livepatch/PATCH/OBJECT/FUNC,SYMPOS)
 */
static bool kwatch_livepatched(const struct kwatch_func *f, char *patch, size_t len)
{
	char pat[512];
	glob_t g;
	bool hit;

	snprintf(pat, sizeof(pat), "/sys/kernel/livepatch/*/%s/%s,*",
		 is_vmlinux(f) ? "vmlinux" : f->module, f->name);
	if (glob(pat, 0, NULL, &g))
		return false;
	hit = g.gl_pathc > 0;
	if (hit) {
		const char *p = g.gl_pathv[0] + strlen("/sys/kernel/livepatch/");

		snprintf(patch, len, "%.*s", (int)strcspn(p, "/"), p);
	}
	globfree(&g);
	return hit;
}

struct kwatch *kwatch__open(const struct kwatch_opts *o, char *err, size_t errlen,
			    char *why_fallback, size_t whylen)
{
	struct kwatch *w = NULL;
	int e;

	libbpf_set_print(silent_print);
	if (why_fallback && whylen)
		why_fallback[0] = '\0';
	if (o->nfuncs <= 0 || o->nfuncs > PG_MAX_FUNCS) {
		snprintf(err, errlen, "between 1 and %d functions, not %d", PG_MAX_FUNCS, o->nfuncs);
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	w->nfuncs = o->nfuncs;
	e = pgmaps_init(&w->maps);
	if (e) {
		snprintf(err, errlen, "cannot set up the map reader: %s", strerror(-e));
		goto fail;
	}
	w->ncpus = w->maps.ncpus;
	if (o->probe == KWATCH_AUTO) {
		char patch[256];

		/*
		 * A trampoline attached to a function that a livepatch already
		 * redirects trips ftrace (WARN in arch_ftrace_ops_list_func, then
		 * an oops when the patch is removed, seen on 6.1): kprobes share
		 * the site safely.  Attaching before the patch goes in is fine.
		 */
		for (int i = 0; i < o->nfuncs; i++)
			if (kwatch_livepatched(&o->funcs[i], patch, sizeof(patch))) {
				if (why_fallback)
					snprintf(why_fallback, whylen, "%s is livepatched by %s; a "
						 "trampoline on a patched function is not safe",
						 o->funcs[i].name, patch);
				goto kprobe;
			}
	}
	if (o->probe != KWATCH_KPROBE) {
		e = kwatch_try(w, o, KWATCH_FENTRY, err, errlen);
		if (!e)
			return w;
		if (o->probe == KWATCH_FENTRY)
			goto fail;
		if (why_fallback)
			snprintf(why_fallback, whylen, "%s", err);
	}
kprobe:
	e = kwatch_try(w, o, KWATCH_KPROBE, err, errlen);
	if (!e)
		return w;
fail:
	kwatch__free(w);
	errno = -e;
	return NULL;
}

/* The counter maps are read the same way for both engines: observe/pgmaps.c. */
int kwatch__read(struct kwatch *w, int fn, int slot, struct pg_func_stats *st, struct pg_hist *h)
{
	return pgmaps_read(&w->maps, fn, slot, st, h);
}

int kwatch__inflight(struct kwatch *w, int fn, struct pg_inflight *out)
{
	return pgmaps_inflight(&w->maps, fn, out);
}

uint32_t kwatch__generation(const struct kwatch *w)
{
	return pgmaps_generation(&w->maps);
}

int kwatch__bump_generation(struct kwatch *w)
{
	return pgmaps_bump_generation(&w->maps);
}
