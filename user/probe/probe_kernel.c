// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The probe engine's kernel _impl: bpf/kwatch.bpf.c, fentry/fexit on each
 * function, or kprobe/kretprobe when fentry cannot be used (no BTF for the
 * function, a module function, or a function a livepatch already
 * patches), for all functions alike.  probe__how() says which.
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "probe/probe_impl.h"
#include "kwatch.skel.h"

struct kernel_state {
	struct kwatch_bpf *skel;
	bool kprobe;			/* else fentry */
	struct bpf_program *pe, *px;	/* the loaded entry and exit programs */
	struct btf *btf;		/* vmlinux BTF, fentry only */
	struct bpf_link *links[PG_MAX_FUNCS][2];	/* kprobes: entry, exit */
	int prog_fd[PG_MAX_FUNCS][2];	/* fentry: a copy of each program per function */
	int link_fd[PG_MAX_FUNCS][2];
};

static bool is_vmlinux(const struct probe_func *f)
{
	return !f->module[0] || !strcmp(f->module, "vmlinux");
}

static void kernel_detach(struct probe *p, int fn)
{
	struct kernel_state *s = p->priv;

	pgmaps_arm(&p->maps, fn, false);
	for (int k = 0; k < 2; k++) {
		bpf_link__destroy(s->links[fn][k]);
		s->links[fn][k] = NULL;
		if (s->link_fd[fn][k] >= 0)
			close(s->link_fd[fn][k]);
		if (s->prog_fd[fn][k] >= 0)
			close(s->prog_fd[fn][k]);
		s->link_fd[fn][k] = s->prog_fd[fn][k] = -1;
	}
}

/*
 * Load a copy of the (loaded) fentry/fexit program @tmpl bound to the
 * function with BTF id @btf_id, and link it with @cookie.  A trampoline
 * program is verified against one function, hence one copy per function;
 * the copy shares the maps (their fds are in the loaded instructions).
 */
static int fentry_clone(struct kernel_state *s, struct bpf_program *tmpl, enum bpf_attach_type type,
			int btf_id, int fn, int k)
{
	LIBBPF_OPTS(bpf_prog_load_opts, po, .expected_attach_type = type, .attach_btf_id = btf_id);
	LIBBPF_OPTS(bpf_link_create_opts, lo, .tracing.cookie = (__u64)fn);
	int fd, lfd;

	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, bpf_program__name(tmpl), "Dual BSD/GPL",
			   bpf_program__insns(tmpl), bpf_program__insn_cnt(tmpl), &po);
	if (fd < 0)
		return -errno;
	s->prog_fd[fn][k] = fd;
	lfd = bpf_link_create(fd, 0, type, &lo);
	if (lfd < 0)
		return -errno;
	s->link_fd[fn][k] = lfd;
	return 0;
}

static int kernel_attach(struct probe *p, int fn, const struct probe_func *f, char *err,
			 size_t errlen)
{
	struct kernel_state *s = p->priv;
	const char *name = f->sym.name;
	char sym[200];
	int e = 0, id = 0;

	if (!s->kprobe) {
		id = btf__find_by_name_kind(s->btf, name, BTF_KIND_FUNC);
		if (id < 0) {
			snprintf(err, errlen, "no BTF for %s", name);
			return -ENOENT;
		}
	}
	/* "mod:sym" pins a module's function, as the kprobe interface spells it */
	if (is_vmlinux(f))
		snprintf(sym, sizeof(sym), "%s", name);
	else
		snprintf(sym, sizeof(sym), "%s:%s", f->module, name);
	/*
	 * The return probe first, so that a call which begins between the two
	 * attaches cannot leave in-flight one too high.
	 */
	for (int k = 1; k >= 0 && !e; k--) {
		if (s->kprobe) {
			LIBBPF_OPTS(bpf_kprobe_opts, ko, .bpf_cookie = (__u64)fn, .retprobe = k == 1);

			s->links[fn][k] = bpf_program__attach_kprobe_opts(k ? s->px : s->pe, sym, &ko);
			if (!s->links[fn][k])
				e = -errno;
		} else {
			e = fentry_clone(s, k ? s->px : s->pe, k ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY,
					 id, fn, k);
		}
		if (e)
			snprintf(err, errlen, "cannot attach %s to %s: %s",
				 s->kprobe ? (k ? "kretprobe" : "kprobe") : (k ? "fexit" : "fentry"),
				 sym, strerror(-e));
	}
	if (e)
		kernel_detach(p, fn);
	else
		pgmaps_arm(&p->maps, fn, true);
	return e;
}

static void kernel_unload(struct probe *p)
{
	struct kernel_state *s = p->priv;

	for (int i = 0; i < PG_MAX_FUNCS; i++)
		kernel_detach(p, i);
	btf__free(s->btf);
	s->btf = NULL;
	kwatch_bpf__destroy(s->skel);
	s->skel = NULL;
	p->maps.armed = NULL;
}

/* Load the programs of one kind and attach every function; nothing is left on failure. */
static int kernel_try(struct probe *p, const struct probe_opts *o, bool kprobe, char *err,
		      size_t errlen)
{
	struct kernel_state *s = p->priv;
	struct bpf_program *all[8];
	int e = 0, n = 0;

	s->kprobe = kprobe;
	s->skel = kwatch_bpf__open();
	if (!s->skel) {
		e = -errno;
		snprintf(err, errlen, "cannot open BPF skeleton: %s", strerror(-e));
		return e;
	}
	for (int i = 0; i < o->nfuncs; i++)
		s->skel->rodata->err_mode[i] = o->err_modes ? (__u8)o->err_modes[i] : PG_ERR_NONE;
	if (!kprobe) {
		s->pe = o->empty ? s->skel->progs.pg_empty_fentry : s->skel->progs.pg_fentry;
		s->px = o->empty ? s->skel->progs.pg_empty_fexit : s->skel->progs.pg_fexit;
	} else {
		s->pe = o->empty ? s->skel->progs.pg_empty_kprobe : s->skel->progs.pg_kprobe;
		s->px = o->empty ? s->skel->progs.pg_empty_kretprobe : s->skel->progs.pg_kretprobe;
	}
	all[n++] = s->skel->progs.pg_fentry;
	all[n++] = s->skel->progs.pg_fexit;
	all[n++] = s->skel->progs.pg_kprobe;
	all[n++] = s->skel->progs.pg_kretprobe;
	all[n++] = s->skel->progs.pg_empty_fentry;
	all[n++] = s->skel->progs.pg_empty_fexit;
	all[n++] = s->skel->progs.pg_empty_kprobe;
	all[n++] = s->skel->progs.pg_empty_kretprobe;
	for (int i = 0; i < n; i++)
		bpf_program__set_autoload(all[i], all[i] == s->pe || all[i] == s->px);
	if (!kprobe) {
		for (int i = 0; i < o->nfuncs; i++)
			if (!is_vmlinux(&o->funcs[i])) {
				snprintf(err, errlen, "fentry on module functions (%s [%s]) is not "
					 "supported", o->funcs[i].sym.name, o->funcs[i].module);
				e = -EOPNOTSUPP;
				goto cleanup;
			}
		/* the loaded programs are templates: each function gets a copy (fentry_clone) */
		if ((e = bpf_program__set_attach_target(s->pe, 0, o->funcs[0].sym.name)) ||
		    (e = bpf_program__set_attach_target(s->px, 0, o->funcs[0].sym.name))) {
			snprintf(err, errlen, "no BTF for %s: %s", o->funcs[0].sym.name, strerror(-e));
			goto cleanup;
		}
	}
	if ((e = kwatch_bpf__load(s->skel))) {
		snprintf(err, errlen, "cannot load the %s programs: %s%s", kprobe ? "kprobe" : "fentry",
			 strerror(-e), e == -EPERM ? " -- run as root (CAP_BPF and CAP_PERFMON)" : "");
		goto cleanup;
	}
	if (!kprobe) {
		s->btf = btf__load_vmlinux_btf();
		if (!s->btf) {
			e = -errno;
			snprintf(err, errlen, "cannot read the kernel's BTF: %s", strerror(-e));
			goto cleanup;
		}
	}
	p->maps.armed = &s->skel->bss->armed;
	for (int i = 0; i < o->nfuncs && !e; i++)
		e = kernel_attach(p, i, &o->funcs[i], err, errlen);
	if (e)
		goto cleanup;
	p->maps.stats = s->skel->maps.stats;
	p->maps.hists = s->skel->maps.hists;
	p->maps.inflight = s->skel->maps.inflight;
	p->maps.generation = &s->skel->bss->generation;
cleanup:
	if (e)
		kernel_unload(p);
	return e;
}

/*
 * The livepatch that currently patches @f, into @patch; false when none.
 * (sysfs: /sys/kernel/livepatch/PATCH/OBJECT/FUNC,SYMPOS)
 */
/* Is @module's (NULL: vmlinux) @name redirected by a livepatch?  Its name in @patch. */
static bool livepatched(const char *module, const char *name, char *patch, size_t len)
{
	char pat[512];
	glob_t g;
	bool hit;

	snprintf(pat, sizeof(pat), "/sys/kernel/livepatch/*/%s/%s,*",
		 module && module[0] ? module : "vmlinux", name);
	if (glob(pat, 0, NULL, &g))
		return false;
	hit = g.gl_pathc > 0;
	if (hit) {
		const char *q = g.gl_pathv[0] + strlen("/sys/kernel/livepatch/");

		snprintf(patch, len, "%.*s", (int)strcspn(q, "/"), q);
	}
	globfree(&g);
	return hit;
}

int probe__kernel_fentry_check(const char *object, const char *name, unsigned long sympos,
			       char *why, size_t whylen)
{
	char patch[256];
	struct btf *btf;
	int id;

	if (object && object[0] && strcmp(object, "vmlinux")) {
		snprintf(why, whylen, "a module function (%s)", object);
		return -EOPNOTSUPP;
	}
	if (sympos) {
		/* BTF names one of the functions of that name, maybe another one */
		snprintf(why, whylen, "its name is not unique (sympos %lu)", sympos);
		return -EOPNOTSUPP;
	}
	if (livepatched(object, name, patch, sizeof(patch))) {
		snprintf(why, whylen, "livepatched by %s: a trampoline on a patched function is "
			 "not safe", patch);
		return -EOPNOTSUPP;
	}
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		snprintf(why, whylen, "cannot read the kernel's BTF: %s", strerror(errno));
		return -EOPNOTSUPP;
	}
	id = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
	btf__free(btf);
	if (id < 0) {
		snprintf(why, whylen, "no BTF for it");
		return -EOPNOTSUPP;
	}
	return 0;
}

static void kernel_close(struct probe *p)
{
	if (!p->priv)
		return;
	kernel_unload(p);
	free(p->priv);
	p->priv = NULL;
}

static int kernel_open(struct probe *p, const struct probe_opts *o, char *err, size_t errlen)
{
	struct kernel_state *s;
	char why[512] = "", patch[256];
	int e;

	s = p->priv = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(s->prog_fd, -1, sizeof(s->prog_fd));
	memset(s->link_fd, -1, sizeof(s->link_fd));
	if (o->mode == PROBE_KPROBE_ONLY)
		snprintf(why, sizeof(why), "kprobes asked for");
	/*
	 * A trampoline attached to a function that a livepatch already
	 * redirects trips ftrace (WARN in arch_ftrace_ops_list_func, then an
	 * oops when the patch is removed, seen on 6.1): kprobes share the site
	 * safely.  Attaching before the patch goes in is fine.
	 */
	for (int i = 0; i < o->nfuncs && !why[0]; i++)
		if (livepatched(o->funcs[i].module, o->funcs[i].sym.name, patch, sizeof(patch)))
			snprintf(why, sizeof(why), "%s is livepatched by %s; a trampoline on a "
				 "patched function is not safe", o->funcs[i].sym.name, patch);
	if (!why[0]) {
		e = kernel_try(p, o, false, err, errlen);
		if (!e)
			return 0;
		snprintf(why, sizeof(why), "%s", err);
	}
	if (o->mode == PROBE_FENTRY_ONLY) {
		/* no kprobe fallback: say why fentry could not be used */
		snprintf(err, errlen, "fentry only, and %s", why);
		kernel_close(p);
		return -EOPNOTSUPP;
	}
	e = kernel_try(p, o, true, err, errlen);
	if (e) {
		size_t l = strlen(err);

		if (o->mode != PROBE_KPROBE_ONLY)
			snprintf(err + l, errlen - l, "; fentry failed first: %s", why);
		kernel_close(p);
		return e;
	}
	if (o->mode != PROBE_KPROBE_ONLY)
		snprintf(p->note, sizeof(p->note), "not using fentry (%s); using kprobe/kretprobe", why);
	return 0;
}

static const char *kernel_how(const struct probe *p, int fn)
{
	const struct kernel_state *s = p->priv;

	(void)fn;
	return s->kprobe ? "kprobe" : "fentry";
}

const struct probe_impl probe_kernel_impl = {
	.open = kernel_open,
	.attach = kernel_attach,
	.detach = kernel_detach,
	.how = kernel_how,
	.close = kernel_close,
};
