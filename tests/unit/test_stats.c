// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Statistics: the building blocks against independent computations, then
 * the verdict's false-positive rate and power on seeded synthetic latency.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>
#include "core/hist.h"
#include "core/policy.h"
#include "core/stats.h"
#include "pg_rng.h"

#define NSAMPLES	2000	/* per side, as the issue asks */
#define NULL_PAIRS	1000	/* per distribution */
#define POWER_PAIRS	400	/* per (distribution, regression) */

/* ---- synthetic latency ------------------------------------------------ */

/*
 * D_COUNT shapes carry the requirements; D_HEAVY (p99/p50 = 10) is
 * measured separately, since the tail-only case needs more calls there.
 */
enum dist { D_LN_NARROW, D_LN_WIDE, D_MIXTURE, D_COUNT, D_HEAVY = D_COUNT };

static const char *dist_name[D_COUNT + 1] = {
	"lognormal(20us, 0.5)", "lognormal(2us, 0.8)", "mixture 90% 10us / 10% 200us",
	"lognormal(2us, 1.0)",
};

static double draw(struct pg_rng *r, enum dist d)
{
	switch (d) {
	case D_LN_NARROW:
		return pg_rng_lognormal(r, 20000.0, 0.5);
	case D_LN_WIDE:
		return pg_rng_lognormal(r, 2000.0, 0.8);
	case D_HEAVY:
		return pg_rng_lognormal(r, 2000.0, 1.0);
	case D_MIXTURE:
	default:
		if (pg_rng_unit(r) < 0.9)
			return pg_rng_lognormal(r, 10000.0, 0.3);
		return pg_rng_lognormal(r, 200000.0, 0.5);
	}
}

enum change { C_NONE, C_ALL_125, C_TAIL3_150, C_P50_2X, C_TAIL3_125 };

/* The true 97th percentile of each distribution, from a large sample. */
static double q97_of(enum dist d)
{
	const int n = 200000;
	double *v = malloc(n * sizeof(*v)), q;
	struct pg_rng r;
	struct pg_hist *h = calloc(1, sizeof(*h));

	pg_rng_seed(&r, 97 + d);
	for (int i = 0; i < n; i++)
		hist_add(h, (uint64_t)draw(&r, d), 1);
	q = hist_quantile(h, 0.97);
	free(v);
	free(h);
	return q;
}

static void fill_n(struct pg_hist *h, struct pg_rng *r, enum dist d, enum change c,
		   double q97, int n)
{
	hist_reset(h);
	for (int i = 0; i < n; i++) {
		double x = draw(r, d);

		switch (c) {
		case C_NONE:
			break;
		case C_ALL_125:
			x *= 1.25;
			break;
		case C_TAIL3_150:
			if (x > q97)
				x *= 1.5;
			break;
		case C_P50_2X:
			x *= 2.0;
			break;
		case C_TAIL3_125:
			if (x > q97)
				x *= 1.25;
			break;
		}
		hist_add(h, (uint64_t)llround(x), 1);
	}
}

static void fill(struct pg_hist *h, struct pg_rng *r, enum dist d, enum change c, double q97)
{
	fill_n(h, r, d, c, q97, NSAMPLES);
}

static void test_policy(struct pg_policy *p)
{
	policy_defaults(p);
	p->min_samples = 1000;
}

/* ---- building blocks --------------------------------------------------- */

static void test_norm_sf(void **state)
{
	(void)state;
	assert_true(fabs(stats_norm_sf(0.0) - 0.5) < 1e-12);
	assert_true(fabs(stats_norm_sf(1.959963985) - 0.025) < 1e-6);
	assert_true(fabs(stats_norm_sf(2.326347874) - 0.01) < 1e-6);
	assert_true(fabs(stats_norm_sf(-1.644853627) - 0.95) < 1e-6);
}

/*
 * Binned U equals the pairwise count: for every (base, post) pair, 1 if
 * post is in a higher bucket, 1/2 in the same bucket.
 */
static void test_mann_whitney_u_matches_pair_count(void **state)
{
	struct pg_hist *b = calloc(1, sizeof(*b)), *p = calloc(1, sizeof(*p));
	uint64_t bv[300], pv[250];
	double u, z, want = 0.0;
	struct pg_rng r;

	(void)state;
	pg_rng_seed(&r, 11);
	for (int i = 0; i < 300; i++) {
		bv[i] = (uint64_t)pg_rng_lognormal(&r, 300.0, 0.6);
		hist_add(b, bv[i], 1);
	}
	for (int i = 0; i < 250; i++) {
		pv[i] = (uint64_t)pg_rng_lognormal(&r, 330.0, 0.6);
		hist_add(p, pv[i], 1);
	}
	for (int i = 0; i < 300; i++)
		for (int j = 0; j < 250; j++) {
			unsigned int bb = hist_bucket(bv[i]), pb = hist_bucket(pv[j]);

			want += pb > bb ? 1.0 : pb == bb ? 0.5 : 0.0;
		}
	stats_mann_whitney(b, p, &u, &z);
	assert_true(fabs(u - want) < 1e-6);
	free(b);
	free(p);
}

/* Small exact case: base {1,2,3}, post {4,5,6}: U = 9, var = 5.25, no ties. */
static void test_mann_whitney_textbook_case(void **state)
{
	struct pg_hist *b = calloc(1, sizeof(*b)), *p = calloc(1, sizeof(*p));
	double u, z, pv;

	(void)state;
	for (int i = 1; i <= 3; i++) {
		hist_add(b, i, 1);
		hist_add(p, i + 3, 1);
	}
	pv = stats_mann_whitney(b, p, &u, &z);
	assert_true(u == 9.0);
	assert_true(fabs(z - (9.0 - 4.5 - 0.5) / sqrt(5.25)) < 1e-12);
	assert_true(fabs(pv - stats_norm_sf(z)) < 1e-15);
	/* reversed: post faster, p-value near 1 */
	assert_true(stats_mann_whitney(p, b, NULL, NULL) > 0.95);
	free(b);
	free(p);
}

/* Ties shrink the variance: every sample in two buckets gives a larger |z| than no ties would. */
static void test_mann_whitney_ties(void **state)
{
	struct pg_hist *b = calloc(1, sizeof(*b)), *p = calloc(1, sizeof(*p));
	double z;

	(void)state;
	/* all in one bucket: no information, p = 1 */
	hist_add(b, 5000, 100);
	hist_add(p, 5000, 100);
	assert_true(stats_mann_whitney(b, p, NULL, &z) == 1.0);
	/* 100 vs 100, split 60/40 and 40/60 over two buckets */
	hist_reset(b);
	hist_reset(p);
	hist_add(b, 5000, 60);
	hist_add(b, 9000, 40);
	hist_add(p, 5000, 40);
	hist_add(p, 9000, 60);
	stats_mann_whitney(b, p, NULL, &z);
	{
		/* untied variance for comparison: n1 n2 (N+1)/12 */
		double u = 40 * 30.0 + 60 * (60 + 20.0);
		double z_untied = (u - 5000.0 - 0.5) / sqrt(100.0 * 100.0 * 201.0 / 12.0);

		assert_true(z > z_untied);
	}
	/* an empty side gives no evidence */
	hist_reset(p);
	assert_true(stats_mann_whitney(b, p, NULL, NULL) == 1.0);
	free(b);
	free(p);
}

/* The exceedance law is a distribution: P(K >= 0) = 1, decreasing, and matches simulation. */
static void test_exceed_law_against_simulation(void **state)
{
	const uint64_t nb = 60, np = 40, m = 3;
	const int trials = 200000;
	unsigned int hits[41] = { 0 };
	struct pg_rng r;
	char who[100];

	(void)state;
	assert_true(stats_exceed_sf(nb, np, m, 0) == 1.0);
	for (uint64_t k = 1; k <= np; k++)
		assert_true(stats_exceed_sf(nb, np, m, k) <= stats_exceed_sf(nb, np, m, k - 1) + 1e-12);
	assert_true(stats_exceed_sf(nb, np, m, np + 1) == 0.0);

	/* random pooled rankings: count post samples above the m-th largest baseline */
	pg_rng_seed(&r, 12);
	for (int t = 0; t < trials; t++) {
		unsigned int k = 0, seen_b = 0;

		for (unsigned int i = 0; i < nb + np; i++)
			who[i] = i < nb ? 'b' : 'p';
		for (unsigned int i = nb + np - 1; i > 0; i--) {
			unsigned int j = pg_rng_u64(&r) % (i + 1);
			char c = who[i];

			who[i] = who[j];
			who[j] = c;
		}
		for (unsigned int i = 0; i < nb + np && seen_b < m; i++) {
			if (who[i] == 'b')
				seen_b++;
			else
				k++;
		}
		hits[k]++;
	}
	for (uint64_t k = 1; k <= 6; k++) {
		double sim = 0.0;

		for (uint64_t j = k; j <= np; j++)
			sim += hits[j];
		sim /= trials;
		assert_true(fabs(sim - stats_exceed_sf(nb, np, m, k)) < 0.005);
	}
}

/* Busy functions: millions of calls stay cheap, and the large-count branch agrees with the exact sum. */
static void test_exceed_law_large_counts(void **state)
{
	const uint64_t nb = 3000000, np = 3000000, m = 30000;
	double mean = (double)np * m / (nb + 1), p_exact, p_approx;

	(void)state;
	/* at the mean: about one half */
	p_approx = stats_exceed_sf(nb, np, m, (uint64_t)mean);
	assert_true(p_approx > 0.45 && p_approx < 0.55);
	/* 5 sd above the mean (sd ~ 245): exact upper sum, tiny */
	p_exact = stats_exceed_sf(nb, np, m, (uint64_t)(mean + 5 * 245));
	assert_true(p_exact > 0.0 && p_exact < 1e-5);
	/* across the switch (2000 terms; mean 2100, sd 155) the two branches agree */
	p_exact = stats_exceed_sf(40000, 420000, 200, 2000);
	p_approx = stats_exceed_sf(40000, 420000, 200, 2001);
	assert_true(p_exact > 0.6 && p_approx > 0.6);
	assert_true(fabs(p_exact - p_approx) < 0.01);
}

static void test_two_proportion(void **state)
{
	double z;

	(void)state;
	/* 10/1000 vs 30/1000: pooled p = 0.02, se = sqrt(.02*.98*.002) */
	double p = stats_two_prop(10, 1000, 30, 1000, &z);

	assert_true(fabs(z - 0.02 / sqrt(0.02 * 0.98 * 0.002)) < 1e-12);
	assert_true(fabs(p - stats_norm_sf(z)) < 1e-15);
	assert_true(p < 0.001);
	/* one-sided: fewer errors after is not evidence */
	assert_true(stats_two_prop(30, 1000, 10, 1000, NULL) > 0.99);
	/* no data, no errors at all, impossible counts */
	assert_true(stats_two_prop(0, 0, 5, 10, NULL) == 1.0);
	assert_true(stats_two_prop(0, 100, 0, 100, NULL) == 1.0);
	assert_true(stats_two_prop(5, 4, 1, 10, NULL) == 1.0);
}

static double lchoose(double n, double k)
{
	return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0);
}

/* P(X >= k) for X ~ Binomial(n, p): the naive tail test's null law. */
static double binom_sf(double n, double p, double k)
{
	double s = 0.0;

	for (double x = k; x <= n; x++) {
		double t = exp(lchoose(n, x) + x * log(p) + (n - x) * log1p(-p));

		s += t;
		if (t < s * 1e-15 && x > n * p)
			break;
	}
	return s;
}

/*
 * Why the tail test uses the exceedance law: the baseline's p99 is itself
 * an estimate.  Testing the post count above it against Binomial(n, 1%)
 * ignores that and rejects a true null far more often than its level; the
 * exceedance law, over both thresholds with their weights, holds it.
 */
static void test_tail_threshold_noise_is_accounted_for(void **state)
{
	struct pg_hist *b = malloc(sizeof(*b)), *p = malloc(sizeof(*p));
	const int pairs = 4000;
	const double level = 0.005;
	unsigned int exact = 0, naive = 0;
	struct pg_rng r;

	(void)state;
	pg_rng_seed(&r, 18);
	for (int i = 0; i < pairs; i++) {
		struct stats_verdict v;

		fill(b, &r, D_LN_NARROW, C_NONE, 0);
		fill(p, &r, D_LN_NARROW, C_NONE, 0);
		exact += stats_tail_test(b, p, &v) <= level;
		naive += binom_sf(NSAMPLES, 0.01,
				  (double)llround(hist_count_above(p, hist_quantile(b, 0.99)))) <= level;
	}
	print_message("  tail test at level %.3f over %d null pairs: exceedance %.4f, "
		      "naive binomial %.4f\n", level, pairs, (double)exact / pairs,
		      (double)naive / pairs);
	assert_true(exact <= level * pairs * 1.5);
	assert_true(naive >= level * pairs * 4);
	free(b);
	free(p);
}

/* The exceedance p-value above baseline quantile @q, computed here from the histograms. */
static double exceed_at(const struct pg_hist *b, const struct pg_hist *p, double q)
{
	double thr = hist_quantile(b, q);
	uint64_t m = (uint64_t)llround(hist_count_above(b, thr));

	return stats_exceed_sf(hist_count(b), hist_count(p), m ? m : 1,
			       (uint64_t)llround(hist_count_above(p, thr)));
}

/*
 * Two thresholds, weighted: tail_p is min(p99 / 0.8, p99.5 / 0.2), and the
 * tail fields name the threshold that gave it.  A small tail shift is
 * decided at p99, a large one at p99.5.
 */
static void test_tail_two_thresholds_weighted(void **state)
{
	struct pg_hist *b = malloc(sizeof(*b)), *p = malloc(sizeof(*p));
	const double q97 = 20000.0 * exp(0.5 * 1.880794);
	static const double shifts[] = { 1.25, 3.0 };
	unsigned int at[2][2] = { { 0 } };
	struct pg_rng r;

	(void)state;
	pg_rng_seed(&r, 23);
	for (int c = 0; c < 2; c++) {
		for (int i = 0; i < 50; i++) {
			struct stats_verdict v = { 0 };
			double p99, p995, want;

			hist_reset(b);
			hist_reset(p);
			for (int k = 0; k < NSAMPLES; k++) {
				double x = pg_rng_lognormal(&r, 20000.0, 0.5);

				hist_add(b, (uint64_t)llround(pg_rng_lognormal(&r, 20000.0, 0.5)), 1);
				hist_add(p, (uint64_t)llround(x > q97 ? shifts[c] * x : x), 1);
			}
			p99 = exceed_at(b, p, 0.99);
			p995 = exceed_at(b, p, 0.995);
			want = fmin(1.0, fmin(p99 / 0.8, p995 / 0.2));
			assert_true(fabs(stats_tail_test(b, p, &v) - want) <= 1e-12 * want);
			assert_true(v.tail_p == want);
			assert_true(v.tail_q == (p99 / 0.8 <= p995 / 0.2 ? 0.99 : 0.995));
			assert_true(v.tail_threshold_ns == hist_quantile(b, v.tail_q));
			at[c][v.tail_q == 0.995]++;
		}
	}
	print_message("  deciding threshold: 1.25x p99 %u, p99.5 %u; 3x p99 %u, p99.5 %u\n",
		      at[0][0], at[0][1], at[1][0], at[1][1]);
	assert_true(at[0][0] > at[0][1]);
	assert_true(at[1][1] > at[1][0]);
	free(b);
	free(p);
}

/* The error z-test holds a level of 0.0025 at realistic error rates. */
static void test_error_test_holds_level(void **state)
{
	static const double rates[] = { 0.001, 0.01, 0.05 };
	const int trials = 4000, n = 2000;
	const double level = 0.0025;
	struct pg_rng r;

	(void)state;
	pg_rng_seed(&r, 19);
	for (unsigned int a = 0; a < 3; a++) {
		unsigned int sig = 0;

		for (int t = 0; t < trials; t++) {
			uint64_t e1 = 0, e2 = 0;

			for (int i = 0; i < n; i++) {
				e1 += pg_rng_unit(&r) < rates[a];
				e2 += pg_rng_unit(&r) < rates[a];
			}
			sig += stats_two_prop(e1, n, e2, n, NULL) <= level;
		}
		print_message("  error z-test, rate %.3f, %d a side: %u/%d significant at %.4f\n",
			      rates[a], n, sig, trials, level);
		/* 10 expected; a factor-2 anti-conservative test would give ~20 */
		assert_true(sig <= 18);
	}
}

/* ---- the verdict ------------------------------------------------------- */

static void test_inconclusive_below_min_samples(void **state)
{
	struct pg_hist *b = calloc(1, sizeof(*b)), *p = calloc(1, sizeof(*p));
	struct stats_verdict v;
	struct pg_policy pol;
	struct pg_rng r;

	(void)state;
	test_policy(&pol);
	pg_rng_seed(&r, 13);
	fill(b, &r, D_LN_NARROW, C_NONE, 0);
	hist_reset(p);
	/* a gross regression, but only 999 post calls */
	for (int i = 0; i < 999; i++)
		hist_add(p, (uint64_t)(3.0 * draw(&r, D_LN_NARROW)), 1);
	assert_int_equal(stats_compare(b, p, NULL, NULL, &pol, 0.01, &v), STATS_INCONCLUSIVE);
	assert_int_equal(v.n_post, 999);
	assert_int_equal(v.rules, 0);
	/* the numbers are still filled in for the audit */
	assert_true(v.p50_ratio > 2.5 && (v.significant & STATS_RULE_P50));
	hist_add(p, 60000, 1);
	assert_int_equal(stats_compare(b, p, NULL, NULL, &pol, 0.01, &v), STATS_REGRESSED);
	free(b);
	free(p);
}

/* Significant but small: a 3% slowdown over 200k calls is real, and below p50_ratio_max. */
static void test_significant_but_small_is_ok(void **state)
{
	struct pg_hist *b = calloc(1, sizeof(*b)), *p = calloc(1, sizeof(*p));
	struct stats_verdict v;
	struct pg_policy pol;
	struct pg_rng r;

	(void)state;
	test_policy(&pol);
	pg_rng_seed(&r, 14);
	for (int i = 0; i < 200000; i++) {
		hist_add(b, (uint64_t)draw(&r, D_LN_NARROW), 1);
		hist_add(p, (uint64_t)(1.03 * draw(&r, D_LN_NARROW)), 1);
	}
	assert_int_equal(stats_compare(b, p, NULL, NULL, &pol, 0.01, &v), STATS_OK);
	assert_true(v.significant & STATS_RULE_P50);
	assert_true(v.p50_ratio > 1.0 && v.p50_ratio < pol.p50_ratio_max);
	free(b);
	free(p);
}

static void test_error_rate_rule(void **state)
{
	struct pg_hist *b = calloc(1, sizeof(*b)), *p = calloc(1, sizeof(*p));
	struct stats_counts cb = { .exits = 5000, .errors = 5 };
	struct stats_counts cp = { .exits = 5000, .errors = 100 };	/* 0.1% -> 2% */
	struct stats_verdict v;
	struct pg_policy pol;
	struct pg_rng r;

	(void)state;
	test_policy(&pol);
	pg_rng_seed(&r, 15);
	fill(b, &r, D_LN_NARROW, C_NONE, 0);
	fill(p, &r, D_LN_NARROW, C_NONE, 0);
	assert_int_equal(stats_compare(b, p, &cb, &cp, &pol, 0.01, &v), STATS_REGRESSED);
	assert_int_equal(v.rules, STATS_RULE_ERRORS);
	assert_true(fabs(v.err_delta - 0.019) < 1e-12);
	/* the same rise, but the policy tolerates 2.5 points */
	pol.error_rate_delta_max = 0.025;
	assert_int_equal(stats_compare(b, p, &cb, &cp, &pol, 0.01, &v), STATS_OK);
	assert_true(v.significant & STATS_RULE_ERRORS);
	/* 5 -> 9 errors in 5000: within noise */
	pol.error_rate_delta_max = 0.0;
	cp.errors = 9;
	assert_int_equal(stats_compare(b, p, &cb, &cp, &pol, 0.01, &v), STATS_OK);
	assert_false(v.significant & STATS_RULE_ERRORS);
	free(b);
	free(p);
}

/* Alpha is split over the three tests: 15% bulk, 70% tail, 15% errors. */
static void test_alpha_split_over_tests(void **state)
{
	struct pg_hist *b = calloc(1, sizeof(*b)), *p = calloc(1, sizeof(*p));
	struct stats_verdict v;
	struct pg_policy pol;
	struct pg_rng r;

	(void)state;
	test_policy(&pol);
	pg_rng_seed(&r, 16);
	fill(b, &r, D_LN_NARROW, C_NONE, 0);
	fill(p, &r, D_LN_NARROW, C_ALL_125, 0);
	stats_compare(b, p, NULL, NULL, &pol, 0.008, &v);
	assert_true(fabs(v.alpha_bulk - 0.0012) < 1e-15);
	assert_true(fabs(v.alpha_tail - 0.0056) < 1e-15);
	assert_true(fabs(v.alpha_err - 0.0012) < 1e-15);
	assert_true(v.alpha_bulk + v.alpha_tail + v.alpha_err <= v.alpha * (1 + 1e-12));
	assert_true(v.rules & STATS_RULE_P50);
	assert_true(v.mw_p <= v.alpha_bulk);
	/* at an absurdly small alpha nothing is significant any more */
	stats_compare(b, p, NULL, NULL, &pol, 1e-300, &v);
	assert_int_equal(v.outcome, STATS_OK);
	free(b);
	free(p);
}

/*
 * False positives: baseline and post from the same distribution, 2000
 * calls a side, NULL_PAIRS pairs per distribution.  The verdict is
 * family-wise at alpha = 0.01, so at most 1% may be called regressed.
 */
static void test_false_positive_rate(void **state)
{
	struct pg_hist *b = malloc(sizeof(*b)), *p = malloc(sizeof(*p));
	struct pg_policy pol;
	struct pg_rng r;

	(void)state;
	test_policy(&pol);
	pg_rng_seed(&r, 21);
	for (int d = 0; d < D_COUNT; d++) {
		unsigned int regressed = 0, sig[3] = { 0 };

		for (int i = 0; i < NULL_PAIRS; i++) {
			struct stats_verdict v;

			fill(b, &r, d, C_NONE, 0);
			fill(p, &r, d, C_NONE, 0);
			if (stats_compare(b, p, NULL, NULL, &pol, pol.alpha, &v) == STATS_REGRESSED)
				regressed++;
			for (int t = 0; t < 3; t++)
				sig[t] += !!(v.significant & (1u << t));
		}
		print_message("  null %-30s regressed %u/%d, significant: mw %u, tail %u\n",
			      dist_name[d], regressed, NULL_PAIRS, sig[0], sig[1]);
		assert_true(regressed * 100 <= NULL_PAIRS);
		/* each test alone also holds its level (alpha/4, alpha/2) */
		assert_true(sig[0] * 100 <= NULL_PAIRS);
		assert_true(sig[1] * 100 <= NULL_PAIRS);
	}
	free(b);
	free(p);
}

static unsigned int detect(enum dist d, enum change c, int n, uint64_t seed, unsigned int want_rule,
			   unsigned int *rule_hits, double *mean_p50r, double *mean_p99r)
{
	struct pg_hist *b = malloc(sizeof(*b)), *p = malloc(sizeof(*p));
	double q97 = q97_of(d), s50 = 0.0, s99 = 0.0;
	unsigned int caught = 0, hits = 0;
	struct pg_policy pol;
	struct pg_rng r;

	test_policy(&pol);
	pg_rng_seed(&r, seed);
	for (int i = 0; i < POWER_PAIRS; i++) {
		struct stats_verdict v;

		fill_n(b, &r, d, C_NONE, q97, n);
		fill_n(p, &r, d, c, q97, n);
		if (stats_compare(b, p, NULL, NULL, &pol, pol.alpha, &v) == STATS_REGRESSED)
			caught++;
		hits += !!(v.rules & want_rule);
		s50 += v.p50_ratio;
		s99 += v.p99_ratio;
	}
	*rule_hits = hits;
	*mean_p50r = s50 / POWER_PAIRS;
	*mean_p99r = s99 / POWER_PAIRS;
	free(b);
	free(p);
	return caught;
}

static void check_power(enum change c, const char *what, unsigned int want_rule)
{
	for (int d = 0; d < D_COUNT; d++) {
		unsigned int hits, caught;
		double r50, r99;

		caught = detect(d, c, NSAMPLES, 1000 + 10 * d + c, want_rule, &hits, &r50, &r99);
		print_message("  %-26s %-30s caught %u/%d (rule %s %u), mean p50x %.3f p99x %.3f\n",
			      what, dist_name[d], caught, POWER_PAIRS, stats_rule_name(want_rule),
			      hits, r50, r99);
		assert_true(caught * 100 >= POWER_PAIRS * 95);
		/* the regression is caught for the reason it exists */
		assert_true(hits * 100 >= POWER_PAIRS * 95);
		if (c == C_TAIL3_150) {
			/* the scenario itself: p50 unchanged, p99 up >= 25% */
			assert_true(fabs(r50 - 1.0) < 0.02);
			assert_true(r99 >= 1.25);
		}
	}
}

static void test_power_all_calls_125(void **state)
{
	(void)state;
	check_power(C_ALL_125, "every call 1.25x", STATS_RULE_P50);
}

static void test_power_slowest_3pct_150(void **state)
{
	(void)state;
	check_power(C_TAIL3_150, "slowest 3% 1.5x", STATS_RULE_P99);
}

static void test_power_p50_2x(void **state)
{
	(void)state;
	check_power(C_P50_2X, "p50 2x", STATS_RULE_P50);
}

/*
 * A heavy tail (lognormal sigma 1.0, p99/p50 = 10): the slowest-3% case
 * leaves the post p99 region densely populated, so the baseline's p99
 * estimate is noisy where it matters.  2000 calls catch most, and 4000
 * (the gate's second look) catch nearly all.  The null holds either way.
 */
static void test_power_heavy_tail_needs_more_calls(void **state)
{
	unsigned int hits, caught2k, caught4k, fp = 0;
	double r50, r99;

	(void)state;
	caught2k = detect(D_HEAVY, C_TAIL3_150, 2000, 31, STATS_RULE_P99, &hits, &r50, &r99);
	caught4k = detect(D_HEAVY, C_TAIL3_150, 4000, 32, STATS_RULE_P99, &hits, &r50, &r99);
	for (int i = 0; i < 5; i++)
		fp += detect(D_HEAVY, C_NONE, 2000, 40 + i, STATS_RULE_P99, &hits, &r50, &r99);
	print_message("  slowest 3%% 1.5x %-30s caught %u/%d at 2000 calls, %u/%d at 4000; "
		      "null regressed %u/%d\n", dist_name[D_HEAVY], caught2k, POWER_PAIRS,
		      caught4k, POWER_PAIRS, fp, 5 * POWER_PAIRS);
	assert_true(caught2k * 100 >= POWER_PAIRS * 85);
	assert_true(caught4k * 100 >= POWER_PAIRS * 95);
	assert_true(fp * 100 <= 5 * POWER_PAIRS);
}

/* ---- concurrent control ------------------------------------------------ */

/* Scaling a histogram keeps its calls and moves its quantiles by the factor. */
static void test_hist_scale(void **state)
{
	struct pg_hist *h = calloc(1, sizeof(*h)), *s = calloc(1, sizeof(*s));
	static const double factors[] = { 0.5, 0.8, 1.0, 1.37, 2.0, 3.5 };
	struct pg_rng r;

	(void)state;
	pg_rng_seed(&r, 5);
	fill(h, &r, D_LN_WIDE, C_NONE, 0);
	for (unsigned int i = 0; i < sizeof(factors) / sizeof(factors[0]); i++) {
		hist_scale(s, h, factors[i]);
		assert_int_equal(hist_count(s), hist_count(h));
		for (double q = 0.1; q < 1.0; q += 0.2) {
			double want = hist_quantile(h, q) * factors[i], got = hist_quantile(s, q);

			/* two bucket widths: the source's and the target's */
			assert_true(fabs(got / want - 1.0) < 2.0 / PG_HIST_SUB + 1e-9);
		}
	}
	free(h);
	free(s);
}

/*
 * Drift on the host, as both functions see it: D_STEP multiplies every
 * call by 2 (a load step), D_BURST delays 15% of calls by an exponential
 * with mean 3x the median (CPU contention: a thread preempted mid-call).
 */
enum drift { DR_NONE, DR_STEP2, DR_BURST };

static double drifted(struct pg_rng *r, double x, enum drift dr, double med)
{
	switch (dr) {
	case DR_STEP2:
		return 2.0 * x;
	case DR_BURST:
		if (pg_rng_unit(r) < 0.15)
			x += -log(pg_rng_unit(r)) * 3.0 * med;
		return x;
	case DR_NONE:
	default:
		return x;
	}
}

/*
 * One run on lognormal(20us, 0.5): the function and its control drift by
 * @base_dr during the baseline and by @post_dr during the bake, and the
 * function's post calls carry change @c.  The verdicts with and without
 * the control.
 */
static void control_run(struct pg_rng *r, enum change c, enum drift base_dr, enum drift post_dr,
			int n, double alpha, bool *with, bool *without)
{
	const enum dist d = D_LN_NARROW;
	/* its median, and its 97th percentile: exp(1.8808 sigma) above it */
	const double med = 20000.0, q97 = med * exp(0.5 * 1.8808);
	static struct pg_hist b, p, cb, cp;
	struct stats_control ctl = { 0 };
	struct stats_verdict v;
	struct pg_policy pol;

	test_policy(&pol);
	hist_reset(&b), hist_reset(&p), hist_reset(&cb), hist_reset(&cp);
	for (int i = 0; i < n; i++) {
		double x = draw(r, d);

		hist_add(&b, (uint64_t)llround(drifted(r, x, base_dr, med)), 1);
		hist_add(&cb, (uint64_t)llround(drifted(r, draw(r, d), base_dr, med)), 1);
		hist_add(&cp, (uint64_t)llround(drifted(r, draw(r, d), post_dr, med)), 1);
		x = draw(r, d);
		if (c == C_ALL_125)
			x *= 1.25;
		else if (c == C_TAIL3_150 && x > q97)
			x *= 1.5;
		else if (c == C_TAIL3_125 && x > q97)
			x *= 1.25;
		hist_add(&p, (uint64_t)llround(drifted(r, x, post_dr, med)), 1);
	}
	stats_control_add(&ctl, &cb, &cp, pol.min_samples);
	*with = stats_compare_ctl(&b, &p, NULL, NULL, &pol, alpha, &ctl, &v) == STATS_REGRESSED;
	*without = stats_compare(&b, &p, NULL, NULL, &pol, alpha, &v) == STATS_REGRESSED;
}

static void control_rate_at(enum change c, enum drift base_dr, enum drift post_dr, int n,
			    int runs, uint64_t seed, double alpha, unsigned int *with,
			    unsigned int *without)
{
	struct pg_rng r;

	pg_rng_seed(&r, seed);
	*with = *without = 0;
	for (int i = 0; i < runs; i++) {
		bool w, wo;

		control_run(&r, c, base_dr, post_dr, n, alpha, &w, &wo);
		*with += w;
		*without += wo;
	}
}

/* At the policy's whole alpha (a single look). */
static void control_rate(enum change c, enum drift base_dr, enum drift post_dr, int n, int runs,
			 uint64_t seed, unsigned int *with, unsigned int *without)
{
	control_rate_at(c, base_dr, post_dr, n, runs, seed, POLICY_DEF_ALPHA, with, without);
}

/* A harmless patch under a drift that both share: at most 1% reverted with the control. */
static void test_control_null_under_drift(void **state)
{
	static const enum drift drifts[] = { DR_NONE, DR_STEP2, DR_BURST };
	static const char *const names[] = { "no drift", "load step 2x", "contention bursts" };
	unsigned int w, wo;

	(void)state;
	for (unsigned int i = 0; i < 3; i++) {
		control_rate(C_NONE, DR_NONE, drifts[i], NSAMPLES, POWER_PAIRS, 300 + i, &w, &wo);
		print_message("  null, %-18s reverted with control %u/%d, without %u/%d\n",
			      names[i], w, POWER_PAIRS, wo, POWER_PAIRS);
		assert_true(w * 100 <= POWER_PAIRS);
		if (drifts[i] != DR_NONE)	/* the case the control exists for */
			assert_true(wo * 2 > POWER_PAIRS);
	}
}

/* A slow patch is still caught with the control, under the drift and without it. */
static void test_control_power(void **state)
{
	unsigned int w, wo;

	(void)state;
	control_rate(C_ALL_125, DR_NONE, DR_STEP2, NSAMPLES, POWER_PAIRS, 400, &w, &wo);
	print_message("  every call 1.25x + load step 2x: caught with control %u/%d\n", w,
		      POWER_PAIRS);
	assert_true(w * 100 >= POWER_PAIRS * 95);
	control_rate(C_ALL_125, DR_NONE, DR_BURST, NSAMPLES, POWER_PAIRS, 401, &w, &wo);
	print_message("  every call 1.25x + bursts:       caught with control %u/%d\n", w,
		      POWER_PAIRS);
	assert_true(w * 100 >= POWER_PAIRS * 95);
	/* load during the baseline only: the drop at apply must not hide the patch */
	control_rate(C_ALL_125, DR_STEP2, DR_NONE, NSAMPLES, POWER_PAIRS, 402, &w, &wo);
	print_message("  every call 1.25x, load in the baseline only: caught with control "
		      "%u/%d, without %u/%d\n", w, POWER_PAIRS, wo, POWER_PAIRS);
	assert_true(w * 100 >= POWER_PAIRS * 95);
	assert_true(wo * 100 <= POWER_PAIRS * 5);
	control_rate(C_TAIL3_150, DR_NONE, DR_NONE, NSAMPLES, POWER_PAIRS, 403, &w, &wo);
	print_message("  slowest 3%% 1.5x, no drift: caught with control %u/%d, without %u/%d\n",
		      w, POWER_PAIRS, wo, POWER_PAIRS);
	control_rate(C_TAIL3_150, DR_NONE, DR_NONE, 4 * NSAMPLES, POWER_PAIRS, 404, &w, &wo);
	print_message("  slowest 3%% 1.5x, no drift, %d calls: caught with control %u/%d\n",
		      4 * NSAMPLES, w, POWER_PAIRS);
	assert_true(w * 100 >= POWER_PAIRS * 95);
}

/*
 * The goal's case: the slowest 3% 25% slower (p99 x1.25, p50 unchanged),
 * 2000 calls a side, against a control of as many calls, at the alpha of
 * the gate's first look (3/8 of 0.01): the power it has there, under no
 * drift, a 2x load step and bursts (measured 68%, 68%, 2%: contention that
 * preempts 15% of calls drowns a 25% tail shift, so no floor there); and
 * with 4x the calls on both sides (99.5%).  docs/statistics.md, "Concurrent
 * control", states these figures.
 */
static void test_control_tail_125_power(void **state)
{
	static const enum drift drifts[] = { DR_NONE, DR_STEP2, DR_BURST };
	static const char *const names[] = { "no drift", "load step 2x", "bursts" };
	static const unsigned int floor_pct[] = { 60, 60, 0 };
	unsigned int w, wo;

	(void)state;
	for (unsigned int i = 0; i < 3; i++) {
		control_rate_at(C_TAIL3_125, DR_NONE, drifts[i], NSAMPLES, POWER_PAIRS, 500 + i,
				0.00375, &w, &wo);
		print_message("  slowest 3%% 1.25x, %-13s %d calls: caught with control %u/%d\n",
			      names[i], NSAMPLES, w, POWER_PAIRS);
		assert_true(w * 100 >= POWER_PAIRS * floor_pct[i]);
	}
	control_rate_at(C_TAIL3_125, DR_NONE, DR_STEP2, 4 * NSAMPLES, POWER_PAIRS, 510, 0.00375,
			&w, &wo);
	print_message("  slowest 3%% 1.25x, load step 2x, %d calls: caught with control %u/%d\n",
		      4 * NSAMPLES, w, POWER_PAIRS);
	assert_true(w * 100 >= POWER_PAIRS * 95);
}

/* Controls with too few calls are left out; none left is before/after. */
static void test_control_too_few_calls(void **state)
{
	struct pg_hist *b = calloc(1, sizeof(*b)), *p = calloc(1, sizeof(*p));
	struct stats_control ctl = { 0 };
	struct stats_verdict v1, v2;
	struct pg_policy pol;
	struct pg_rng r;

	(void)state;
	test_policy(&pol);
	pg_rng_seed(&r, 9);
	fill_n(b, &r, D_LN_NARROW, C_NONE, 0, 500);
	fill_n(p, &r, D_LN_NARROW, C_NONE, 0, 500);
	stats_control_add(&ctl, b, p, pol.min_samples);
	assert_int_equal(ctl.n, 0);
	fill(b, &r, D_LN_NARROW, C_NONE, 0);
	fill(p, &r, D_LN_NARROW, C_P50_2X, 0);
	stats_compare_ctl(b, p, NULL, NULL, &pol, 0.01, &ctl, &v1);
	stats_compare(b, p, NULL, NULL, &pol, 0.01, &v2);
	assert_false(v1.has_control);
	assert_true(v1.mw_p == v2.mw_p && v1.tail_p == v2.tail_p && v1.rules == v2.rules);
	assert_true(v1.p50_ratio_adj == v1.p50_ratio);
	free(b);
	free(p);
}

/* Verdict numbers are consistent with the histograms they came from. */
static void test_verdict_numbers(void **state)
{
	struct pg_hist *b = calloc(1, sizeof(*b)), *p = calloc(1, sizeof(*p));
	struct stats_verdict v;
	struct pg_policy pol;
	struct pg_rng r;

	(void)state;
	test_policy(&pol);
	pg_rng_seed(&r, 17);
	fill(b, &r, D_HEAVY, C_NONE, 0);
	fill(p, &r, D_HEAVY, C_P50_2X, 0);
	stats_compare(b, p, NULL, NULL, &pol, 0.01, &v);
	assert_int_equal(v.n_base, NSAMPLES);
	assert_int_equal(v.n_post, NSAMPLES);
	assert_true(v.p50_base == hist_quantile(b, 0.5));
	assert_true(v.p99_post == hist_quantile(p, 0.99));
	assert_true(fabs(v.p50_ratio - v.p50_post / v.p50_base) < 1e-12);
	/* the tail fields are those of the threshold that decided */
	assert_true(v.tail_q == 0.99 || v.tail_q == 0.995);
	assert_true(v.tail_threshold_ns == hist_quantile(b, v.tail_q));
	assert_true(fabs(v.tail_base - (1.0 - v.tail_q) * NSAMPLES) <= 1.0);
	assert_true(v.tail_post > 3.0 * v.tail_expected);
	assert_true(v.p50_ratio > 1.8 && v.p50_ratio < 2.2);
	assert_string_equal(stats_outcome_name(v.outcome), "regressed");
	free(b);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_norm_sf),
		cmocka_unit_test(test_mann_whitney_u_matches_pair_count),
		cmocka_unit_test(test_mann_whitney_textbook_case),
		cmocka_unit_test(test_mann_whitney_ties),
		cmocka_unit_test(test_exceed_law_against_simulation),
		cmocka_unit_test(test_exceed_law_large_counts),
		cmocka_unit_test(test_two_proportion),
		cmocka_unit_test(test_tail_threshold_noise_is_accounted_for),
		cmocka_unit_test(test_tail_two_thresholds_weighted),
		cmocka_unit_test(test_error_test_holds_level),
		cmocka_unit_test(test_inconclusive_below_min_samples),
		cmocka_unit_test(test_significant_but_small_is_ok),
		cmocka_unit_test(test_error_rate_rule),
		cmocka_unit_test(test_alpha_split_over_tests),
		cmocka_unit_test(test_false_positive_rate),
		cmocka_unit_test(test_power_all_calls_125),
		cmocka_unit_test(test_power_slowest_3pct_150),
		cmocka_unit_test(test_power_p50_2x),
		cmocka_unit_test(test_power_heavy_tail_needs_more_calls),
		cmocka_unit_test(test_verdict_numbers),
		cmocka_unit_test(test_hist_scale),
		cmocka_unit_test(test_control_null_under_drift),
		cmocka_unit_test(test_control_power),
		cmocka_unit_test(test_control_tail_125_power),
		cmocka_unit_test(test_control_too_few_calls),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
