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

double stats_tail_width(const struct pg_hist *h)
{
	double lo = hist_quantile(h, 0.975), hi = hist_quantile(h, 0.995);

	if (!hist_count(h) || !(lo > 0.0) || !(hi > 0.0))
		return 0.0;
	/* one bucket's width at least: a narrow law does not get an exact p99 */
	return fmax(log(hi / lo), 1.0 / PG_HIST_SUB) / 0.02;
}

uint64_t stats_tail_calls(const struct pg_hist *base, uint64_t ref_calls, uint64_t floor,
			  uint64_t cap)
{
	double w = stats_tail_width(base) / STATS_TAIL_WIDTH_REF;
	double n = (double)ref_calls * w * w;

	if (!(n > (double)floor))
		return floor;
	return n >= (double)cap ? cap : (uint64_t)ceil(n);
}

/* Half-width of the quantile span stats_log_median_se reads: p45 to p55. */
#define STATS_MED_SPAN	0.05

double stats_log_median_se(const struct pg_hist *h)
{
	uint64_t n = hist_count(h);
	double lo = hist_quantile(h, 0.5 - STATS_MED_SPAN), hi = hist_quantile(h, 0.5 + STATS_MED_SPAN);

	if (!n || !(lo > 0.0) || !(hi > 0.0))
		return 0.0;
	/* one bucket's width at least: a narrow law does not get an exact median */
	return fmax(log(hi / lo), 1.0 / PG_HIST_SUB) / (4.0 * STATS_MED_SPAN * sqrt((double)n));
}

static const double ctl_qs[STATS_CTL_NQ] = STATS_CTL_QS;

/*
 * How much denser @post is than the baseline around the baseline's
 * quantile @q: its share in the baseline's band q +- 0.005 over the
 * band's 1%, at least 1.  A threshold off by a little moves a post count
 * by that much more than the baseline's, so it scales the threshold's
 * part of the variance (a drift that fattens the tail makes it > 1).
 * @base is the (scaled) baseline whose quantiles are the thresholds.
 */
static double band_density(const struct pg_hist *base, const struct pg_hist *post, double q)
{
	double lo = hist_quantile(base, q - 0.005), hi = hist_quantile(base, q + 0.005);
	double np = (double)hist_count(post);

	if (!(np > 0.0))
		return 1.0;
	return fmax(1.0, (hist_count_above(post, lo) - hist_count_above(post, hi)) / np / 0.01);
}
static const double ctl_ws[STATS_CTL_NQ] = STATS_CTL_WS;

void stats_control_add(struct stats_control *c, const struct pg_hist *base,
		       const struct pg_hist *post, uint64_t min_samples)
{
	uint64_t nb = hist_count(base), np = hist_count(post);
	double b50 = hist_quantile(base, 0.50), b99 = hist_quantile(base, 0.99);
	double p50 = hist_quantile(post, 0.50), p99 = hist_quantile(post, 0.99);

	if (nb < min_samples || np < min_samples || !nb || !np || !(b50 > 0.0) ||
	    !(b99 > 0.0) || !(p50 > 0.0) || !(p99 > 0.0))
		return;
	c->n++;
	c->n_base += nb;
	c->n_post += np;
	c->log_p50 += log(p50 / b50);
	c->log_p99 += log(p99 / b99);
	c->var_log_p50 += pow(stats_log_median_se(base), 2) + pow(stats_log_median_se(post), 2);
	/* the tail above its baseline's quantiles, moved by its own scale drift (p50 ratio) */
	for (unsigned int i = 0; i < STATS_CTL_NQ; i++) {
		double t = hist_quantile(base, ctl_qs[i]);

		double g, lo = hist_quantile(base, ctl_qs[i] - 0.005) * (p50 / b50);
		double hi = hist_quantile(base, ctl_qs[i] + 0.005) * (p50 / b50);
		double m = hist_count_above(base, t);

		g = fmax(1.0, (hist_count_above(post, lo) - hist_count_above(post, hi)) /
			      (double)np / 0.01);
		c->tail_base[i] += m;
		c->tail_base_var[i] += g * g * (m + 0.5);
		c->tail_post[i] += hist_count_above(post, t * (p50 / b50));
	}
}

/*
 * The tail against the control, a difference in differences of exceedance
 * shares: the function's share of post calls above its baseline's
 * quantile q moved by the control's scale drift (@scaled's quantile q),
 * minus its baseline's share above its quantile q (1 - q), against the
 * same difference of the controls (each above its own baseline quantile
 * moved by its own p50 ratio).  A scale drift leaves both differences at
 * 0; contention that preempts a share p of the calls of both functions
 * adds p to both.  Poisson variance of the four shares (half a call added
 * to each count).  One test per STATS_CTL_QS threshold, weighted
 * Bonferroni; fills the ctl_tail_* fields of @v from the deciding one.
 * Returns the one-sided p-value that the function's tail grew by more than
 * the control's.
 */
static double tail_vs_control(const struct pg_hist *base, const struct pg_hist *scaled,
			      const struct pg_hist *post, const struct stats_control *c,
			      struct stats_verdict *v)
{
	double nb = (double)v->n_base, np = (double)v->n_post;
	double ncb = (double)c->n_base, ncp = (double)c->n_post;
	double pmin = INFINITY;

	for (unsigned int i = 0; i < STATS_CTL_NQ; i++) {
		double m = hist_count_above(base, hist_quantile(base, ctl_qs[i]));
		double k = hist_count_above(post, hist_quantile(scaled, ctl_qs[i]));
		double d, var, p, k0, g = band_density(scaled, post, ctl_qs[i]);

		d = (k / np - m / nb) - (c->tail_post[i] / ncp - c->tail_base[i] / ncb);
		/*
		 * The function's post count as the null expects it: its baseline
		 * share, plus the control's change when that grew.
		 */
		k0 = np * (m / nb + fmax(0.0, c->tail_post[i] / ncp - c->tail_base[i] / ncb));
		var = (k0 + 0.5) / (np * np) + g * g * (m + 0.5) / (nb * nb) +
		      (c->tail_post[i] + 0.5) / (ncp * ncp) + c->tail_base_var[i] / (ncb * ncb);
		p = stats_norm_sf(d / sqrt(var)) / ctl_ws[i];
		if (p < pmin) {
			pmin = p;
			v->ctl_tail_q = ctl_qs[i];
			v->ctl_tail_base = c->tail_base[i];
			v->ctl_tail_post = c->tail_post[i];
		}
	}
	return fmin(1.0, pmin);
}

/*
 * Whether the controls' own tails grew beyond their scale drift: their
 * calls above their moved baseline p99 (the last STATS_CTL_QS threshold)
 * against the share their baselines had, one-sided z past
 * STATS_CTL_TAIL_Z (Poisson variance, the baselines' noise included).
 * Then the tail's practical effect is judged beyond the controls' p99
 * ratio, not their p50 ratio alone.
 */
static bool control_tail_grew(const struct stats_control *c)
{
	const unsigned int i = STATS_CTL_NQ - 1;
	double ncb = (double)c->n_base, ncp = (double)c->n_post, e, var;

	if (!(ncb > 0.0) || !(ncp > 0.0))
		return false;
	e = c->tail_base[i] / ncb * ncp;
	var = e + e * ncp / ncb + 0.5;
	return (c->tail_post[i] - e) / sqrt(var) > STATS_CTL_TAIL_Z;
}

enum stats_outcome stats_compare(const struct pg_hist *base, const struct pg_hist *post,
				 const struct stats_counts *cb, const struct stats_counts *cp,
				 const struct pg_policy *pol, double alpha,
				 struct stats_verdict *v)
{
	return stats_compare_ctl(base, post, cb, cp, pol, alpha, NULL, v);
}

enum stats_outcome stats_compare_ctl(const struct pg_hist *base, const struct pg_hist *post,
				     const struct stats_counts *cb, const struct stats_counts *cp,
				     const struct pg_policy *pol, double alpha,
				     const struct stats_control *ctl, struct stats_verdict *v)
{
	bool has_ctl = ctl && ctl->n;

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
	v->p50_ratio_adj = v->p50_ratio;
	v->p99_ratio_adj = v->p99_ratio;

	if (has_ctl) {
		struct pg_hist scaled;	/* 8.7 KiB: the stack holds it */

		v->has_control = true;
		v->ctl_funcs = ctl->n;
		v->ctl_n_base = ctl->n_base;
		v->ctl_n_post = ctl->n_post;
		v->ctl_p50_ratio = exp(ctl->log_p50 / ctl->n);
		v->ctl_p99_ratio = exp(ctl->log_p99 / ctl->n);
		v->p50_ratio_adj = v->p50_ratio / v->ctl_p50_ratio;
		/*
		 * The p99 beyond the control's scale drift: its p50 ratio, which
		 * 2000 calls estimate to about 2% where a p99 ratio has 6% of
		 * noise.  A drift that fattens only the tails (contention) shows
		 * in the tail test against the control, not here.
		 */
		v->p99_ratio_adj = v->p99_ratio / v->ctl_p50_ratio;
		if (control_tail_grew(ctl))
			v->p99_ratio_adj = v->p99_ratio / fmax(v->ctl_p50_ratio, v->ctl_p99_ratio);
		/* the baseline as the control's drift would have moved it */
		hist_scale(&scaled, base, v->ctl_p50_ratio);
		v->mw_p = stats_mann_whitney(&scaled, post, &v->mw_u, &v->mw_z);
		/*
		 * The scaled baseline holds the control's drift as if it were
		 * exact; the log medians' z-test holds its noise.  Both must
		 * stand out (intersection-union).
		 */
		if (v->p50_ratio > 0.0) {
			double se = sqrt(pow(stats_log_median_se(base), 2) +
					 pow(stats_log_median_se(post), 2) +
					 ctl->var_log_p50 / ((double)ctl->n * ctl->n));

			v->ctl_bulk_p = se > 0.0 ? stats_norm_sf(log(v->p50_ratio_adj) / se) : 1.0;
		} else {
			v->ctl_bulk_p = 1.0;
		}
		v->mw_p = fmax(v->mw_p, v->ctl_bulk_p);
		/*
		 * The tail must stand out both against the baseline moved by the
		 * control's scale drift and against the control's own tail change
		 * (an intersection-union test: its p-value is the larger of the
		 * two).  The first sees a tail that grew more than the load step
		 * explains; the second, a tail that grew more than contention
		 * fattened the control's.
		 */
		stats_tail_test(&scaled, post, v);
		v->ctl_tail_p = v->n_base && v->n_post ?
				tail_vs_control(base, &scaled, post, ctl, v) : 1.0;
		v->tail_p = fmax(v->tail_p, v->ctl_tail_p);
	} else {
		v->mw_p = stats_mann_whitney(base, post, &v->mw_u, &v->mw_z);
		stats_tail_test(base, post, v);
	}

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
	if ((v->significant & STATS_RULE_P50) && v->p50_ratio_adj > pol->p50_ratio_max)
		v->rules |= STATS_RULE_P50;
	if ((v->significant & STATS_RULE_P99) && v->p99_ratio_adj > pol->p99_ratio_max)
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
