// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The probe engine's map reader (user/probe/pgmaps.c) when the maps fail
 * it: a read that fails is an error, never a row of zeros, and a
 * generation whose slot cannot be cleared does not begin.  The source is
 * compiled in directly with libbpf's map calls replaced by the fakes
 * below, which can be told to fail for one map.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>
#include "../../user/probe/pgmaps.c"

#define NCPUS	2
#define NKEYS	(PG_MAX_FUNCS * PG_GEN_SLOTS)

/* Three distinct opaque handles; their addresses are all the fakes compare. */
static char stats_map, hists_map, inflight_map;

static struct fake {
	struct pg_func_stats stats[NKEYS][NCPUS];
	struct pg_hist hists[NKEYS][NCPUS];
	struct pg_inflight inflight[PG_MAX_FUNCS];
	const void *fail_map;	/* calls on this map fail ... */
	int fail_key;		/* ... for this key (-1: any) ... */
	int fail_err;		/* ... with this negative errno */
	int updates;
} fk;

int libbpf_num_possible_cpus(void)
{
	return NCPUS;
}

static int should_fail(const struct bpf_map *map, const void *key)
{
	if ((const void *)map != fk.fail_map)
		return 0;
	if (fk.fail_key >= 0 && *(const __u32 *)key != (__u32)fk.fail_key)
		return 0;
	return fk.fail_err;
}

int bpf_map__lookup_elem(const struct bpf_map *map, const void *key, size_t key_sz, void *value,
			 size_t value_sz, __u64 flags)
{
	__u32 k = *(const __u32 *)key;
	int e = should_fail(map, key);

	(void)key_sz;
	(void)flags;
	if (e)
		return e;
	if ((const void *)map == &stats_map)
		memcpy(value, fk.stats[k], value_sz);
	else if ((const void *)map == &hists_map)
		memcpy(value, fk.hists[k], value_sz);
	else
		memcpy(value, &fk.inflight[k], value_sz);
	return 0;
}

int bpf_map__update_elem(const struct bpf_map *map, const void *key, size_t key_sz,
			 const void *value, size_t value_sz, __u64 flags)
{
	__u32 k = *(const __u32 *)key;
	int e = should_fail(map, key);

	(void)key_sz;
	(void)flags;
	if (e)
		return e;
	fk.updates++;
	if ((const void *)map == &stats_map)
		memcpy(fk.stats[k], value, value_sz);
	else if ((const void *)map == &hists_map)
		memcpy(fk.hists[k], value, value_sz);
	return 0;
}

static volatile uint32_t generation;

static int setup(void **state)
{
	static struct pg_maps m;

	memset(&fk, 0, sizeof(fk));
	fk.fail_key = -1;
	generation = 0;
	memset(&m, 0, sizeof(m));
	m.stats = (struct bpf_map *)&stats_map;
	m.hists = (struct bpf_map *)&hists_map;
	m.inflight = (struct bpf_map *)&inflight_map;
	m.generation = &generation;
	m.nfuncs = 3;
	if (pgmaps_init(&m))
		return -1;
	*state = &m;
	return 0;
}

static int teardown(void **state)
{
	pgmaps_fini(*state);
	return 0;
}

/* Function 1 in slot 0 (generation 0): 7 calls on CPU 0, 5 on CPU 1. */
static void fill(void)
{
	fk.stats[1 * PG_GEN_SLOTS][0].calls = 7;
	fk.stats[1 * PG_GEN_SLOTS][1].calls = 5;
	fk.stats[1 * PG_GEN_SLOTS][1].max_ns = 900;
	fk.hists[1 * PG_GEN_SLOTS][0].slots[3] = 2;
	fk.hists[1 * PG_GEN_SLOTS][1].slots[3] = 1;
	fk.inflight[1].now = 4;
}

static void snapshot_sums_the_cpus(void **state)
{
	struct pg_func_stats st;
	struct pg_inflight inf;
	struct pg_hist h;

	fill();
	assert_int_equal(pgmaps_snapshot(*state, 1, &st, &inf, &h), 0);
	assert_int_equal(st.calls, 12);
	assert_int_equal(st.max_ns, 900);
	assert_int_equal(h.slots[3], 3);
	assert_int_equal(inf.now, 4);
}

static void snapshot_fails_when_a_map_read_fails(void **state)
{
	const void *maps[] = { &stats_map, &hists_map, &inflight_map };
	struct pg_func_stats st;
	struct pg_inflight inf;
	struct pg_hist h;

	fill();
	for (unsigned int i = 0; i < 3; i++) {
		fk.fail_map = maps[i];
		fk.fail_err = -EFAULT;
		assert_int_equal(pgmaps_snapshot(*state, 1, &st, &inf, &h), -EFAULT);
	}
}

static void bump_clears_the_next_slot_then_switches(void **state)
{
	struct pg_func_stats st;
	struct pg_inflight inf;
	struct pg_hist h;

	/* leftovers of generation -1 in slot 1 must not count in generation 1 */
	fk.stats[1 * PG_GEN_SLOTS + 1][0].calls = 99;
	fk.hists[1 * PG_GEN_SLOTS + 1][0].slots[5] = 99;
	assert_int_equal(pgmaps_bump_generation(*state), 0);
	assert_int_equal(generation, 1);
	assert_int_equal(fk.updates, 2 * 3);	/* stats and hists of each of 3 functions */
	assert_int_equal(pgmaps_snapshot(*state, 1, &st, &inf, &h), 0);
	assert_int_equal(st.calls, 0);
	assert_int_equal(h.slots[5], 0);
}

static void bump_fails_and_keeps_the_generation_when_a_clear_fails(void **state)
{
	const void *maps[] = { &stats_map, &hists_map };

	for (unsigned int i = 0; i < 2; i++) {
		fk.fail_map = maps[i];
		fk.fail_key = 2 * PG_GEN_SLOTS + 1;	/* function 2, slot 1 */
		fk.fail_err = -ENOMEM;
		assert_int_equal(pgmaps_bump_generation(*state), -ENOMEM);
		assert_int_equal(generation, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(snapshot_sums_the_cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_fails_when_a_map_read_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(bump_clears_the_next_slot_then_switches, setup, teardown),
		cmocka_unit_test_setup_teardown(bump_fails_and_keeps_the_generation_when_a_clear_fails,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
