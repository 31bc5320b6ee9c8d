/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The process-side probe engine: loads bpf/uwatch.bpf.c, attaches a uprobe
 * and a uretprobe per target function, and reads the counters back.  Used
 * by `watch --pid`, by the gate, and by the benchmarks.
 */
#ifndef PG_OBSERVE_UWATCH_BPF_H
#define PG_OBSERVE_UWATCH_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <patchgate/abi.h>
#include "observe/symbols.h"

struct uwatch;

struct uwatch_opts {
	int pid;			/* only this process's calls count */
	int nfuncs;			/* <= PG_MAX_FUNCS */
	const struct sym_func *funcs;	/* where to attach, index = function id */
	const int *err_modes;		/* enum pg_err_mode per function, or NULL */
	bool empty;			/* attach the empty programs (benchmark floor) */
};

/* Open, load and attach.  NULL on failure with a message in @err. */
struct uwatch *uwatch__open(const struct uwatch_opts *o, char *err, size_t errlen);
void uwatch__free(struct uwatch *w);

/* Detach / re-attach one function's probes (a jump must not share bytes with a probe). */
int uwatch__detach_func(struct uwatch *w, int fn);
int uwatch__attach_func(struct uwatch *w, int fn, const struct sym_func *at, char *err, size_t errlen);

/* Sum over CPUs of function @fn's counters and histogram in generation slot @slot. */
int uwatch__read(struct uwatch *w, int fn, int slot, struct pg_func_stats *st, struct pg_hist *h);
int uwatch__inflight(struct uwatch *w, int fn, struct pg_inflight *out);

/* The current generation; bumping it clears the new slot's data first. */
uint32_t uwatch__generation(const struct uwatch *w);
int uwatch__bump_generation(struct uwatch *w);

/* Bytes of kernel memory held by the maps (for --verbose). */
size_t uwatch__map_bytes(const struct uwatch *w);

#endif
