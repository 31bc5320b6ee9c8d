/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Log-linear latency histograms in the ABI layout (include/patchgate/abi.h). */
#ifndef PG_CORE_HIST_H
#define PG_CORE_HIST_H

#include <stdint.h>
#include <patchgate/abi.h>

/* Bucket index of a value in ns; the same arithmetic as bpf/hist.bpf.h. */
unsigned int hist_bucket(uint64_t v);
/* Smallest value that falls in bucket @b. */
uint64_t hist_bucket_lo(unsigned int b);
/* One past the largest value that falls in bucket @b. */
uint64_t hist_bucket_hi(unsigned int b);

void hist_reset(struct pg_hist *h);
void hist_add(struct pg_hist *h, uint64_t v, uint64_t n);
void hist_merge(struct pg_hist *dst, const struct pg_hist *src);
/* dst = a - b, clamped at 0 per bucket: the calls between two snapshots. */
void hist_diff(struct pg_hist *dst, const struct pg_hist *a, const struct pg_hist *b);
uint64_t hist_count(const struct pg_hist *h);
/*
 * Quantile @q in [0, 1], interpolated linearly inside the bucket that holds
 * it.  Relative error is bounded by the bucket width (1/PG_HIST_SUB of its
 * lower bound).  Returns 0 for an empty histogram.
 */
double hist_quantile(const struct pg_hist *h, double q);
/* Mean, using bucket midpoints.  0 for an empty histogram. */
double hist_mean(const struct pg_hist *h);
/* Number of samples strictly above value @v (bucket-interpolated). */
double hist_count_above(const struct pg_hist *h, double v);
/*
 * dst = src with every value multiplied by @factor (> 0): each bucket's
 * calls spread uniformly over its scaled range, split between the buckets
 * that range overlaps, rounded so that the total is unchanged.  The
 * control's drift applied to a baseline (docs/statistics.md).
 */
void hist_scale(struct pg_hist *dst, const struct pg_hist *src, double factor);
/*
 * Cumulative counts at @n ascending bounds @le (ns): @out[i] += the calls
 * in buckets that end at or below @le[i], i.e. that took less than @le[i]
 * (exact when @le[i] is a bucket edge, as every power of two >= 32 is; a
 * bucket that straddles a bound counts for the next one).  One pass.
 */
void hist_cumulative(const struct pg_hist *h, const uint64_t *le, unsigned int n, uint64_t *out);
/* Largest non-empty bucket's upper bound, 0 if empty. */
uint64_t hist_max(const struct pg_hist *h);

/* One point of a cumulative distribution: a share @p of the calls took at most @x_ns. */
struct hist_cdf_point {
	double x_ns;
	double p;
};
/* Most points hist_cdf() writes: two per bucket, and one to start. */
#define HIST_CDF_MAX	(2 * PG_HIST_BUCKETS + 1)
/*
 * The cumulative distribution of @h as points to join with straight lines:
 * (lower bound of the first non-empty bucket, 0), then per non-empty bucket
 * its upper bound with the share of calls up to it, and, before a bucket
 * that follows empty ones, its lower bound at the share so far (flat across
 * the gap).  Linear inside a bucket, as hist_quantile() interpolates.
 * Writes at most @max points into @pts; returns how many (0: empty).
 */
unsigned int hist_cdf(const struct pg_hist *h, struct hist_cdf_point *pts, unsigned int max);

#endif
