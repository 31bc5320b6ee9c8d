// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Log-linear histogram: bucket arithmetic, merge/diff, mean, quantile error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <cmocka.h>
#include "core/hist.h"
#include "pg_rng.h"

/* Every bucket is contiguous with the next, and its bounds map back to it. */
static void test_bucket_bounds_round_trip(void **state)
{
	(void)state;
	for (unsigned int b = 0; b < PG_HIST_BUCKETS; b++) {
		uint64_t lo = hist_bucket_lo(b), hi = hist_bucket_hi(b);

		assert_true(lo < hi);
		assert_int_equal(hist_bucket(lo), b);
		assert_int_equal(hist_bucket(hi - 1), b);
		if (b + 1 < PG_HIST_BUCKETS)
			assert_int_equal(hist_bucket_lo(b + 1), hi);
	}
}

/* Values around every power of two and random values land in a bucket that holds them. */
static void test_bucket_of_values(void **state)
{
	struct pg_rng r;

	(void)state;
	for (uint64_t v = 0; v < 5000; v++) {
		unsigned int b = hist_bucket(v);

		assert_true(hist_bucket_lo(b) <= v && v < hist_bucket_hi(b));
	}
	for (unsigned int e = 5; e <= PG_HIST_MAX_EXP; e++) {
		uint64_t p = 1ULL << e;
		uint64_t vs[] = { p - 1, p, p + 1 };

		for (unsigned int i = 0; i < 3; i++) {
			unsigned int b = hist_bucket(vs[i]);

			assert_true(hist_bucket_lo(b) <= vs[i] && vs[i] < hist_bucket_hi(b));
		}
	}
	pg_rng_seed(&r, 1);
	for (int i = 0; i < 100000; i++) {
		uint64_t v = pg_rng_u64(&r) >> (26 + pg_rng_u64(&r) % 38);
		unsigned int b = hist_bucket(v);

		assert_true(b < PG_HIST_BUCKETS);
		if (b < PG_HIST_BUCKETS - 1)
			assert_true(hist_bucket_lo(b) <= v && v < hist_bucket_hi(b));
	}
}

/* Resolution: each bucket is at most 1/PG_HIST_SUB of its lower bound; 1 ns to > 100 s. */
static void test_bucket_width_and_range(void **state)
{
	(void)state;
	assert_true(PG_HIST_SUB >= 16);
	for (unsigned int b = PG_HIST_SUB; b < PG_HIST_BUCKETS; b++) {
		double lo = (double)hist_bucket_lo(b), w = (double)(hist_bucket_hi(b) - hist_bucket_lo(b));

		assert_true(w / lo <= 1.0 / PG_HIST_SUB + 1e-12);
	}
	assert_int_equal(hist_bucket(1), 1);
	/* 100 s is still resolved, not clamped into the overflow bucket */
	assert_true(hist_bucket(100000000000ULL) < PG_HIST_BUCKETS - 1);
	assert_int_equal(hist_bucket(UINT64_MAX), PG_HIST_BUCKETS - 1);
}

static void test_empty_histogram(void **state)
{
	struct pg_hist h;

	(void)state;
	hist_reset(&h);
	assert_int_equal(hist_count(&h), 0);
	assert_true(hist_quantile(&h, 0.5) == 0.0);
	assert_true(hist_mean(&h) == 0.0);
	assert_int_equal(hist_max(&h), 0);
	assert_true(hist_count_above(&h, 10.0) == 0.0);
}

static void test_merge_adds_counts(void **state)
{
	struct pg_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct pg_hist *all = calloc(1, sizeof(*all));
	struct pg_rng r;

	(void)state;
	pg_rng_seed(&r, 2);
	for (int i = 0; i < 20000; i++) {
		uint64_t v = (uint64_t)pg_rng_lognormal(&r, 5000.0, 1.0);

		hist_add(i & 1 ? a : b, v, 1);
		hist_add(all, v, 1);
	}
	hist_merge(a, b);
	assert_int_equal(hist_count(a), 20000);
	for (unsigned int i = 0; i < PG_HIST_BUCKETS; i++)
		assert_int_equal(a->slots[i], all->slots[i]);
	assert_true(hist_quantile(a, 0.99) == hist_quantile(all, 0.99));
	free(a);
	free(b);
	free(all);
}

/* diff gives the calls between two cumulative snapshots, clamped at 0. */
static void test_diff_between_snapshots(void **state)
{
	struct pg_hist *t0 = calloc(1, sizeof(*t0)), *t1 = calloc(1, sizeof(*t1));
	struct pg_hist *d = calloc(1, sizeof(*d));

	(void)state;
	hist_add(t0, 100, 5);
	hist_add(t0, 1000, 7);
	*t1 = *t0;
	hist_add(t1, 1000, 3);
	hist_add(t1, 50000, 2);
	hist_diff(d, t1, t0);
	assert_int_equal(hist_count(d), 5);
	assert_int_equal(d->slots[hist_bucket(1000)], 3);
	assert_int_equal(d->slots[hist_bucket(50000)], 2);
	assert_int_equal(d->slots[hist_bucket(100)], 0);
	/* a counter that went backwards (reset) does not wrap around */
	hist_diff(d, t0, t1);
	assert_int_equal(hist_count(d), 0);
	free(t0);
	free(t1);
	free(d);
}

static void test_mean_within_bucket_error(void **state)
{
	struct pg_hist *h = calloc(1, sizeof(*h));
	struct pg_rng r;
	double sum = 0.0;

	(void)state;
	pg_rng_seed(&r, 3);
	for (int i = 0; i < 50000; i++) {
		uint64_t v = (uint64_t)pg_rng_lognormal(&r, 20000.0, 0.7);

		sum += (double)v;
		hist_add(h, v, 1);
	}
	assert_true(fabs(hist_mean(h) / (sum / 50000.0) - 1.0) <= 1.0 / PG_HIST_SUB);
	/* exact buckets below PG_HIST_SUB */
	hist_reset(h);
	hist_add(h, 3, 1);
	hist_add(h, 5, 1);
	assert_true(hist_mean(h) == 4.0);
	free(h);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The design target: p50/p90/p99 within 5% of the exact sample quantiles,
 * from 100 ns to 10 s, on large seeded lognormal samples.
 */
static void test_quantile_relative_error(void **state)
{
	static const double medians[] = { 100.0, 2e3, 50e3, 1e6, 30e6, 500e6, 4e9 };
	static const double sigmas[] = { 0.3, 0.8, 0.3, 1.2, 0.5, 0.9, 0.4 };
	static const double qs[] = { 0.5, 0.9, 0.99 };
	const int n = 100000;
	uint64_t *v = malloc(n * sizeof(*v));
	struct pg_hist *h = malloc(sizeof(*h));
	double worst = 0.0;
	struct pg_rng r;

	(void)state;
	pg_rng_seed(&r, 4);
	for (unsigned int d = 0; d < sizeof(medians) / sizeof(medians[0]); d++) {
		hist_reset(h);
		for (int i = 0; i < n; i++) {
			v[i] = (uint64_t)llround(pg_rng_lognormal(&r, medians[d], sigmas[d]));
			hist_add(h, v[i], 1);
		}
		qsort(v, n, sizeof(*v), cmp_u64);
		for (unsigned int j = 0; j < 3; j++) {
			double exact = (double)v[(size_t)ceil(qs[j] * n) - 1];
			double est = hist_quantile(h, qs[j]);
			double rel = fabs(est / exact - 1.0);

			if (rel > worst)
				worst = rel;
			assert_true(rel <= 0.05);
		}
		/* ~10 s: the top of the 4 s lognormal must still be resolved */
		if (d == 6)
			assert_true(v[n - 1] > 10000000000ULL);
	}
	print_message("  worst p50/p90/p99 relative error, 100 ns .. 10 s: %.4f\n", worst);
	/* the bound is met with room: buckets are 3.1% wide at most */
	assert_true(worst <= 1.0 / PG_HIST_SUB);
	free(v);
	free(h);
}

static void test_quantile_monotonic_and_bounded(void **state)
{
	struct pg_hist *h = calloc(1, sizeof(*h));
	struct pg_rng r;
	double prev = 0.0;

	(void)state;
	pg_rng_seed(&r, 5);
	for (int i = 0; i < 3000; i++)
		hist_add(h, (uint64_t)pg_rng_lognormal(&r, 800.0, 1.5), 1);
	for (double q = 0.0; q <= 1.0; q += 0.01) {
		double x = hist_quantile(h, q);

		assert_true(x >= prev);
		prev = x;
	}
	assert_true(hist_quantile(h, 1.0) <= (double)hist_max(h) + 1.0);
	assert_true(hist_quantile(h, -1.0) == hist_quantile(h, 0.0));
	free(h);
}

static void test_count_above(void **state)
{
	struct pg_hist *h = calloc(1, sizeof(*h));

	(void)state;
	hist_add(h, 10, 4);		/* exact bucket */
	hist_add(h, 1000, 6);
	hist_add(h, 1000000, 10);
	assert_true(hist_count_above(h, 5.0) == 20.0);
	assert_true(hist_count_above(h, 10.0) == 16.0);
	assert_true(hist_count_above(h, 100000.0) == 10.0);
	assert_true(hist_count_above(h, 2e6) == 0.0);
	/* inside a bucket: interpolated, between 0 and the bucket's count */
	{
		double mid = ((double)hist_bucket_lo(hist_bucket(1000)) +
			      (double)hist_bucket_hi(hist_bucket(1000))) / 2.0;
		double c = hist_count_above(h, mid);

		assert_true(c > 10.0 && c < 16.0);
	}
	free(h);
}

/* Cumulative counts at power-of-two bounds are exact: every value below a bound, none above. */
static void test_cumulative_exact_at_powers_of_two(void **state)
{
	uint64_t le[] = { 256, 1024, 4096, 1ULL << 20, 1ULL << 34 }, got[5] = { 0 }, want[5] = { 0 };
	struct pg_hist *h = calloc(1, sizeof(*h));
	struct pg_rng r;

	(void)state;
	pg_rng_seed(&r, 7);
	for (int i = 0; i < 20000; i++) {
		/* log-uniform over 1 ns .. ~68 s, and the bounds themselves and their neighbours */
		uint64_t v = (uint64_t)exp(pg_rng_unit(&r) * log(68e9));

		if (i % 100 == 0)
			v = le[(i / 100) % 5] + (uint64_t)((i / 500) % 3) - 1;
		hist_add(h, v, 1);
		for (int k = 0; k < 5; k++)
			want[k] += v < le[k];
	}
	hist_cumulative(h, le, 5, got);
	for (int k = 0; k < 5; k++)
		assert_int_equal(got[k], want[k]);
	/* it adds: a second histogram on top */
	hist_cumulative(h, le, 5, got);
	for (int k = 0; k < 5; k++)
		assert_int_equal(got[k], 2 * want[k]);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_bounds_round_trip),
		cmocka_unit_test(test_bucket_of_values),
		cmocka_unit_test(test_bucket_width_and_range),
		cmocka_unit_test(test_empty_histogram),
		cmocka_unit_test(test_merge_adds_counts),
		cmocka_unit_test(test_diff_between_snapshots),
		cmocka_unit_test(test_mean_within_bucket_error),
		cmocka_unit_test(test_quantile_relative_error),
		cmocka_unit_test(test_quantile_monotonic_and_bounded),
		cmocka_unit_test(test_count_above),
		cmocka_unit_test(test_cumulative_exact_at_powers_of_two),
	};

	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
