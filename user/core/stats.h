/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Baseline vs post-patch comparison of one function: quantile ratios and
 * three one-sided tests (post worse than baseline).  The comparison's alpha
 * is split over them (Bonferroni, weighted): the tail test gets 70%, the
 * bulk and error tests 15% each, since the bulk test has power to spare
 * and tails are where live patches hurt (measured: docs/statistics.md).
 *
 *   bulk    Mann-Whitney U on the binned latencies (ties = same bucket,
 *           tie-corrected variance, normal approximation);
 *   tail    exceedance tests: post calls above the baseline's p99 and
 *           p99.5, each with the exact distribution-free law of that count
 *           (the baseline quantile is itself an estimate, and the law
 *           accounts for it), Bonferroni over the thresholds;
 *   errors  two-proportion z-test on errors/exits.
 *
 * A rule fires only when its test is significant AND its practical effect
 * is past the policy threshold.  See docs/statistics.md.
 */
#ifndef PG_CORE_STATS_H
#define PG_CORE_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <patchgate/abi.h>

struct pg_policy;

/*
 * Quantiles of the baseline that the tail test uses as thresholds, and the
 * share of the tail's alpha each gets (weighted Bonferroni; they sum to 1).
 * p99 sees a tail that got a little slower and carries the weight: it is
 * the best single threshold for a 25% p99 shift.  p99.5 catches a tail that
 * got much slower one look earlier (bench/detection, docs/statistics.md).
 */
#define STATS_TAIL_NQ		2
#define STATS_TAIL_QS		{ 0.99, 0.995 }
#define STATS_TAIL_WS		{ 0.8, 0.2 }
/*
 * Thresholds of the tail test against a concurrent control (baseline
 * quantiles, moved by the control's scale drift) and their shares of that
 * test's alpha.  p98 sees a slowed slowest 3% with twice the z of p99;
 * p99 keeps a slowed slowest 1% in view (docs/statistics.md).
 */
#define STATS_CTL_NQ		1
#define STATS_CTL_QS		{ 0.99 }
#define STATS_CTL_WS		{ 1.0 }
/* The controls' tail grew (one-sided z past this): p99_ratio_adj divides by their p99 ratio. */
#define STATS_CTL_TAIL_Z	1.645
/* Shares of alpha per test (Bonferroni, weighted); they sum to 1. */
#define STATS_ALPHA_SHARE_BULK	0.15
#define STATS_ALPHA_SHARE_TAIL	0.70
#define STATS_ALPHA_SHARE_ERR	0.15

enum stats_outcome {
	STATS_OK = 0,
	STATS_REGRESSED,
	STATS_INCONCLUSIVE,	/* fewer than min_samples on a side */
};

/* Bits of stats_verdict.rules: which regression rules fired. */
enum stats_rule {
	STATS_RULE_P50 = 1u << 0,	/* Mann-Whitney significant, p50 ratio > p50_ratio_max */
	STATS_RULE_P99 = 1u << 1,	/* tail test significant, p99 ratio > p99_ratio_max */
	STATS_RULE_ERRORS = 1u << 2,	/* z-test significant, rise > error_rate_delta_max */
};

/* Call counters of one side: returns seen and returns classed as errors. */
struct stats_counts {
	uint64_t exits;
	uint64_t errors;
};

/* Every number behind one comparison, for the audit record. */
struct stats_verdict {
	enum stats_outcome outcome;
	unsigned int rules;		/* STATS_RULE_* that fired */
	unsigned int significant;	/* STATS_RULE_* whose test alone was significant */
	double alpha;			/* alpha this comparison was run at */
	double alpha_bulk;		/* alpha * STATS_ALPHA_SHARE_BULK */
	double alpha_tail;		/* alpha * STATS_ALPHA_SHARE_TAIL */
	double alpha_err;		/* alpha * STATS_ALPHA_SHARE_ERR */

	uint64_t n_base, n_post;	/* timed calls (histogram counts) */
	double p50_base, p90_base, p99_base;	/* ns */
	double p50_post, p90_post, p99_post;
	double p50_ratio, p90_ratio, p99_ratio;	/* post / base; 0 when undefined */

	double mw_u;			/* U of the post sample */
	double mw_z;			/* standardised, continuity-corrected */
	double mw_p;			/* one-sided: post stochastically larger */

	double tail_q;			/* threshold quantile behind tail_p (STATS_TAIL_QS) */
	double tail_threshold_ns;	/* baseline quantile tail_q */
	double tail_base;		/* baseline calls above it */
	double tail_post;		/* post calls above it */
	double tail_expected;		/* post calls expected above it under no change */
	double tail_p;			/* one-sided: more post calls above than chance */

	/*
	 * The concurrent control (stats_compare_ctl), when one was used: its
	 * drift over the same interval, and the function's ratios with that
	 * drift divided out.  Without a control, has_control is false and the
	 * *_adj ratios equal the plain ones.
	 */
	bool has_control;
	unsigned int ctl_funcs;		/* controls with min_samples on both sides */
	uint64_t ctl_n_base, ctl_n_post;
	double ctl_p50_ratio, ctl_p99_ratio;	/* the control's post / base */
	double ctl_tail_q;		/* threshold quantile behind ctl_tail_p (STATS_CTL_QS) */
	double ctl_tail_base, ctl_tail_post;	/* its calls above its own baseline ctl_tail_q,
						   the post's moved by its p50 ratio */
	double ctl_tail_p;		/* the tail's exceedance share against the control's */
	double ctl_bulk_p;		/* log p50 ratio against the control's (z, both noises) */
	double p50_ratio_adj;		/* p50_ratio / the control's p50 ratio */
	double p99_ratio_adj;		/* p99_ratio / the control's p50 ratio (its scale drift), or
					   / its p99 ratio when larger and its tail grew */

	struct stats_counts cnt_base, cnt_post;
	double err_rate_base, err_rate_post, err_delta;	/* fractions; delta = post - base */
	double err_z;
	double err_p;			/* one-sided: post error rate higher */
};

/*
 * A concurrent control: functions the patch does not touch, measured over
 * the same baseline and bake.  Add each control's two histograms with
 * stats_control_add(); a control with fewer than @min_samples calls on a
 * side is left out.  docs/statistics.md, "Concurrent control".
 */
struct stats_control {
	unsigned int n;			/* controls added */
	uint64_t n_base, n_post;	/* their calls, summed */
	double log_p50, log_p99;	/* sums of log(post / base) quantile ratios */
	double var_log_p50;		/* sum of their log p50 ratios' variances */
	/*
	 * Calls above each control's own baseline quantile STATS_CTL_QS[i],
	 * summed; post calls above it moved by that control's p50 ratio.
	 */
	double tail_base[STATS_CTL_NQ], tail_post[STATS_CTL_NQ];
	/* the thresholds' part of the variance: tail_base scaled by the post's density there */
	double tail_base_var[STATS_CTL_NQ];
};

void stats_control_add(struct stats_control *c, const struct pg_hist *base,
		       const struct pg_hist *post, uint64_t min_samples);

/*
 * Standard error of the log of @h's median, from the spread of its log
 * quantiles around the median (the order-statistic law: 1 / (2 f sqrt n)).
 * 0 when @h is empty.
 */
double stats_log_median_se(const struct pg_hist *h);

/*
 * Width of @h's tail around p99: the slope of its log quantile,
 * (log q99.5 - log q97.5) / 0.02 (a band of 2% of the calls, so that a
 * few thousand calls read it to about 15%).  The standard error of a log
 * p99 from n calls is about this times sqrt(0.0099 / n) (the order-statistic
 * law), so the calls a given precision needs grow with its square.  A
 * lognormal's is 30.8 sigma (STATS_TAIL_WIDTH_REF: sigma 0.5).  0 when @h
 * is empty.
 */
double stats_tail_width(const struct pg_hist *h);
#define STATS_TAIL_WIDTH_REF	15.40

/*
 * Calls per side the tail of @base needs for @ref_calls' precision at a
 * lognormal sigma 0.5's width: @ref_calls x (width / STATS_TAIL_WIDTH_REF)^2,
 * at least @floor, at most @cap.  policy key tail_calls (docs/policy.md).
 */
uint64_t stats_tail_calls(const struct pg_hist *base, uint64_t ref_calls, uint64_t floor,
			  uint64_t cap);

/* Upper tail of the standard normal, P(Z > z). */
double stats_norm_sf(double z);

/*
 * Mann-Whitney U of @post against @base over histogram buckets (samples in
 * one bucket are ties).  Stores U and the continuity-corrected z in @u/@z
 * (either may be NULL).  Returns the one-sided p-value that post is
 * stochastically larger; 1.0 when a side is empty or every sample ties.
 */
double stats_mann_whitney(const struct pg_hist *base, const struct pg_hist *post,
			  double *u, double *z);

/*
 * Exceedance law: with @n_base baseline and @n_post post samples drawn from
 * one continuous distribution, the probability that at least @k post
 * samples lie above the @m-th largest baseline sample.  Exact,
 * distribution-free, computed with lgamma.  @m >= 1.
 */
double stats_exceed_sf(uint64_t n_base, uint64_t n_post, uint64_t m, uint64_t k);

/*
 * Tail test: for each threshold = baseline quantile in STATS_TAIL_QS, count
 * the calls of each side above it and take the one-sided p-value of the
 * post count (stats_exceed_sf).  Returns the smallest times STATS_TAIL_NQ
 * (capped at 1), and fills the tail_* fields of @v from that threshold.
 */
double stats_tail_test(const struct pg_hist *base, const struct pg_hist *post,
		       struct stats_verdict *v);

/*
 * One-sided two-proportion z-test (pooled variance) that the error rate
 * e2/n2 exceeds e1/n1.  Stores z in @z (may be NULL).  Returns 1.0 when
 * either n is 0 or no errors were seen at all.
 */
double stats_two_prop(uint64_t e1, uint64_t n1, uint64_t e2, uint64_t n2, double *z);

/*
 * Compare one function before and after.  @cb/@cp are the error counters
 * (may be NULL: no error test).  @pol supplies min_samples and the
 * practical thresholds; @alpha is the family-wise level for this
 * comparison (the caller spends it: see gate.c), split over the three
 * tests by the STATS_ALPHA_SHARE_* weights.  Fills @v entirely.  Returns the outcome.
 */
enum stats_outcome stats_compare(const struct pg_hist *base, const struct pg_hist *post,
				 const struct stats_counts *cb, const struct stats_counts *cp,
				 const struct pg_policy *pol, double alpha,
				 struct stats_verdict *v);

const char *stats_outcome_name(enum stats_outcome o);
/* "p50", "p99", "errors" for a single rule bit; NULL otherwise. */
const char *stats_rule_name(unsigned int rule);

/*
 * stats_compare() relative to a concurrent control (NULL, or one with no
 * control added: exactly stats_compare()).  With a control:
 *   bulk   Mann-Whitney of the post calls against the baseline scaled by
 *          the control's p50 ratio AND a z-test of the difference in
 *          differences of log medians whose variance holds the control's
 *          noise too (stats_log_median_se); mw_p is the larger p-value,
 *          ctl_bulk_p the second's;
 *   tail   the tail test against the baseline scaled by the control's p50
 *          ratio AND a difference in differences of exceedance shares:
 *          the post share above the scaled baseline's p98 / p99 minus the
 *          baseline's 2% / 1%, against the same difference of the
 *          controls (one-sided z, Poisson variance of the four counts,
 *          weighted Bonferroni over the two thresholds); tail_p is the
 *          larger p-value, ctl_tail_p the second's;
 *   rules  p50 and p99: the ratio divided by the control's p50 ratio; the
 *          p99 by its p99 ratio instead when that is larger and the
 *          control's own tail grew (STATS_CTL_TAIL_Z).
 * Errors are judged as without a control.
 */
enum stats_outcome stats_compare_ctl(const struct pg_hist *base, const struct pg_hist *post,
				     const struct stats_counts *cb, const struct stats_counts *cp,
				     const struct pg_policy *pol, double alpha,
				     const struct stats_control *ctl, struct stats_verdict *v);

#endif
