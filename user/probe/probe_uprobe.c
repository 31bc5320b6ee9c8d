// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The probe engine's uprobe _impl: bpf/uwatch.bpf.c, a uprobe and a
 * uretprobe per function of one process (attach cookie = function id).
 * A site is "nop5" when the probe sits on a 5-byte nop (this kernel
 * optimises it to ~0.2 us) and "trap" otherwise (~14 us).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "probe/probe_impl.h"
#include "uwatch.skel.h"

struct uprobe_state {
	struct uwatch_bpf *skel;
	struct bpf_link *entry[PG_MAX_FUNCS];
	struct bpf_link *exit[PG_MAX_FUNCS];
	bool nop5[PG_MAX_FUNCS];
};

static void uprobe_detach(struct probe *p, int fn)
{
	struct uprobe_state *s = p->priv;

	pgmaps_arm(&p->maps, fn, false);
	bpf_link__destroy(s->entry[fn]);
	bpf_link__destroy(s->exit[fn]);
	s->entry[fn] = s->exit[fn] = NULL;
}

static int uprobe_attach(struct probe *p, int fn, const struct probe_func *f, char *err,
			 size_t errlen)
{
	LIBBPF_OPTS(bpf_uprobe_opts, uo);
	struct uprobe_state *s = p->priv;
	const struct sym_func *at = &f->sym;
	struct bpf_program *pe, *px;
	int pid = probe_target__pid(p->target), e;

	pe = p->empty ? s->skel->progs.pg_empty_entry : s->skel->progs.pg_entry;
	px = p->empty ? s->skel->progs.pg_empty_exit : s->skel->progs.pg_exit;
	/*
	 * Entry probe first.  (Return probe first, the order the kernel engine
	 * uses, made an entry probe attached after the return probe at a
	 * patch's new function (a nop5 stub in a mapping injected into a busy
	 * target) never fire on 6.18: the gate saw 0 post-patch calls.)  The
	 * entries count only once both are on (pgmaps_arm), so a call that
	 * begins in between leaves no frame behind.
	 */
	uo.bpf_cookie = (__u64)fn;
	uo.retprobe = false;
	s->entry[fn] = bpf_program__attach_uprobe_opts(pe, pid, at->open_path, at->probe_off, &uo);
	if (!s->entry[fn]) {
		e = -errno;
		snprintf(err, errlen, "cannot attach uprobe to %s at %s+0x%llx: %s", at->name, at->object,
			 (unsigned long long)at->probe_off, strerror(-e));
		return e;
	}
	uo.retprobe = true;
	s->exit[fn] = bpf_program__attach_uprobe_opts(px, pid, at->open_path, at->probe_off, &uo);
	if (!s->exit[fn]) {
		e = -errno;
		bpf_link__destroy(s->entry[fn]);
		s->entry[fn] = NULL;
		snprintf(err, errlen, "cannot attach uretprobe to %s: %s", at->name, strerror(-e));
		return e;
	}
	s->nop5[fn] = at->nop5;
	pgmaps_arm(&p->maps, fn, true);
	return 0;
}

static void uprobe_close(struct probe *p)
{
	struct uprobe_state *s = p->priv;

	if (!s)
		return;
	for (int i = 0; i < PG_MAX_FUNCS; i++)
		uprobe_detach(p, i);
	uwatch_bpf__destroy(s->skel);
	free(s);
	p->priv = NULL;
	p->maps.armed = NULL;
}

static int uprobe_open(struct probe *p, const struct probe_opts *o, char *err, size_t errlen)
{
	struct uprobe_state *s;
	int e;

	s = p->priv = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->skel = uwatch_bpf__open();
	if (!s->skel) {
		e = errno ? -errno : -ENOMEM;
		snprintf(err, errlen, "cannot open BPF skeleton: %s", strerror(-e));
		goto fail;
	}
	for (int i = 0; i < o->nfuncs; i++)
		s->skel->rodata->err_mode[i] = o->err_modes ? (__u8)o->err_modes[i] : PG_ERR_NONE;
	e = uwatch_bpf__load(s->skel);
	if (e) {
		snprintf(err, errlen, "cannot load BPF programs: %s%s", strerror(-e),
			 e == -EPERM ? " -- run as root (CAP_BPF and CAP_PERFMON)" : "");
		goto fail;
	}
	p->maps.armed = &s->skel->bss->armed;
	for (int i = 0; i < o->nfuncs; i++) {
		e = uprobe_attach(p, i, &o->funcs[i], err, errlen);
		if (e)
			goto fail;
	}
	p->maps.stats = s->skel->maps.stats;
	p->maps.hists = s->skel->maps.hists;
	p->maps.inflight = s->skel->maps.inflight;
	p->maps.generation = &s->skel->bss->generation;
	return 0;
fail:
	uprobe_close(p);
	return e;
}

static const char *uprobe_how(const struct probe *p, int fn)
{
	const struct uprobe_state *s = p->priv;

	return s->nop5[fn] ? "nop5" : "trap";
}

const struct probe_impl probe_uprobe_impl = {
	.open = uprobe_open,
	.attach = uprobe_attach,
	.detach = uprobe_detach,
	.how = uprobe_how,
	.close = uprobe_close,
};
