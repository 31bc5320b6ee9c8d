// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * detect_sim: how fast the real gate (user/core/gate.c, stats.c) catches a
 * tail regression, and how often it reverts a harmless patch.  Whole gated
 * runs in simulated time: START, BASELINE, WAIT_WINDOW (always clear),
 * APPLY, BAKE to the end or to the revert, with one SAMPLES observation per
 * tick holding the tick's calls at the given rate.
 *
 * Latency is lognormal(median, sigma).  Samples are drawn straight into
 * histogram buckets from the exact bucket probabilities (Walker's alias
 * method), which is what the probes would record from that law, and fast
 * enough for millions of calls per run.  A regression "p99 x F" makes the
 * slowest 3% of calls F times slower (model tail: p50 unchanged, p99 x F)
 * or every call F times slower (model all).
 *
 * --burst RATE,FRAC,MEAN_MS adds a non-stationary null: CPU contention
 * bursts arrive as a Poisson process of RATE per second over the whole run
 * (baseline and bake alike, so the two periods get independent bursts),
 * each lasting uniform 0.2-3 s; while one is on, each call is preempted
 * with probability FRAC and then takes an extra exponential delay of mean
 * MEAN_MS (what a busy function sees when another runnable task gets the
 * CPU).
 *
 * Output: a table on stdout, and CSV rows with --csv.  See bench/detection/run.sh
 * and docs/benchmarks.md ("Detection").
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/gate.h"
#include "core/hist.h"
#include "core/policy.h"

#define SIM_MAX_LIST	8
#define SIM_TAIL_FRAC	0.03	/* model tail: the slowest 3% of calls get slower */
#define SIM_ERR_RATE	0.001	/* both sides: keeps the error test in the family */
#define SEC		1000000000ULL

enum sim_model { SIM_TAIL = 0, SIM_ALL };
/* Load drift at APPLY: every call of the function and of the control is scaled by d(t). */
enum sim_drift { SIM_DRIFT_NONE = 0, SIM_DRIFT_STEP, SIM_DRIFT_RAMP };
#define SIM_CURVE_NPTS	10	/* power curve: caught within 1000 * 2^i post calls */

struct sim_opts {
	struct pg_policy pol;
	double median_ns, sigma;
	enum sim_model model;
	unsigned int nrates, nshifts;
	unsigned int rates[SIM_MAX_LIST];
	double shifts[SIM_MAX_LIST];
	unsigned int runs, null_runs;
	uint64_t tick_ns;
	uint64_t seed;
	double burst_rate;		/* bursts per second; 0: stationary */
	double burst_frac;		/* calls preempted while a burst is on */
	double burst_mean_ns;		/* mean extra delay of a preempted call */
	char burst[48];			/* "R/F/MS" for the CSV, "" when off */
	enum sim_drift drift;
	double drift_f;			/* load factor after the step / at the ramp's top */
	double drift_s;			/* ramp: seconds from APPLY to drift_f */
	char drift_name[48];		/* "step/2", "ramp/2/30" for the CSV, "" when off */
	unsigned int control;		/* concurrent control functions (policy control); 0: none */
	double ctl_median_ns;		/* their lognormal median; same sigma and rate */
	const char *label;		/* names this cell in --curve rows */
	const char *curve;		/* power-curve rows go here */
	const char *csv;
};

/* splitmix64: small, seeded, good enough for sampling */
struct sim_rng {
	uint64_t s;
};

static uint64_t rng_u64(struct sim_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_unit(struct sim_rng *r)
{
	return ((double)(rng_u64(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Walker's alias table over the histogram buckets. */
struct sim_law {
	double prob[PG_HIST_BUCKETS];
	unsigned int alias[PG_HIST_BUCKETS];
};

static double ln_cdf(double x, double median, double sigma)
{
	if (x <= 0.0)
		return 0.0;
	if (isinf(x))
		return 1.0;
	return 0.5 * erfc(-log(x / median) / (sigma * M_SQRT2));
}

/* P(a <= X < b) for the lognormal */
static double ln_mass(double a, double b, double median, double sigma)
{
	return b > a ? ln_cdf(b, median, sigma) - ln_cdf(a, median, sigma) : 0.0;
}

/* Upper quantile: x with P(X > x) = @frac. */
static double ln_upper_q(double frac, double median, double sigma)
{
	double lo = -10.0, hi = 10.0;

	for (int i = 0; i < 200; i++) {
		double mid = 0.5 * (lo + hi);

		if (0.5 * erfc(mid / M_SQRT2) > frac)
			lo = mid;
		else
			hi = mid;
	}
	return median * exp(sigma * 0.5 * (lo + hi));
}

/*
 * Bucket probabilities of the law of the recorded value: lognormal, and
 * with @shift > 1 the regression of @model.  A value x is recorded as
 * (uint64_t)x, so bucket b holds [lo(b), hi(b)).
 */
static void law_init(struct sim_law *L, const struct sim_opts *o, double median, double shift)
{
	double p[PG_HIST_BUCKETS], q = ln_upper_q(SIM_TAIL_FRAC, median, o->sigma);
	double m = median, s = o->sigma, sum = 0.0;
	unsigned int small[PG_HIST_BUCKETS], large[PG_HIST_BUCKETS], ns = 0, nl = 0;
	const unsigned int n = PG_HIST_BUCKETS;

	for (unsigned int b = 0; b < n; b++) {
		double lo = b ? (double)hist_bucket_lo(b) : 0.0;
		double hi = b + 1 < n ? (double)hist_bucket_hi(b) : INFINITY;

		if (shift <= 1.0)
			p[b] = ln_mass(lo, hi, m, s);
		else if (o->model == SIM_ALL)
			p[b] = ln_mass(lo / shift, hi / shift, m, s);
		else
			p[b] = ln_mass(lo, fmin(hi, q), m, s) +
			       ln_mass(fmax(lo / shift, q), hi / shift, m, s);
		sum += p[b];
	}
	/* Vose's construction */
	for (unsigned int b = 0; b < n; b++) {
		p[b] = p[b] / sum * n;
		if (p[b] < 1.0)
			small[ns++] = b;
		else
			large[nl++] = b;
	}
	while (ns && nl) {
		unsigned int a = small[--ns], g = large[--nl];

		L->prob[a] = p[a];
		L->alias[a] = g;
		p[g] -= 1.0 - p[a];
		if (p[g] < 1.0)
			small[ns++] = g;
		else
			large[nl++] = g;
	}
	while (nl) {
		unsigned int g = large[--nl];

		L->prob[g] = 1.0;
		L->alias[g] = g;
	}
	while (ns) {
		unsigned int a = small[--ns];

		L->prob[a] = 1.0;
		L->alias[a] = a;
	}
}

static void law_draw(const struct sim_law *L, struct sim_rng *r, struct pg_hist *h, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t u = rng_u64(r);
		unsigned int b = (unsigned int)((u >> 32) * PG_HIST_BUCKETS >> 32);
		double f = (double)(u & 0xffffffffULL) * (1.0 / 4294967296.0);

		h->slots[f < L->prob[b] ? b : L->alias[b]]++;
	}
}

/* Contention bursts: every one started so far ends by @end; the next starts at @next. */
struct sim_burst {
	double next, end;		/* seconds of simulated time */
};

#define SIM_BURST_MIN_S	0.2
#define SIM_BURST_MAX_S	3.0
#define SIM_BURST_STEP_S	0.01	/* resolution of the on/off state */

/* Share of [t0, t1) with a burst on; advances @b through the Poisson arrivals. */
static double burst_cover(const struct sim_opts *o, struct sim_burst *b, struct sim_rng *r,
			  double t0, double t1)
{
	unsigned int on = 0, steps = 0;

	if (o->burst_rate <= 0.0)
		return 0.0;
	for (double t = t0; t < t1; t += SIM_BURST_STEP_S, steps++) {
		while (b->next <= t) {
			double dur = SIM_BURST_MIN_S +
				     (SIM_BURST_MAX_S - SIM_BURST_MIN_S) * rng_unit(r);

			b->end = fmax(b->end, b->next + dur);
			b->next -= log(rng_unit(r)) / o->burst_rate;
		}
		on += t < b->end;
	}
	return steps ? (double)on / steps : 0.0;
}

/*
 * @n calls of one tick with a burst on for a share @cover of it: the
 * preempted ones are drawn one by one (value inside the drawn bucket plus
 * an exponential delay), the rest straight into the buckets.
 */
static void draw_tick(const struct sim_opts *o, const struct sim_law *L, struct sim_rng *r,
		      struct pg_hist *h, uint64_t n, double cover)
{
	uint64_t hit = 0;

	if (cover > 0.0) {
		double p = cover * o->burst_frac;

		for (uint64_t i = 0; i < n; i++)
			hit += rng_unit(r) < p;
	}
	law_draw(L, r, h, n - hit);
	for (uint64_t i = 0; i < hit; i++) {
		struct pg_hist one;
		unsigned int b;
		double lo, hi, v;

		hist_reset(&one);
		law_draw(L, r, &one, 1);
		for (b = 0; b < PG_HIST_BUCKETS && !one.slots[b]; b++)
			;
		lo = b ? (double)hist_bucket_lo(b) : 0.0;
		hi = b + 1 < PG_HIST_BUCKETS ? (double)hist_bucket_hi(b) : lo * 2.0 + 1.0;
		v = lo + (hi - lo) * rng_unit(r) - o->burst_mean_ns * log(rng_unit(r));
		hist_add(h, (uint64_t)v, 1);
	}
}

/* Poisson(@mean) by inversion; the error counts per tick are small. */
static uint64_t rng_poisson(struct sim_rng *r, double mean)
{
	double u = rng_unit(r), p = exp(-mean), c = p;
	uint64_t k = 0;

	if (mean > 50.0) {	/* normal approximation for big ticks */
		double x = mean + sqrt(mean) * sqrt(-2.0 * log(rng_unit(r))) *
			   cos(2.0 * M_PI * rng_unit(r));

		return x > 0.0 ? (uint64_t)llround(x) : 0;
	}
	while (u > c && k < 10000) {
		k++;
		p *= mean / (double)k;
		c += p;
	}
	return k;
}

/* What one gated run ended with. */
struct sim_result {
	enum gate_state final;
	enum gate_reason reason;	/* of the decision that left BAKE */
	uint64_t n_post;		/* post calls judged at that decision */
	uint64_t n_base;
	double secs;			/* from APPLY to that decision */
};

/* fn[0]: the patched function; fn[1 ..]: the controls, when there are */
#define SIM_MAX_CTL	4
#define SIM_NFN		(1 + SIM_MAX_CTL)

struct sim_run {
	struct gate *g;
	unsigned int nfn;
	struct pg_hist h[SIM_NFN];	/* current generation, cumulative */
	struct gate_fn_sample s[SIM_NFN];
	struct sim_law pre[SIM_NFN];	/* before APPLY: no drift, no regression */
	struct sim_law cur[SIM_NFN];	/* after: the regression (fn[0]) at the drift cur_d */
	double cur_d;			/* drift the cur laws were built for; 0: none yet */
	bool post;
	uint64_t now, t_apply;
	struct sim_result res;
};

static int run_step(struct sim_run *R, const struct gate_obs *obs);

/* Perform the actions of one step, in order, as a controller would. */
static int run_actions(struct sim_run *R, const struct gate_out *out)
{
	struct gate_action act[GATE_MAX_ACTIONS];
	unsigned int nact = out->nact;
	int err;

	if (out->audit && out->audit->from == GATE_BAKE) {
		R->res.reason = out->audit->reason;
		R->res.n_post = out->audit->fn[0].v.n_post;
		R->res.n_base = out->audit->fn[0].v.n_base;
		R->res.secs = (double)(R->now - R->t_apply) / 1e9;
	}
	memcpy(act, out->act, sizeof(act));
	for (unsigned int i = 0; i < nact; i++) {
		struct gate_obs o = { 0 };

		switch (act[i].type) {
		case GATE_ACT_APPLY:
			R->t_apply = R->now;
			o.type = GATE_OBS_APPLIED;
			err = run_step(R, &o);
			if (err)
				return err;
			break;
		case GATE_ACT_REVERT:
			o.type = GATE_OBS_REVERTED;
			err = run_step(R, &o);
			if (err)
				return err;
			break;
		case GATE_ACT_BUMP_GENERATION:
			for (unsigned int j = 0; j < R->nfn; j++) {
				hist_reset(&R->h[j]);
				R->s[j].calls = R->s[j].exits = R->s[j].errors = 0;
			}
			R->post = true;
			break;
		default:
			break;
		}
	}
	return 0;
}

static int run_step(struct sim_run *R, const struct gate_obs *obs)
{
	struct gate_out out;
	int err = gate_step(R->g, obs, R->now, &out);

	if (err) {
		fprintf(stderr, "detect_sim: gate refused %s in %s: %s\n",
			gate_obs_name(obs->type), gate_state_name(gate_state(R->g)),
			strerror(-err));
		return err;
	}
	return run_actions(R, &out);
}

/* Load factor of the drift at @now; 1 before APPLY. */
static double drift_at(const struct sim_opts *o, const struct sim_run *R)
{
	double t;

	if (!R->post || o->drift == SIM_DRIFT_NONE)
		return 1.0;
	if (o->drift == SIM_DRIFT_STEP)
		return o->drift_f;
	t = (double)(R->now - R->t_apply) / 1e9;
	return 1.0 + (o->drift_f - 1.0) * fmin(1.0, t / o->drift_s);
}

/*
 * One whole gated run: the patched function (regression @shift after APPLY,
 * 1: harmless) and, with o->control, a control function, both under the
 * same drift and bursts, at @rate calls per second each.  Fills @res.
 * Returns 0 or a negative errno.
 */
static int sim_one(const struct sim_opts *o, double shift, unsigned int rate, uint64_t seed,
		   struct sim_result *res)
{
	static const char *const names[] = { "fn" };
	static const char *const ctls[SIM_MAX_CTL] = { "ctl", "ctl2", "ctl3", "ctl4" };
	struct gate_opts go = { .policy = &o->pol, .backend = GATE_BACKEND_ULP, .nfuncs = 1,
				.funcs = names, .ncontrols = o->control, .controls = ctls };
	double per_tick = (double)rate * (double)o->tick_ns / 1e9, carry = 0.0;
	double median[SIM_NFN];
	struct sim_rng r = { .s = seed };
	struct sim_run *R = NULL;
	struct gate_obs obs = { .type = GATE_OBS_START };
	struct sim_burst bu = { 0 };
	double cover;
	int err = 0;

	R = calloc(1, sizeof(*R));
	if (!R)
		return -ENOMEM;
	R->nfn = 1 + o->control;
	median[0] = o->median_ns;
	for (unsigned int j = 1; j < SIM_NFN; j++)
		median[j] = o->ctl_median_ns;
	for (unsigned int j = 0; j < R->nfn; j++) {
		law_init(&R->pre[j], o, median[j], 1.0);
		R->s[j].hist = &R->h[j];
	}
	R->g = gate__new(&go);
	if (!R->g) {
		err = -errno;
		goto cleanup;
	}
	R->now = 1000 * SEC;
	if (o->burst_rate > 0.0)
		bu.next = 1000.0 - log(rng_unit(&r)) / o->burst_rate;
	err = run_step(R, &obs);
	/* bound: baseline, window and an extended bake, with margin */
	for (unsigned int t = 0; !err && !gate_done(R->g) && t < 100000; t++) {
		uint64_t n;
		double d;

		R->now += o->tick_ns;
		carry += per_tick;
		n = (uint64_t)carry;
		carry -= (double)n;
		cover = burst_cover(o, &bu, &r, (double)(R->now - o->tick_ns) / 1e9,
				    (double)R->now / 1e9);
		d = drift_at(o, R);
		/* the drift is rebuilt into the laws when it moved by 0.5% or more */
		if (R->post && fabs(d - R->cur_d) >= 0.005 * d) {
			for (unsigned int j = 0; j < R->nfn; j++)
				law_init(&R->cur[j], o, median[j] * d, j ? 1.0 : shift);
			R->cur_d = d;
		}
		for (unsigned int j = 0; j < R->nfn; j++) {
			struct gate_fn_sample *s = &R->s[j];

			draw_tick(o, R->post ? &R->cur[j] : &R->pre[j], &r, &R->h[j], n, cover);
			s->calls += n;
			s->exits += n;
			s->errors += rng_poisson(&r, (double)n * SIM_ERR_RATE);
			if (s->errors > s->exits)
				s->errors = s->exits;
		}
		obs = (struct gate_obs){ .type = GATE_OBS_SAMPLES };
		obs.samples.nfuncs = R->nfn;
		obs.samples.fn = R->s;
		err = run_step(R, &obs);
		if (!err && gate_state(R->g) == GATE_WAIT_WINDOW) {
			obs = (struct gate_obs){ .type = GATE_OBS_WINDOW };
			obs.window.clear = true;
			err = run_step(R, &obs);
		}
	}
	if (!err && !gate_done(R->g))
		err = -ETIMEDOUT;
	R->res.final = gate_state(R->g);
	*res = R->res;
cleanup:
	if (R)
		gate__free(R->g);
	free(R);
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank quantile of sorted @v[0..n). */
static double qsorted(const double *v, unsigned int n, double q)
{
	unsigned int i;

	if (!n)
		return NAN;
	i = (unsigned int)ceil(q * n);
	return v[i ? i - 1 : 0];
}

static const char *model_name(enum sim_model m)
{
	return m == SIM_TAIL ? "tail3" : "all";
}

/* Detection runs for one (shift, rate).  Prints a row, appends a CSV line. */
/*
 * Smallest number of post-patch calls on the power curve's grid (1000 *
 * 2^i) by which 95% of @runs were caught, given the sorted @calls of the
 * @caught ones; 0 when no point of the grid gets there.  Also writes the
 * curve's points to o->curve.
 */
static double power_curve(const struct sim_opts *o, double shift, unsigned int rate,
			  const double *calls, unsigned int caught)
{
	FILE *f = o->curve ? fopen(o->curve, "a") : NULL;
	double n95 = 0.0;

	for (unsigned int i = 0, k = 0; i < SIM_CURVE_NPTS; i++) {
		double n = 1000.0 * (double)(1u << i);

		while (k < caught && calls[k] <= n)
			k++;
		if (f)
			fprintf(f, "%s\t%g\t%g\t%u\t%.0f\t%.4f\n", o->label ? o->label : "-",
				o->sigma, shift, rate, n, (double)k / o->runs);
		if (!n95 && k >= 0.95 * o->runs)
			n95 = n;
	}
	if (f)
		fclose(f);
	return n95;
}

static int sim_detect(const struct sim_opts *o, double shift, unsigned int rate, FILE *csv)
{
	double *calls = calloc(o->runs, sizeof(double)), *secs = calloc(o->runs, sizeof(double));
	unsigned int caught = 0, within = 0;
	double tick_calls, n95;
	char wbuf[16], wfrac[16], n95buf[16];
	int err = 0;

	if (!calls || !secs) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (unsigned int k = 0; k < o->runs; k++) {
		struct sim_result res;

		err = sim_one(o, shift, rate, o->seed * 1000003ULL + k * 7919ULL + rate +
			      (uint64_t)(shift * 1000.0) * 65537ULL, &res);
		if (err)
			goto cleanup;
		if (res.final != GATE_REVERTED || res.reason != GATE_R_REGRESSED)
			continue;
		calls[caught] = (double)res.n_post;
		secs[caught] = res.secs;
		caught++;
		within += res.n_post <= 2000;
	}
	qsort(calls, caught, sizeof(double), cmp_double);
	qsort(secs, caught, sizeof(double), cmp_double);
	n95 = power_curve(o, shift, rate, calls, caught);
	if (n95 > 0.0)
		snprintf(n95buf, sizeof(n95buf), "%.0f", n95);
	else
		snprintf(n95buf, sizeof(n95buf), ">%.0f", 1000.0 * (double)(1u << (SIM_CURVE_NPTS - 1)));
	/* the first look sees at least one tick of calls: past 2000, "within" cannot happen */
	tick_calls = (double)rate * (double)o->tick_ns / 1e9;
	if (tick_calls > 2000.0)
		snprintf(wbuf, sizeof(wbuf), "%8s ", "n/a");
	else
		snprintf(wbuf, sizeof(wbuf), "%8.2f%%", 100.0 * within / o->runs);
	snprintf(wfrac, sizeof(wfrac), "%.4f", (double)within / o->runs);
	printf("%-6s %5.2fx %7u/s %5u %7.2f%% %s %9.0f %9.0f %8.2f %8.2f %9s\n",
	       model_name(o->model), shift, rate, o->runs, 100.0 * caught / o->runs,
	       wbuf, qsorted(calls, caught, 0.5), qsorted(calls, caught, 0.9),
	       qsorted(secs, caught, 0.5), qsorted(secs, caught, 0.9), n95buf);
	if (csv)
		fprintf(csv, "detect,%g,%g,%s,%g,%u,%.0f,%u,%u,%.4f,%s,%.0f,%.0f,%.2f,%.2f,%s,%s,%d,"
			"%s\n", o->median_ns, o->sigma, model_name(o->model), shift, rate,
			(double)o->tick_ns / 1e6, o->runs, caught, (double)caught / o->runs,
			tick_calls > 2000.0 ? "" : wfrac,
			qsorted(calls, caught, 0.5), qsorted(calls, caught, 0.9),
			qsorted(secs, caught, 0.5), qsorted(secs, caught, 0.9), o->burst,
			o->drift_name, o->control, n95 > 0.0 ? n95buf : "");
cleanup:
	free(calls);
	free(secs);
	return err;
}

/* Null runs (harmless patch) at @rate.  Adds the reverts to @reverted. */
static int sim_null(const struct sim_opts *o, unsigned int rate, FILE *csv,
		    unsigned int *reverted)
{
	unsigned int rev = 0, other = 0;

	for (unsigned int k = 0; k < o->null_runs; k++) {
		struct sim_result res;
		int err = sim_one(o, 1.0, rate, o->seed * 999983ULL + k * 104729ULL + rate,
				  &res);

		if (err)
			return err;
		if (res.final == GATE_REVERTED)
			rev++;
		else if (res.final != GATE_COMMITTED)
			other++;
	}
	printf("null   %6s %7u/s %5u reverted %u (%.2f%%)%s\n", "-", rate, o->null_runs, rev,
	       100.0 * rev / o->null_runs, other ? ", some runs ended neither way" : "");
	if (csv)
		fprintf(csv, "null,%g,%g,none,1,%u,%.0f,%u,%u,%.4f,,,,,,%s,%s,%d,\n", o->median_ns,
			o->sigma, rate, (double)o->tick_ns / 1e6, o->null_runs, rev,
			(double)rev / o->null_runs, o->burst, o->drift_name, o->control);
	*reverted += rev;
	return other ? -EPROTO : 0;
}

static int parse_list(const char *s, double *v, unsigned int *n)
{
	char *end;

	*n = 0;
	while (*s) {
		if (*n == SIM_MAX_LIST)
			return -E2BIG;
		errno = 0;
		v[*n] = strtod(s, &end);
		if (errno || end == s || !(v[*n] > 0.0))
			return -EINVAL;
		(*n)++;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -EINVAL;
	}
	return *n ? 0 : -EINVAL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: detect_sim [options]\n"
		"  --rates LIST      calls per second (default 100,1000,10000)\n"
		"  --shifts LIST     p99 factors of the regression (default 1.25,1.5,2)\n"
		"  --model tail|all  tail: slowest 3%% slower (default); all: every call\n"
		"  --median NS       lognormal median (default 20000)\n"
		"  --sigma S         lognormal sigma (default 0.5)\n"
		"  --runs N          gated runs per (shift, rate) (default 200)\n"
		"  --null-runs N     harmless-patch runs per rate (default 500)\n"
		"  --tick-ms MS      SAMPLES period (default 1000)\n"
		"  --set KEY=VALUE   policy override (docs/policy.md); repeatable\n"
		"  --burst R,F,MS    contention bursts: R per second (0.2-3 s long), a share F\n"
		"                    of calls meanwhile delayed by exp(mean MS ms) (default off)\n"
		"  --drift step,F    the load steps at APPLY: every call of the function and the\n"
		"                    control F times slower from then on\n"
		"  --drift ramp,F,S  the load rises from APPLY: x1 to xF over S seconds, then held\n"
		"  --control         a control function (policy control) under the same drift\n"
		"                    and bursts, never patched (default: none, before/after)\n"
		"  --controls N      N such control functions (1-4), independent draws\n"
		"  --ctl-median NS   the controls' lognormal median (default 1.5 x --median)\n"
		"  --curve FILE      append power-curve rows (label, sigma, shift, rate, calls,\n"
		"                    share caught within them), tab-separated\n"
		"  --label NAME      the cell's name in --curve rows\n"
		"  --seed N          (default 1)\n"
		"  --csv FILE        append CSV rows (header when the file is new)\n"
		"examples:\n"
		"  detect_sim --runs 400 --null-runs 500 --csv bench/results/detection.csv\n"
		"  detect_sim --sigma 1.0 --shifts 1.25 --rates 1000 --set min_samples=2000\n"
		"  detect_sim --rates 1000 --runs 0 --null-runs 1000 --drift step,2 --control\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "rates", required_argument, NULL, 'r' },
		{ "shifts", required_argument, NULL, 'f' },
		{ "model", required_argument, NULL, 'm' },
		{ "median", required_argument, NULL, 'M' },
		{ "sigma", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'n' },
		{ "null-runs", required_argument, NULL, 'N' },
		{ "tick-ms", required_argument, NULL, 't' },
		{ "set", required_argument, NULL, 'S' },
		{ "seed", required_argument, NULL, 'x' },
		{ "burst", required_argument, NULL, 'b' },
		{ "csv", required_argument, NULL, 'c' },
		{ "drift", required_argument, NULL, 'd' },
		{ "control", no_argument, NULL, 'C' },
		{ "controls", required_argument, NULL, 'Q' },
		{ "ctl-median", required_argument, NULL, 'K' },
		{ "curve", required_argument, NULL, 'u' },
		{ "label", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sim_opts o = { .median_ns = 20000.0, .sigma = 0.5, .runs = 200, .null_runs = 500,
			      .tick_ns = SEC, .seed = 1 };
	double list[SIM_MAX_LIST];
	unsigned int reverted = 0, nulls = 0, nb = 0;
	FILE *csv = NULL;
	char err_buf[256];
	int c, err = 0;

	policy_defaults(&o.pol);
	o.nrates = 3;
	o.rates[0] = 100, o.rates[1] = 1000, o.rates[2] = 10000;
	o.nshifts = 3;
	o.shifts[0] = 1.25, o.shifts[1] = 1.5, o.shifts[2] = 2.0;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			err = parse_list(optarg, list, &o.nrates);
			for (unsigned int i = 0; !err && i < o.nrates; i++)
				o.rates[i] = (unsigned int)list[i];
			break;
		case 'f':
			err = parse_list(optarg, o.shifts, &o.nshifts);
			break;
		case 'm':
			if (!strcmp(optarg, "tail"))
				o.model = SIM_TAIL;
			else if (!strcmp(optarg, "all"))
				o.model = SIM_ALL;
			else
				err = -EINVAL;
			break;
		case 'M':
			o.median_ns = atof(optarg);
			err = o.median_ns >= 1.0 ? 0 : -EINVAL;
			break;
		case 's':
			o.sigma = atof(optarg);
			err = o.sigma > 0.0 && o.sigma <= 3.0 ? 0 : -EINVAL;
			break;
		case 'n':
			o.runs = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'N':
			o.null_runs = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			o.tick_ns = strtoull(optarg, NULL, 0) * 1000000ULL;
			err = o.tick_ns ? 0 : -EINVAL;
			break;
		case 'S': {
			char *eq = strchr(optarg, '=');

			if (!eq) {
				err = -EINVAL;
				break;
			}
			*eq = '\0';
			if (policy_set(&o.pol, optarg, eq + 1, err_buf, sizeof(err_buf))) {
				fprintf(stderr, "detect_sim: --set: %s\n", err_buf);
				return 1;
			}
			break;
		}
		case 'b':
			err = parse_list(optarg, list, &nb);
			if (!err && nb != 3)
				err = -EINVAL;
			if (!err && !(list[1] <= 1.0))
				err = -ERANGE;
			if (!err) {
				o.burst_rate = list[0];
				o.burst_frac = list[1];
				o.burst_mean_ns = list[2] * 1e6;
				snprintf(o.burst, sizeof(o.burst), "%g/%g/%g", list[0], list[1],
					 list[2]);
			}
			break;
		case 'd': {
			size_t k = strcspn(optarg, ",");

			if (!strncmp(optarg, "step", k) && k == 4) {
				o.drift = SIM_DRIFT_STEP;
				err = parse_list(optarg + k + (optarg[k] == ','), list, &nb);
				err = err ? err : nb == 1 ? 0 : -EINVAL;
			} else if (!strncmp(optarg, "ramp", k) && k == 4) {
				o.drift = SIM_DRIFT_RAMP;
				err = parse_list(optarg + k + (optarg[k] == ','), list, &nb);
				err = err ? err : nb == 2 ? 0 : -EINVAL;
				o.drift_s = list[1];
			} else {
				err = -EINVAL;
			}
			if (!err) {
				o.drift_f = list[0];
				snprintf(o.drift_name, sizeof(o.drift_name), "%s", optarg);
				for (char *q = o.drift_name; *q; q++)
					*q = *q == ',' ? '/' : *q;
			}
			break;
		}
		case 'C':
			o.control = o.control ? o.control : 1;
			break;
		case 'Q':
			o.control = (unsigned int)atoi(optarg);
			err = o.control >= 1 && o.control <= SIM_MAX_CTL ? 0 : -EINVAL;
			break;
		case 'K':
			o.ctl_median_ns = atof(optarg);
			err = o.ctl_median_ns >= 1.0 ? 0 : -EINVAL;
			break;
		case 'u':
			o.curve = optarg;
			break;
		case 'l':
			o.label = optarg;
			break;
		case 'x':
			o.seed = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			o.csv = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
		if (err) {
			fprintf(stderr, "detect_sim: bad value '%s': %s (see --help)\n", optarg,
				strerror(-err));
			return 1;
		}
	}
	if (policy_validate(&o.pol, err_buf, sizeof(err_buf))) {
		fprintf(stderr, "detect_sim: %s\n", err_buf);
		return 1;
	}
	if (!o.ctl_median_ns)
		o.ctl_median_ns = 1.5 * o.median_ns;
	if (o.csv) {
		FILE *t = fopen(o.csv, "r");
		bool fresh = !t;

		if (t)
			fclose(t);
		csv = fopen(o.csv, "a");
		if (!csv) {
			err = -errno;
			fprintf(stderr, "detect_sim: cannot open %s: %s\n", o.csv, strerror(-err));
			goto cleanup;
		}
		if (fresh)
			fprintf(csv, "kind,median_ns,sigma,model,shift,rate,tick_ms,runs,reverted,"
				"reverted_frac,within2000_frac,calls_p50,calls_p90,secs_p50,"
				"secs_p90,burst,drift,control,calls_95\n");
	}
	printf("lognormal(median %.0f ns, sigma %.2f), policy: min_samples %" PRIu64
	       ", bake %.0fs, alpha %g, p99_ratio_max %g, tick %.0f ms\n",
	       o.median_ns, o.sigma, o.pol.min_samples, (double)o.pol.bake_ns / 1e9, o.pol.alpha,
	       o.pol.p99_ratio_max, (double)o.tick_ns / 1e6);
	if (o.burst_rate > 0.0)
		printf("bursts: %g/s, 0.2-3 s long, %g of calls delayed by exp(mean %g ms)\n",
		       o.burst_rate, o.burst_frac, o.burst_mean_ns / 1e6);
	if (o.drift != SIM_DRIFT_NONE)
		printf("drift: %s from APPLY, x%g%s\n", o.drift == SIM_DRIFT_STEP ? "step" : "ramp",
		       o.drift_f, o.drift == SIM_DRIFT_RAMP ? " at the top" : "");
	if (o.control)
		printf("control: %u function(s), same drift and bursts, independent calls\n",
		       o.control);
	else
		printf("control: none (before/after)\n");
	if (o.runs) {
		printf("%-6s %6s %9s %5s %8s %9s %9s %9s %8s %8s %9s\n", "model", "p99", "rate",
		       "runs", "caught", "<=2000", "calls50", "calls90", "secs50", "secs90",
		       "calls95");
		for (unsigned int i = 0; i < o.nshifts; i++) {
			for (unsigned int j = 0; j < o.nrates; j++) {
				err = sim_detect(&o, o.shifts[i], o.rates[j], csv);
				if (err)
					goto cleanup;
				fflush(stdout);
			}
		}
	}
	for (unsigned int j = 0; o.null_runs && j < o.nrates; j++) {
		err = sim_null(&o, o.rates[j], csv, &reverted);
		if (err)
			goto cleanup;
		nulls += o.null_runs;
		fflush(stdout);
	}
	if (nulls)
		printf("null   all rates: %u of %u harmless runs reverted (%.2f%%)\n", reverted,
		       nulls, 100.0 * reverted / nulls);
cleanup:
	if (csv)
		fclose(csv);
	if (err)
		fprintf(stderr, "detect_sim: %s\n", strerror(-err));
	return err ? 1 : 0;
}
