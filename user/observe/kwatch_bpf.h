/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel-side probe engine: loads bpf/kwatch.bpf.c, attaches
 * fentry/fexit to each target function (kprobe/kretprobe when fentry
 * cannot load), and reads the counters back.  Used by `watch --kernel`,
 * the gate, and the benchmarks.
 */
#ifndef PG_OBSERVE_KWATCH_BPF_H
#define PG_OBSERVE_KWATCH_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <patchgate/abi.h>

struct kwatch;

/* A kernel function: name, and its module ("" or "vmlinux" for the core kernel). */
struct kwatch_func {
	char name[128];
	char module[64];
};

enum kwatch_probe {
	KWATCH_AUTO = 0,	/* fentry/fexit, else kprobes */
	KWATCH_FENTRY,		/* fentry/fexit only */
	KWATCH_KPROBE,		/* kprobe/kretprobe only */
};

struct kwatch_opts {
	int nfuncs;				/* <= PG_MAX_FUNCS */
	const struct kwatch_func *funcs;	/* index = function id */
	const int *err_modes;			/* enum pg_err_mode per function, or NULL */
	bool empty;				/* empty programs: the benchmark floor */
	enum kwatch_probe probe;
};

/*
 * Open, load and attach every function with one kind of probe.  On
 * KWATCH_AUTO a failure of fentry (load or attach, any function), or a
 * target that a livepatch already patches, falls back to kprobes for all,
 * and @why_fallback (if not NULL) gets the reason.
 * NULL on failure with a message in @err and errno set.
 */
struct kwatch *kwatch__open(const struct kwatch_opts *o, char *err, size_t errlen,
			    char *why_fallback, size_t whylen);
void kwatch__free(struct kwatch *w);
/* "fentry" or "kprobe": what is attached. */
const char *kwatch__probe(const struct kwatch *w);

/* Sum over CPUs of function @fn's counters and histogram in generation slot @slot. */
int kwatch__read(struct kwatch *w, int fn, int slot, struct pg_func_stats *st, struct pg_hist *h);
int kwatch__inflight(struct kwatch *w, int fn, struct pg_inflight *out);
/* The current generation; bumping it clears the new slot's data first. */
uint32_t kwatch__generation(const struct kwatch *w);
int kwatch__bump_generation(struct kwatch *w);

#endif
