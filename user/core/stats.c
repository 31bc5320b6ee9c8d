// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Baseline vs post-patch statistics on log-linear histograms.  Pure: no
 * syscalls, no clocks, no allocation.  The choice of tests and the alpha
 * bookkeeping are explained in docs/statistics.md.
 */
#include <math.h>
#include <string.h>
#include "hist.h"
#include "policy.h"
#include "stats.h"

double stats_norm_sf(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

double stats_mann_whitney(const struct pg_hist *base, const struct pg_hist *post,
			  double *u, double *z)
{
	double nb = 0.0, np = 0.0, below = 0.0, U = 0.0, ties = 0.0;
	double n, mean, var, zz, p = 1.0;

	/*
	 * One pass in bucket order: a post sample beats every baseline sample
	 * in a lower bucket and half of those in its own (a tie).
	 */
	for (unsigned int i = 0; i < PG_HIST_BUCKETS; i++) {
		double b = (double)base->slots[i], q = (double)post->slots[i], t = b + q;

		if (t == 0.0)
			continue;
		U += q * (below + 0.5 * b);
		below += b;
		ties += t * t * t - t;
		nb += b;
		np += q;
	}
	if (u)
		*u = U;
	if (z)
		*z = 0.0;
	if (nb == 0.0 || np == 0.0)
		return 1.0;
	n = nb + np;
	mean = nb * np / 2.0;
	var = nb * np / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
	if (!(var > 0.0))
		return 1.0;
	/* continuity correction towards the null */
	zz = (U - mean - 0.5) / sqrt(var);
	p = stats_norm_sf(zz);
	if (z)
		*z = zz;
	return p;
}

/* Beyond this many terms at or below the mean, the exceedance p-value is approximated. */
#define STATS_EXACT_MAX_TERMS	2000

static double lchoose(double n, double k)
{
	return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0);
}

/*
 * P(K = k): the top k+m-1 places of the pooled ranking hold k post and
 * m-1 baseline samples, place k+m is a baseline sample, and the remaining
 * n_post-k post samples fall among the last N-k-m places.
 */
static double exceed_lpmf(double nb, double np, double m, double k)
{
	return lchoose(k + m - 1.0, k) + lchoose(nb + np - k - m, np - k) -
	       lchoose(nb + np, np);
}

double stats_exceed_sf(uint64_t n_base, uint64_t n_post, uint64_t m, uint64_t k)
{
	double nb = (double)n_base, np = (double)n_post, mean, sum = 0.0;

	if (m < 1 || m > n_base || k == 0)
		return 1.0;
	if (k > n_post)
		return 0.0;
	mean = np * (double)m / (nb + 1.0);
	if ((double)k <= mean && k > STATS_EXACT_MAX_TERMS) {
		/*
		 * At or below the mean the p-value is large and its digits do not
		 * matter; K is beta-binomial(n_post, m, n_base - m + 1), so a
		 * normal approximation with its variance avoids summing
		 * millions of terms on busy functions.
		 */
		double a = (double)m, b = nb - (double)m + 1.0, ab = a + b;
		double var = np * a * b * (ab + np) / (ab * ab * (ab + 1.0));

		return stats_norm_sf(((double)k - 0.5 - mean) / sqrt(var));
	}
	if ((double)k <= mean) {
		/* lower side is short: 1 - P(K < k) */
		for (uint64_t j = 0; j < k; j++)
			sum += exp(exceed_lpmf(nb, np, (double)m, (double)j));
		return sum >= 1.0 ? 0.0 : 1.0 - sum;
	}
	/* upper side, past the mode: terms only shrink, stop when negligible */
	for (uint64_t j = k; j <= n_post; j++) {
		double t = exp(exceed_lpmf(nb, np, (double)m, (double)j));

		sum += t;
		if (t <= sum * 1e-15)
			break;
	}
	return sum > 1.0 ? 1.0 : sum;
}

/* Baseline quantiles the tail test uses as thresholds (stats.h). */
static const double tail_qs[STATS_TAIL_NQ] = STATS_TAIL_QS;
static const double tail_ws[STATS_TAIL_NQ] = STATS_TAIL_WS;

/* One threshold's numbers, as the tail_* fields of the verdict hold them. */
struct tail_one {
	double q, thr, base, post, expected, p;
};

/* The exceedance test above the baseline's quantile @q (@nb, @np: the counts). */
static void tail_one(const struct pg_hist *base, const struct pg_hist *post, uint64_t nb,
		     uint64_t np, double q, struct tail_one *t)
{
	uint64_t m, k;

	t->q = q;
	t->thr = hist_quantile(base, q);
	t->base = hist_count_above(base, t->thr);
	t->post = hist_count_above(post, t->thr);
	/*
	 * Both counts interpolate inside the threshold's bucket the same way;
	 * round them to whole calls for the exact law.
	 */
	m = (uint64_t)llround(t->base);
	if (m < 1)
		m = 1;
	if (m > nb)
		m = nb;
	k = (uint64_t)llround(t->post);
	t->expected = (double)np * (double)m / ((double)nb + 1.0);
	t->p = stats_exceed_sf(nb, np, m, k);
}

double stats_tail_test(const struct pg_hist *base, const struct pg_hist *post,
		       struct stats_verdict *v)
{
	uint64_t nb = hist_count(base), np = hist_count(post);
	struct tail_one best = { .q = tail_qs[0], .p = 1.0 }, t;
	double pmin = INFINITY;

	/*
	 * One exceedance test per threshold, each at its share w_i of the
	 * tail's alpha (weighted Bonferroni): the reported p-value is the
	 * smallest p_i / w_i, and the tail_* fields are those of the threshold
	 * that gave it.
	 */
	for (unsigned int i = 0; nb && np && i < STATS_TAIL_NQ; i++) {
		tail_one(base, post, nb, np, tail_qs[i], &t);
		if (t.p / tail_ws[i] < pmin) {
			pmin = t.p / tail_ws[i];
			best = t;
			best.p = fmin(1.0, pmin);
		}
	}
	v->tail_q = best.q;
	v->tail_threshold_ns = best.thr;
	v->tail_base = best.base;
	v->tail_post = best.post;
	v->tail_expected = best.expected;
	v->tail_p = best.p;
	return v->tail_p;
}

double stats_two_prop(uint64_t e1, uint64_t n1, uint64_t e2, uint64_t n2, double *z)
{
	double p1, p2, pp, se, zz;

	if (z)
		*z = 0.0;
	if (!n1 || !n2 || e1 > n1 || e2 > n2 || (!e1 && !e2))
		return 1.0;
	p1 = (double)e1 / (double)n1;
	p2 = (double)e2 / (double)n2;
	pp = (double)(e1 + e2) / (double)(n1 + n2);
	se = sqrt(pp * (1.0 - pp) * (1.0 / (double)n1 + 1.0 / (double)n2));
	if (!(se > 0.0))
		return 1.0;
	zz = (p2 - p1) / se;
	if (z)
		*z = zz;
	return stats_norm_sf(zz);
}

static double ratio(double post, double base)
{
	return base > 0.0 ? post / base : 0.0;
}

enum stats_outcome stats_compare(const struct pg_hist *base, const struct pg_hist *post,
				 const struct stats_counts *cb, const struct stats_counts *cp,
				 const struct pg_policy *pol, double alpha,
				 struct stats_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->alpha = alpha;
	v->alpha_bulk = alpha * STATS_ALPHA_SHARE_BULK;
	v->alpha_tail = alpha * STATS_ALPHA_SHARE_TAIL;
	v->alpha_err = alpha * STATS_ALPHA_SHARE_ERR;
	v->n_base = hist_count(base);
	v->n_post = hist_count(post);
	v->p50_base = hist_quantile(base, 0.50);
	v->p90_base = hist_quantile(base, 0.90);
	v->p99_base = hist_quantile(base, 0.99);
	v->p50_post = hist_quantile(post, 0.50);
	v->p90_post = hist_quantile(post, 0.90);
	v->p99_post = hist_quantile(post, 0.99);
	v->p50_ratio = ratio(v->p50_post, v->p50_base);
	v->p90_ratio = ratio(v->p90_post, v->p90_base);
	v->p99_ratio = ratio(v->p99_post, v->p99_base);

	v->mw_p = stats_mann_whitney(base, post, &v->mw_u, &v->mw_z);
	stats_tail_test(base, post, v);

	if (cb)
		v->cnt_base = *cb;
	if (cp)
		v->cnt_post = *cp;
	if (v->cnt_base.exits)
		v->err_rate_base = (double)v->cnt_base.errors / (double)v->cnt_base.exits;
	if (v->cnt_post.exits)
		v->err_rate_post = (double)v->cnt_post.errors / (double)v->cnt_post.exits;
	v->err_delta = v->err_rate_post - v->err_rate_base;
	v->err_p = stats_two_prop(v->cnt_base.errors, v->cnt_base.exits,
				  v->cnt_post.errors, v->cnt_post.exits, &v->err_z);

	if (v->mw_p <= v->alpha_bulk)
		v->significant |= STATS_RULE_P50;
	if (v->tail_p <= v->alpha_tail)
		v->significant |= STATS_RULE_P99;
	if (v->err_p <= v->alpha_err)
		v->significant |= STATS_RULE_ERRORS;

	if (v->n_base < pol->min_samples || v->n_post < pol->min_samples) {
		v->outcome = STATS_INCONCLUSIVE;
		return v->outcome;
	}
	if ((v->significant & STATS_RULE_P50) && v->p50_ratio > pol->p50_ratio_max)
		v->rules |= STATS_RULE_P50;
	if ((v->significant & STATS_RULE_P99) && v->p99_ratio > pol->p99_ratio_max)
		v->rules |= STATS_RULE_P99;
	if ((v->significant & STATS_RULE_ERRORS) && v->err_delta > pol->error_rate_delta_max)
		v->rules |= STATS_RULE_ERRORS;
	v->outcome = v->rules ? STATS_REGRESSED : STATS_OK;
	return v->outcome;
}

const char *stats_outcome_name(enum stats_outcome o)
{
	switch (o) {
	case STATS_OK:
		return "ok";
	case STATS_REGRESSED:
		return "regressed";
	case STATS_INCONCLUSIVE:
		return "inconclusive";
	}
	return "?";
}

const char *stats_rule_name(unsigned int rule)
{
	switch (rule) {
	case STATS_RULE_P50:
		return "p50";
	case STATS_RULE_P99:
		return "p99";
	case STATS_RULE_ERRORS:
		return "errors";
	}
	return NULL;
}
