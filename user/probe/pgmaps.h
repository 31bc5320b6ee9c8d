/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading the counter maps that every probe engine _impl shares
 * (bpf/uwatch.bpf.c and bpf/kwatch.bpf.c have the same stats/hists/inflight
 * maps and the same generation variable, laid out by
 * include/patchgate/abi.h).  The map calls are libbpf's, which a unit test
 * replaces to make them fail (tests/unit/test_pgmaps.c).
 */
#ifndef PG_OBSERVE_PGMAPS_H
#define PG_OBSERVE_PGMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include <patchgate/abi.h>

struct pg_maps {
	struct bpf_map *stats;		/* per-CPU pg_func_stats per (function, slot) */
	struct bpf_map *hists;		/* per-CPU pg_hist per (function, slot) */
	struct bpf_map *inflight;	/* pg_inflight per function */
	volatile uint32_t *generation;	/* in the mmaped .bss */
	volatile __u64 *armed;		/* in the mmaped .bss: bit fn counts fn's entries */
	int ncpus;
	int nfuncs;
	void *buf;			/* ncpus * sizeof(struct pg_hist) */
};

/* Allocate the per-CPU read buffer; -ENOMEM or a negative errno from libbpf. */
int pgmaps_init(struct pg_maps *m);
void pgmaps_fini(struct pg_maps *m);
/* Sum over CPUs of function @fn's counters and histogram in generation slot @slot. */
int pgmaps_read(struct pg_maps *m, int fn, int slot, struct pg_func_stats *st, struct pg_hist *h);
int pgmaps_inflight(struct pg_maps *m, int fn, struct pg_inflight *out);
uint32_t pgmaps_generation(const struct pg_maps *m);
/*
 * Count function @fn's entries from now on (@on), or stop before its
 * probes come off.  An engine arms a function once both its probes are
 * attached (bpf/count.bpf.h, armed).
 */
void pgmaps_arm(struct pg_maps *m, int fn, bool on);
/* Function @fn's counters and histogram in the current generation, and its in-flight. */
int pgmaps_snapshot(struct pg_maps *m, int fn, struct pg_func_stats *st, struct pg_inflight *inf,
		    struct pg_hist *h);
/*
 * Clear the next generation's slot for every function, then switch to it.
 * A slot that cannot be cleared is an error (negative errno), and the
 * generation stays.
 */
int pgmaps_bump_generation(struct pg_maps *m);

#endif
