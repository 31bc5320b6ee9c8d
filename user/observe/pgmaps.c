// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "observe/pgmaps.h"

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

	if (st) {
		struct pg_func_stats *v = m->buf;

		memset(st, 0, sizeof(*st));
		if (bpf_map__lookup_elem(m->stats, &key, sizeof(key), v, sizeof(*v) * m->ncpus, 0))
			return -errno;
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
		if (bpf_map__lookup_elem(m->hists, &key, sizeof(key), v, sizeof(*v) * m->ncpus, 0))
			return -errno;
		for (int c = 0; c < m->ncpus; c++)
			for (unsigned int b = 0; b < PG_HIST_BUCKETS; b++)
				h->slots[b] += v[c].slots[b];
	}
	return 0;
}

int pgmaps_inflight(struct pg_maps *m, int fn, struct pg_inflight *out)
{
	__u32 key = (__u32)fn;

	if (bpf_map__lookup_elem(m->inflight, &key, sizeof(key), out, sizeof(*out), 0))
		return -errno;
	return 0;
}

uint32_t pgmaps_generation(const struct pg_maps *m)
{
	return *m->generation;
}

int pgmaps_bump_generation(struct pg_maps *m)
{
	uint32_t next = *m->generation + 1;
	__u32 slot = next & (PG_GEN_SLOTS - 1);
	void *zero = calloc(m->ncpus, sizeof(struct pg_hist));

	if (!zero)
		return -ENOMEM;
	/* clear the slot the new generation will fill, before any call can use it */
	for (int fn = 0; fn < m->nfuncs; fn++) {
		__u32 key = fn * PG_GEN_SLOTS + slot;

		bpf_map__update_elem(m->stats, &key, sizeof(key), zero,
				     sizeof(struct pg_func_stats) * m->ncpus, 0);
		bpf_map__update_elem(m->hists, &key, sizeof(key), zero,
				     sizeof(struct pg_hist) * m->ncpus, 0);
	}
	free(zero);
	__atomic_store_n(m->generation, next, __ATOMIC_SEQ_CST);
	return 0;
}
