// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The BPF bucket function (bpf/hist.bpf.h, compiled here in user space)
 * against user space's (user/core/hist.c): the probes fill the buckets that
 * user space reads back, so the two must agree on every value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "core/hist.h"
#include "pg_rng.h"

/* What hist.bpf.h takes from vmlinux.h and the libbpf headers. */
typedef uint32_t __u32;
typedef uint64_t __u64;
#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#include "../../bpf/hist.bpf.h"

/* Both functions put @v in the same bucket; says which value when not. */
static void check_same(uint64_t v)
{
	unsigned int want = hist_bucket(v), got = pg_hist_bucket(v);

	if (want != got)
		fail_msg("value %llu: bpf bucket %u, user bucket %u",
			 (unsigned long long)v, got, want);
}

/* Every bucket's lower bound and the values either side of it. */
static void test_every_boundary(void **state)
{
	(void)state;
	for (unsigned int b = 0; b < PG_HIST_BUCKETS; b++) {
		uint64_t lo = hist_bucket_lo(b);

		/* the bound is where the bucket starts, for both functions */
		assert_int_equal(pg_hist_bucket(lo), b);
		if (lo > 0) {
			check_same(lo - 1);
			assert_int_equal(pg_hist_bucket(lo - 1), b - 1);
		}
		check_same(lo);
		check_same(lo + 1);
		check_same(hist_bucket_hi(b) - 1);
	}
}

/* The ends: 0, 1, the top bucket, past it, and UINT64_MAX. */
static void test_ends(void **state)
{
	uint64_t top = hist_bucket_lo(PG_HIST_BUCKETS - 1);
	uint64_t past = 1ULL << (PG_HIST_MAX_EXP + 1);

	(void)state;
	check_same(0);
	check_same(1);
	assert_int_equal(pg_hist_bucket(0), 0);
	assert_int_equal(pg_hist_bucket(1), 1);
	check_same(top - 1);
	check_same(top);
	check_same(top + 1);
	check_same(past - 1);
	check_same(past);
	check_same(past + 1);
	assert_int_equal(pg_hist_bucket(past), PG_HIST_BUCKETS - 1);
	check_same(UINT64_MAX - 1);
	check_same(UINT64_MAX);
	assert_int_equal(pg_hist_bucket(UINT64_MAX), PG_HIST_BUCKETS - 1);
}

/* Every power of two up to 2^63 and its neighbours: the log2 steps' edges. */
static void test_powers_of_two(void **state)
{
	(void)state;
	for (unsigned int e = 0; e < 64; e++) {
		uint64_t p = 1ULL << e;

		check_same(p - 1);
		check_same(p);
		check_same(p + 1);
	}
}

/* Random values spread over every magnitude. */
static void test_random_values(void **state)
{
	struct pg_rng r;

	(void)state;
	pg_rng_seed(&r, 9);
	for (int i = 0; i < 200000; i++)
		check_same(pg_rng_u64(&r) >> (pg_rng_u64(&r) % 64));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_boundary),
		cmocka_unit_test(test_ends),
		cmocka_unit_test(test_powers_of_two),
		cmocka_unit_test(test_random_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
