// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The "live" record (docs/json.md): a running gate's state, as top and status read it. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "view/live.h"
#include "view/output.h"

static void add_num(json_object *o, const char *k, double v)
{
	/* NaN and infinities are not JSON */
	json_object_object_add(o, k, json_object_new_double(isfinite(v) ? v : 0.0));
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* A latency, to the ns: shorter to write and to parse at every tick than 17 digits. */
static void add_ns(json_object *o, const char *k, double v)
{
	add_int(o, k, isfinite(v) ? llround(v) : 0);
}

/* A ratio or a rate, to 4 significant digits or so. */
static void add_r4(json_object *o, const char *k, double v)
{
	add_num(o, k, isfinite(v) ? round(v * 1e4) / 1e4 : 0.0);
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

/*
 * The baseline and the bake as LIVE_HIST_BINS log-spaced bins between the
 * 0.5th and the 99.5th percentile of both: each side's share of its calls
 * per bin.  Nothing when both are empty.
 */
static json_object *hist_json(const struct pg_hist *base, const struct pg_hist *post)
{
	uint64_t nb = base ? hist_count(base) : 0, np = post ? hist_count(post) : 0;
	json_object *o, *edges, *b, *p;
	double lo = INFINITY, hi = 0.0;

	if (!nb && !np)
		return NULL;
	if (nb) {
		lo = fmin(lo, hist_quantile(base, 0.005));
		hi = fmax(hi, hist_quantile(base, 0.995));
	}
	if (np) {
		lo = fmin(lo, hist_quantile(post, 0.005));
		hi = fmax(hi, hist_quantile(post, 0.995));
	}
	if (lo < 1.0)
		lo = 1.0;
	if (hi <= lo)
		hi = lo * 2.0;
	o = json_object_new_object();
	edges = json_object_new_array();
	b = json_object_new_array();
	p = json_object_new_array();
	json_object_object_add(o, "edges_ns", edges);
	json_object_object_add(o, "base", b);
	json_object_object_add(o, "post", p);
	for (int i = 0; i <= LIVE_HIST_BINS; i++)
		json_object_array_add(edges, json_object_new_int64(
			llround(lo * pow(hi / lo, (double)i / LIVE_HIST_BINS))));
	for (int i = 0; i < LIVE_HIST_BINS; i++) {
		double e0 = json_object_get_double(json_object_array_get_idx(edges, (size_t)i));
		double e1 = json_object_get_double(json_object_array_get_idx(edges, (size_t)i + 1));
		/* the first and the last bin take the tails */
		double fb = 0.0, fp = 0.0;

		if (nb)
			fb = ((i ? hist_count_above(base, e0) : (double)nb) -
			      (i < LIVE_HIST_BINS - 1 ? hist_count_above(base, e1) : 0.0)) / (double)nb;
		if (np)
			fp = ((i ? hist_count_above(post, e0) : (double)np) -
			      (i < LIVE_HIST_BINS - 1 ? hist_count_above(post, e1) : 0.0)) / (double)np;
		json_object_array_add(b, json_object_new_double(round(fmax(fb, 0.0) * 1e4) / 1e4));
		json_object_array_add(p, json_object_new_double(round(fmax(fp, 0.0) * 1e4) / 1e4));
	}
	return o;
}

/*
 * The baseline and the bake together as the coarse cumulative buckets
 * (LIVE_LE_*), their count and the exact sum of their latencies: what a
 * Prometheus histogram needs, in 30 numbers.
 */
static json_object *latency_json(const struct live_frame *f, unsigned int i)
{
	const struct gate_fn_evidence *e = &f->snap->fn[i];
	uint64_t le[LIVE_LE_N], cum[LIVE_LE_N] = { 0 }, n = 0;
	json_object *o = json_object_new_object(), *arr = json_object_new_array();

	for (unsigned int k = 0; k < LIVE_LE_N; k++)
		le[k] = 1ULL << (LIVE_LE_MIN_EXP + k);
	if (f->base[i]) {
		hist_cumulative(f->base[i], le, LIVE_LE_N, cum);
		n += hist_count(f->base[i]);
	}
	if (f->post[i]) {
		hist_cumulative(f->post[i], le, LIVE_LE_N, cum);
		n += hist_count(f->post[i]);
	}
	add_int(o, "count", (int64_t)n);
	add_int(o, "sum_ns", (int64_t)(e->sum_base_ns + e->sum_post_ns));
	json_object_object_add(o, "le", arr);
	for (unsigned int k = 0; k < LIVE_LE_N; k++)
		json_object_array_add(arr, json_object_new_int64((int64_t)cum[k]));
	return o;
}

static json_object *fn_json(const struct live_frame *f, unsigned int i)
{
	const struct gate_fn_evidence *e = &f->snap->fn[i];
	const struct stats_verdict *v = &e->v;
	json_object *o = json_object_new_object();

	add_str(o, "name", e->name);
	add_str(o, "verdict", stats_outcome_name(v->outcome));
	add_r4(o, "calls_per_s", f->calls_per_s[i]);
	add_int(o, "inflight", e->inflight);
	add_int(o, "calls_base", (int64_t)e->calls_base);
	add_int(o, "calls_post", (int64_t)e->calls_post);
	add_int(o, "errors_base", (int64_t)e->errors_base);
	add_int(o, "errors_post", (int64_t)e->errors_post);
	add_int(o, "n_base", (int64_t)v->n_base);
	add_int(o, "n_post", (int64_t)v->n_post);
	add_ns(o, "p50_base_ns", v->p50_base);
	add_ns(o, "p90_base_ns", v->p90_base);
	add_ns(o, "p99_base_ns", v->p99_base);
	add_ns(o, "p50_post_ns", v->p50_post);
	add_ns(o, "p90_post_ns", v->p90_post);
	add_ns(o, "p99_post_ns", v->p99_post);
	add_r4(o, "p50_ratio", v->p50_ratio);
	add_r4(o, "p90_ratio", v->p90_ratio);
	add_r4(o, "p99_ratio", v->p99_ratio);
	add_num(o, "mw_p", v->mw_p);
	add_num(o, "tail_p", v->tail_p);
	add_num(o, "err_p", v->err_p);
	add_r4(o, "err_rate_base", v->err_rate_base);
	add_r4(o, "err_rate_post", v->err_rate_post);
	add_int(o, "looks", e->looks);
	add_int(o, "blocks", e->blocks);
	add_int(o, "blocks_over", e->blocks_over);
	json_object_object_add(o, "hung", json_object_new_boolean(e->hung));
	json_object_object_add(o, "latency", latency_json(f, i));
	return o;
}

json_object *live_detail_to_json(const struct live_frame *f)
{
	const struct gate_audit *a = f->snap;
	json_object *o = pg_json_record("live_detail"), *arr;

	if (!o)
		return NULL;
	add_str(o, "name", f->name);
	add_int(o, "update", (int64_t)f->update);
	add_num(o, "history_step_s", f->step_s);
	add_int(o, "apply_index", f->apply_index);
	arr = json_object_new_array();
	json_object_object_add(o, "functions", arr);
	for (unsigned int i = 0; i < a->nfuncs && i < PG_MAX_FUNCS; i++) {
		json_object *x = json_object_new_object(), *h = json_object_new_array();

		add_str(x, "name", a->fn[i].name);
		json_object_object_add(x, "p99_history_ns", h);
		for (unsigned int k = 0; k < f->nhist; k++)
			json_object_array_add(h, json_object_new_int64(llround(f->p99_hist[i][k])));
		json_object_object_add(x, "hist", hist_json(f->base[i], f->post[i]));
		json_object_array_add(arr, x);
	}
	return o;
}

json_object *live_to_json(const struct live_frame *f)
{
	const struct gate_audit *a = f->snap;
	json_object *o = pg_json_record("live"), *arr, *pol;

	if (!o)
		return NULL;
	add_str(o, "name", f->name);
	if (f->target_pid)
		add_int(o, "target", f->target_pid);
	else
		add_str(o, "target", "kernel");
	add_str(o, "patch", f->patch);
	add_str(o, "patch_path", f->patch_path);
	add_str(o, "build_id", f->build_id);
	add_str(o, "kind", gate_backend_name(a->backend));
	add_int(o, "gate_pid", f->gate_pid);
	add_int(o, "gate_uid", f->gate_uid);
	add_int(o, "gate_start", (int64_t)f->gate_start);
	add_int(o, "wall_time", f->wall_time);
	add_int(o, "update", (int64_t)f->update);
	add_str(o, "phase", gate_state_name(a->to));
	add_num(o, "phase_s", (double)a->state_ns / 1e9);
	add_num(o, "elapsed_s", (double)a->elapsed_ns / 1e9);
	json_object_object_add(o, "held", json_object_new_boolean(a->held));
	add_num(o, "bake_left_s", (double)a->bake_left_ns / 1e9);
	json_object_object_add(o, "done", json_object_new_boolean(f->done));
	if (f->done)
		add_int(o, "exit", f->exit_code);
	json_object_object_add(o, "dry_run", json_object_new_boolean(a->dry_run));
	add_num(o, "alpha_spent", a->alpha_spent);
	pol = json_object_new_object();
	json_object_object_add(o, "policy", pol);
	add_int(pol, "min_samples", (int64_t)a->policy.min_samples);
	add_num(pol, "bake_s", (double)a->policy.bake_ns / 1e9);
	add_num(pol, "alpha", a->policy.alpha);
	add_num(pol, "p50_ratio_max", a->policy.p50_ratio_max);
	add_num(pol, "p99_ratio_max", a->policy.p99_ratio_max);

	arr = json_object_new_array();
	json_object_object_add(o, "functions", arr);
	for (unsigned int i = 0; i < a->nfuncs && i < PG_MAX_FUNCS; i++)
		json_object_array_add(arr, fn_json(f, i));

	arr = json_object_new_array();
	json_object_object_add(o, "blockers", arr);
	for (unsigned int i = 0; i < a->nblockers && i < GATE_MAX_BLOCKERS; i++) {
		const struct pg_inside *b = &a->blockers[i];
		json_object *x = json_object_new_object();

		add_int(x, "pid", b->pid);
		add_int(x, "tid", b->tid);
		add_str(x, "comm", b->comm);
		add_str(x, "func", b->func);
		add_str(x, "state", b->state);
		json_object_array_add(arr, x);
	}
	add_int(o, "blockers_total", a->nblockers_total);

	arr = json_object_new_object();
	json_object_object_add(o, "decisions_total", arr);
	for (int r = 0; r < GATE_NREASONS; r++)
		if (f->decisions[r])
			add_int(arr, gate_reason_name((enum gate_reason)r), (int64_t)f->decisions[r]);

	arr = json_object_new_array();
	json_object_object_add(o, "decisions", arr);
	for (unsigned int i = 0; i < f->ndec && i < LIVE_DECISIONS; i++) {
		const struct live_decision *d = &f->dec[i];
		json_object *x = json_object_new_object();

		add_int(x, "seq", (int64_t)d->seq);
		add_num(x, "elapsed_s", d->elapsed_s);
		add_str(x, "from", gate_state_name(d->from));
		add_str(x, "to", gate_state_name(d->to));
		add_str(x, "reason", gate_reason_name(d->reason));
		add_str(x, "detail", d->detail);
		if (d->operator_uid >= 0)
			add_int(x, "operator_uid", d->operator_uid);
		json_object_array_add(arr, x);
	}
	return o;
}

static double jnum(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0.0;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

void live_print_status(const struct pg_ctx *ctx, json_object *rec, const char *health)
{
	json_object *fns;

	if (ctx->json) {
		json_object *o = json_object_get(rec);

		json_object_object_add(o, "health", json_object_new_string(health));
		pg_json_emit(o);
		return;
	}
	printf("gate %s (%s, %s): %s %.0fs%s, %s, gate pid %d\n", jstr(rec, "name"), jstr(rec, "patch"),
	       jstr(rec, "kind"), jstr(rec, "phase"), jnum(rec, "phase_s"),
	       json_object_get_boolean(json_object_object_get(rec, "held")) ? " (held)" : "", health,
	       (int)jnum(rec, "gate_pid"));
	fns = json_object_object_get(rec, "functions");
	for (size_t i = 0; fns && i < json_object_array_length(fns); i++) {
		json_object *f = json_object_array_get_idx(fns, i);

		printf("  %s: %.0f calls/s, %d in flight, p50 x%.2f p99 x%.2f (p %.2g)\n",
		       jstr(f, "name"), jnum(f, "calls_per_s"), (int)jnum(f, "inflight"),
		       jnum(f, "p50_ratio"), jnum(f, "p99_ratio"), jnum(f, "mw_p"));
	}
	fflush(stdout);
}

void view_operator_result(const struct pg_ctx *ctx, const char *action, const char *target,
			  const char *result, const char *detail)
{
	if (ctx->json) {
		json_object *o = pg_json_record("operator");

		add_str(o, "action", action);
		add_str(o, "target", target);
		add_str(o, "result", result);
		add_str(o, "detail", detail);
		pg_json_emit(o);
		return;
	}
	fprintf(strcmp(result, "ok") ? stderr : stdout, "patchgate: %s %s: %s: %s\n", action, target,
		result, detail);
}
