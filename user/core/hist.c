// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Log-linear histograms.  The layout is the ABI's (PG_HIST_SUB sub-buckets
 * per power of two) so that BPF programs fill them with a few instructions
 * and user space merges per-CPU copies by plain addition.
 */
#include <math.h>
#include <string.h>
#include "hist.h"

static unsigned int ilog2_u64(uint64_t v)
{
	return 63 - (unsigned int)__builtin_clzll(v);
}

unsigned int hist_bucket(uint64_t v)
{
	unsigned int e;

	if (v < PG_HIST_SUB)
		return (unsigned int)v;
	e = ilog2_u64(v);
	if (e > PG_HIST_MAX_EXP)
		return PG_HIST_BUCKETS - 1;
	return (e - PG_HIST_SUB_BITS + 1) * PG_HIST_SUB +
	       (unsigned int)((v >> (e - PG_HIST_SUB_BITS)) & (PG_HIST_SUB - 1));
}

uint64_t hist_bucket_lo(unsigned int b)
{
	unsigned int e, sub;

	if (b < PG_HIST_SUB)
		return b;
	e = b / PG_HIST_SUB + PG_HIST_SUB_BITS - 1;
	sub = b % PG_HIST_SUB;
	return (1ULL << e) + ((uint64_t)sub << (e - PG_HIST_SUB_BITS));
}

uint64_t hist_bucket_hi(unsigned int b)
{
	unsigned int e;

	if (b < PG_HIST_SUB)
		return (uint64_t)b + 1;
	e = b / PG_HIST_SUB + PG_HIST_SUB_BITS - 1;
	return hist_bucket_lo(b) + (1ULL << (e - PG_HIST_SUB_BITS));
}

void hist_reset(struct pg_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void hist_add(struct pg_hist *h, uint64_t v, uint64_t n)
{
	h->slots[hist_bucket(v)] += n;
}

void hist_merge(struct pg_hist *dst, const struct pg_hist *src)
{
	for (unsigned int i = 0; i < PG_HIST_BUCKETS; i++)
		dst->slots[i] += src->slots[i];
}

void hist_diff(struct pg_hist *dst, const struct pg_hist *a, const struct pg_hist *b)
{
	for (unsigned int i = 0; i < PG_HIST_BUCKETS; i++)
		dst->slots[i] = a->slots[i] > b->slots[i] ? a->slots[i] - b->slots[i] : 0;
}

uint64_t hist_count(const struct pg_hist *h)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < PG_HIST_BUCKETS; i++)
		n += h->slots[i];
	return n;
}

double hist_quantile(const struct pg_hist *h, double q)
{
	uint64_t total = hist_count(h), seen = 0;
	double rank;

	if (!total)
		return 0.0;
	if (q < 0.0)
		q = 0.0;
	if (q > 1.0)
		q = 1.0;
	/* rank in (0, total]: the smallest value with at least q*total at or below it */
	rank = q * (double)total;
	if (rank < 1.0)
		rank = 1.0;
	for (unsigned int i = 0; i < PG_HIST_BUCKETS; i++) {
		uint64_t c = h->slots[i];
		double lo, hi, frac;

		if (!c)
			continue;
		if ((double)(seen + c) >= rank) {
			lo = (double)hist_bucket_lo(i);
			hi = (double)hist_bucket_hi(i);
			if (i < PG_HIST_SUB)	/* exact 1 ns buckets */
				return lo;
			/* spread the bucket's samples evenly, each at the centre of its share */
			frac = (rank - (double)seen - 0.5) / (double)c;
			if (frac < 0.0)
				frac = 0.0;
			return lo + frac * (hi - lo);
		}
		seen += c;
	}
	return (double)hist_bucket_lo(PG_HIST_BUCKETS - 1);
}

double hist_mean(const struct pg_hist *h)
{
	double sum = 0.0;
	uint64_t n = 0;

	for (unsigned int i = 0; i < PG_HIST_BUCKETS; i++) {
		if (!h->slots[i])
			continue;
		sum += (double)h->slots[i] * (i < PG_HIST_SUB ? (double)i :
			((double)hist_bucket_lo(i) + (double)hist_bucket_hi(i)) / 2.0);
		n += h->slots[i];
	}
	return n ? sum / (double)n : 0.0;
}

double hist_count_above(const struct pg_hist *h, double v)
{
	double above = 0.0;

	for (unsigned int i = 0; i < PG_HIST_BUCKETS; i++) {
		double lo, hi;

		if (!h->slots[i])
			continue;
		lo = (double)hist_bucket_lo(i);
		hi = (double)hist_bucket_hi(i);
		if (lo > v)
			above += (double)h->slots[i];
		else if (hi > v && i >= PG_HIST_SUB)
			above += (double)h->slots[i] * (hi - v) / (hi - lo);
	}
	return above;
}

void hist_scale(struct pg_hist *dst, const struct pg_hist *src, double factor)
{
	double acc[PG_HIST_BUCKETS] = { 0 }, cum = 0.0;
	uint64_t prev = 0;

	if (!(factor > 0.0) || factor == 1.0) {
		if (dst != src)
			*dst = *src;
		return;
	}
	for (unsigned int i = 0; i < PG_HIST_BUCKETS; i++) {
		double c = (double)src->slots[i], lo, hi;
		unsigned int b;

		if (!src->slots[i])
			continue;
		lo = (double)hist_bucket_lo(i) * factor;
		hi = (double)hist_bucket_hi(i) * factor;
		if (lo >= (double)UINT64_MAX / 2) {
			acc[PG_HIST_BUCKETS - 1] += c;
			continue;
		}
		/* walk the target buckets the scaled range [lo, hi) overlaps */
		for (b = hist_bucket((uint64_t)lo); b < PG_HIST_BUCKETS; b++) {
			double blo = (double)hist_bucket_lo(b), bhi = (double)hist_bucket_hi(b);
			double from = lo > blo ? lo : blo, to = hi < bhi ? hi : bhi;

			if (b == PG_HIST_BUCKETS - 1)
				to = hi;
			if (to > from)
				acc[b] += c * (to - from) / (hi - lo);
			if (bhi >= hi)
				break;
		}
	}
	/* round the running total, so that the counts sum to the source's */
	for (unsigned int b = 0; b < PG_HIST_BUCKETS; b++) {
		uint64_t r;

		cum += acc[b];
		r = (uint64_t)llround(cum);
		dst->slots[b] = r - prev;
		prev = r;
	}
}

uint64_t hist_max(const struct pg_hist *h)
{
	for (unsigned int i = PG_HIST_BUCKETS; i-- > 0;)
		if (h->slots[i])
			return hist_bucket_hi(i) - 1;
	return 0;
}

void hist_cumulative(const struct pg_hist *h, const uint64_t *le, unsigned int n, uint64_t *out)
{
	unsigned int i = 0;
	uint64_t below = 0;

	for (unsigned int b = 0; b < PG_HIST_BUCKETS && i < n; b++) {
		uint64_t hi = hist_bucket_hi(b);

		/* every bound this bucket passes gets the calls below it */
		while (i < n && le[i] < hi)
			out[i++] += below;
		below += h->slots[b];
	}
	for (; i < n; i++)
		out[i] += below;
}

unsigned int hist_cdf(const struct pg_hist *h, struct hist_cdf_point *pts, unsigned int max)
{
	uint64_t total = hist_count(h), seen = 0;
	unsigned int n = 0;
	double last_x = -1.0;

	if (!total)
		return 0;
	for (unsigned int i = 0; i < PG_HIST_BUCKETS && n < max; i++) {
		double lo, hi;

		if (!h->slots[i])
			continue;
		lo = (double)hist_bucket_lo(i);
		hi = (double)hist_bucket_hi(i);
		if (lo > last_x) {
			pts[n].x_ns = lo;
			pts[n++].p = (double)seen / (double)total;
			if (n == max)
				break;
		}
		seen += h->slots[i];
		pts[n].x_ns = hi;
		pts[n++].p = (double)seen / (double)total;
		last_x = hi;
	}
	return n;
}
