// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "probe/pgmaps.h"

int pgmaps_init(struct pg_maps *m)
{
	m->ncpus = libbpf_num_possible_cpus();
	if (m->ncpus <= 0)
		return m->ncpus ? m->ncpus : -EINVAL;
	m->buf = calloc(m->ncpus, sizeof(struct pg_hist));
	return m->buf ? 0 : -ENOMEM;
}

void pgmaps_fini(struct pg_maps *m)
{
	free(m->buf);
	m->buf = NULL;
}

int pgmaps_read(struct pg_maps *m, int fn, int slot, struct pg_func_stats *st, struct pg_hist *h)
{
	__u32 key = (__u32)(fn * PG_GEN_SLOTS + (slot & (PG_GEN_SLOTS - 1)));
	int e;

	if (st) {
		struct pg_func_stats *v = m->buf;

		memset(st, 0, sizeof(*st));
		e = bpf_map__lookup_elem(m->stats, &key, sizeof(key), v, sizeof(*v) * m->ncpus, 0);
		if (e)
			return e;
		for (int c = 0; c < m->ncpus; c++) {
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
		struct pg_hist *v = m->buf;

		memset(h, 0, sizeof(*h));
		e = bpf_map__lookup_elem(m->hists, &key, sizeof(key), v, sizeof(*v) * m->ncpus, 0);
		if (e)
			return e;
		for (int c = 0; c < m->ncpus; c++)
			for (unsigned int b = 0; b < PG_HIST_BUCKETS; b++)
				h->slots[b] += v[c].slots[b];
	}
	return 0;
}

int pgmaps_inflight(struct pg_maps *m, int fn, struct pg_inflight *out)
{
	__u32 key = (__u32)fn;

	return bpf_map__lookup_elem(m->inflight, &key, sizeof(key), out, sizeof(*out), 0);
}

uint32_t pgmaps_generation(const struct pg_maps *m)
{
	return *m->generation;
}

int pgmaps_snapshot(struct pg_maps *m, int fn, struct pg_func_stats *st, struct pg_inflight *inf,
		    struct pg_hist *h)
{
	int e;

	e = pgmaps_read(m, fn, (int)(pgmaps_generation(m) & (PG_GEN_SLOTS - 1)), st, h);
	if (!e)
		e = pgmaps_inflight(m, fn, inf);
	return e;
}

void pgmaps_arm(struct pg_maps *m, int fn, bool on)
{
	__u64 bit = 1ULL << (fn & (PG_MAX_FUNCS - 1));

	if (!m->armed)
		return;
	if (on)
		__atomic_or_fetch(m->armed, bit, __ATOMIC_SEQ_CST);
	else
		__atomic_and_fetch(m->armed, ~bit, __ATOMIC_SEQ_CST);
}

int pgmaps_bump_generation(struct pg_maps *m)
{
	uint32_t next = *m->generation + 1;
	__u32 slot = next & (PG_GEN_SLOTS - 1);
	void *zero = calloc(m->ncpus, sizeof(struct pg_hist));
	int e = 0;

	if (!zero)
		return -ENOMEM;
	/*
	 * Clear the slot the new generation will fill, before any call can use
	 * it.  A slot left uncleared would add the generation before last to
	 * the new one, so a failure keeps the current generation.
	 */
	for (int fn = 0; fn < m->nfuncs && !e; fn++) {
		__u32 key = fn * PG_GEN_SLOTS + slot;

		e = bpf_map__update_elem(m->stats, &key, sizeof(key), zero,
					 sizeof(struct pg_func_stats) * m->ncpus, 0);
		if (!e)
			e = bpf_map__update_elem(m->hists, &key, sizeof(key), zero,
						 sizeof(struct pg_hist) * m->ncpus, 0);
	}
	free(zero);
	if (e)
		return e;
	__atomic_store_n(m->generation, next, __ATOMIC_SEQ_CST);
	return 0;
}
