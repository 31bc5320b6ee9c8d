/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What this kernel offers the probe engine, found at run time without
 * attaching anything: file checks under /sys, BTF type lookups in the
 * kernel's own BTF, and libbpf's load-only feature probes.  Used by
 * `patchgate --version` and `patchgate doctor`.
 */
#ifndef PG_PROBE_FEATURES_H
#define PG_PROBE_FEATURES_H

#include <stddef.h>

enum pg_feat {
	PG_FEAT_BTF,		/* /sys/kernel/btf/vmlinux is readable */
	PG_FEAT_LIVEPATCH,	/* /sys/kernel/livepatch exists */
	PG_FEAT_FENTRY,		/* BTF, and a BPF_PROG_TYPE_TRACING (fentry) load probe passes */
	PG_FEAT_KPROBE,		/* the kprobe perf PMU or tracefs kprobe_events */
	PG_FEAT_UPROBE,		/* the uprobe perf PMU or tracefs uprobe_events */
	PG_FEAT_UPROBE_MULTI,	/* BTF enum value BPF_TRACE_UPROBE_MULTI (6.6+) */
	PG_FEAT_UPROBE_SESSION,	/* BTF enum value BPF_TRACE_UPROBE_SESSION (6.13+) */
	PG_FEAT_UPROBE_NOP5,	/* BTF struct uprobe_trampoline: x86-64 nop5 sites optimised (6.18+) */
	PG_FEAT__COUNT,
};

/* A feature's state: PG_FEAT_YES, PG_FEAT_NO, or PG_FEAT_UNKNOWN when it could not be told. */
#define PG_FEAT_NO	0
#define PG_FEAT_YES	1
#define PG_FEAT_UNKNOWN	(-1)

struct pg_feature {
	const char *name;	/* the JSON key: "btf", "uprobe_multi", ... */
	int state;		/* PG_FEAT_YES, PG_FEAT_NO, PG_FEAT_UNKNOWN */
	char how[160];		/* how it was told, or why it could not be */
};

/* Probe every feature into @out (indexed by enum pg_feature).  Never fails. */
void pg_features_probe(struct pg_feature out[PG_FEAT__COUNT]);

/* "1.1": the libbpf the binary was built with (LIBBPF_MAJOR/MINOR_VERSION). */
const char *pg_libbpf_build_version(void);
/* "1.1" into @buf: the libbpf it runs with now (libbpf_major/minor_version()). */
void pg_libbpf_runtime_version(char *buf, size_t len);

#endif
