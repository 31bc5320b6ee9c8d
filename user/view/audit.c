// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Gate audit records as JSON (json-c) and text.  No statistics here: the numbers come in. */
#include <stdio.h>
#include "view/audit.h"
#include "view/output.h"
#include "core/hist.h"

static void add_num(json_object *o, const char *k, double v)
{
	json_object_object_add(o, k, json_object_new_double(v));
}

static void add_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

static void add_int(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_bool(json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

static json_object *policy_json(const struct pg_policy *p)
{
	json_object *o = json_object_new_object(), *arr;

	if (!o)
		return NULL;
	add_u64(o, "min_samples", p->min_samples);
	add_num(o, "max_wait_s", (double)p->max_wait_ns / 1e9);
	add_num(o, "dwell_s", (double)p->dwell_ns / 1e9);
	add_num(o, "transition_timeout_s", (double)p->transition_timeout_ns / 1e9);
	add_num(o, "bake_s", (double)p->bake_ns / 1e9);
	add_u64(o, "min_post_calls", p->min_post_calls);
	add_num(o, "max_bake_s", (double)policy_max_bake_ns(p) / 1e9);
	add_u64(o, "tail_calls", p->tail_calls);
	add_num(o, "hang_timeout_s", (double)p->hang_timeout_ns / 1e9);
	add_num(o, "p50_ratio_max", p->p50_ratio_max);
	add_num(o, "p99_ratio_max", p->p99_ratio_max);
	add_num(o, "error_rate_delta_max", p->error_rate_delta_max);
	add_num(o, "alpha", p->alpha);
	add_str(o, "on_inconclusive", policy_inconclusive_name(p->on_inconclusive));
	arr = json_object_new_array();
	if (!arr) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "control", arr);
	for (unsigned int i = 0; i < p->control.n && i < POLICY_MAX_CONTROLS; i++)
		json_object_array_add(arr, json_object_new_string(p->control.name[i]));
	return o;
}

static json_object *blocker_json(const struct pg_inside *b)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_int(o, "pid", b->pid);
	add_int(o, "tid", b->tid);
	add_str(o, "comm", b->comm);
	add_str(o, "func", b->func);
	add_str(o, "state", b->state);
	return o;
}

static json_object *fn_json(const struct gate_fn_evidence *e)
{
	const struct stats_verdict *v = &e->v;
	json_object *o = json_object_new_object(), *rules = json_object_new_array();

	if (!o || !rules) {
		json_object_put(o);
		json_object_put(rules);
		return NULL;
	}
	add_str(o, "name", e->name);
	add_str(o, "verdict", stats_outcome_name(v->outcome));
	add_bool(o, "judged", e->judged);
	for (unsigned int r = 1; r <= STATS_RULE_ERRORS; r <<= 1)
		if (v->rules & r)
			json_object_array_add(rules, json_object_new_string(stats_rule_name(r)));
	json_object_object_add(o, "rules", rules);
	add_u64(o, "looks", e->looks);
	add_num(o, "alpha", v->alpha);
	add_u64(o, "n_base", v->n_base);
	add_u64(o, "n_post", v->n_post);
	add_num(o, "p50_base_ns", v->p50_base);
	add_num(o, "p90_base_ns", v->p90_base);
	add_num(o, "p99_base_ns", v->p99_base);
	add_num(o, "p50_post_ns", v->p50_post);
	add_num(o, "p90_post_ns", v->p90_post);
	add_num(o, "p99_post_ns", v->p99_post);
	add_num(o, "p50_ratio", v->p50_ratio);
	add_num(o, "p90_ratio", v->p90_ratio);
	add_num(o, "p99_ratio", v->p99_ratio);
	add_num(o, "mw_u", v->mw_u);
	add_num(o, "mw_z", v->mw_z);
	add_num(o, "mw_p", v->mw_p);
	add_num(o, "tail_q", v->tail_q);
	add_num(o, "tail_threshold_ns", v->tail_threshold_ns);
	add_num(o, "tail_base", v->tail_base);
	add_num(o, "tail_post", v->tail_post);
	add_num(o, "tail_expected", v->tail_expected);
	add_num(o, "tail_p", v->tail_p);
	add_num(o, "p50_ratio_adj", v->p50_ratio_adj);
	add_num(o, "p99_ratio_adj", v->p99_ratio_adj);
	if (v->has_control) {
		json_object *c = json_object_new_object();

		if (!c) {
			json_object_put(o);
			return NULL;
		}
		json_object_object_add(o, "control", c);
		add_u64(c, "funcs", v->ctl_funcs);
		add_u64(c, "n_base", v->ctl_n_base);
		add_u64(c, "n_post", v->ctl_n_post);
		add_num(c, "p50_ratio", v->ctl_p50_ratio);
		add_num(c, "p99_ratio", v->ctl_p99_ratio);
		add_num(c, "bulk_p", v->ctl_bulk_p);
		add_num(c, "tail_q", v->ctl_tail_q);
		add_num(c, "tail_base", v->ctl_tail_base);
		add_num(c, "tail_post", v->ctl_tail_post);
		add_num(c, "tail_p", v->ctl_tail_p);
	} else {
		json_object_object_add(o, "control", NULL);
	}
	add_u64(o, "exits_base", v->cnt_base.exits);
	add_u64(o, "errors_base", v->cnt_base.errors);
	add_u64(o, "exits_post", v->cnt_post.exits);
	add_u64(o, "errors_post", v->cnt_post.errors);
	add_num(o, "err_rate_base", v->err_rate_base);
	add_num(o, "err_rate_post", v->err_rate_post);
	add_num(o, "err_delta", v->err_delta);
	add_num(o, "err_z", v->err_z);
	add_num(o, "err_p", v->err_p);
	add_u64(o, "calls_base", e->calls_base);
	add_u64(o, "calls_post", e->calls_post);
	add_int(o, "inflight", e->inflight);
	add_int(o, "inflight_base_max", e->inflight_base_max);
	add_u64(o, "blocks", e->blocks);
	add_u64(o, "blocks_over", e->blocks_over);
	add_bool(o, "hung", e->hung);
	return o;
}

static json_object *ctl_json(const struct gate_ctl_evidence *c)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_str(o, "name", c->name);
	add_bool(o, "used", c->used);
	add_u64(o, "n_base", c->n_base);
	add_u64(o, "n_post", c->n_post);
	add_num(o, "p50_base_ns", c->p50_base);
	add_num(o, "p99_base_ns", c->p99_base);
	add_num(o, "p50_post_ns", c->p50_post);
	add_num(o, "p99_post_ns", c->p99_post);
	return o;
}

json_object *audit_to_json(const struct gate_audit *a, const char *type)
{
	json_object *o = NULL, *arr = NULL, *sub = NULL;

	o = pg_json_record(type ? type : "decision");
	if (!o)
		goto fail;
	add_u64(o, "seq", a->seq);
	add_u64(o, "time_ns", a->time_ns);
	add_num(o, "elapsed_s", (double)a->elapsed_ns / 1e9);
	add_str(o, "from", gate_state_name(a->from));
	add_str(o, "to", gate_state_name(a->to));
	add_str(o, "reason", gate_reason_name(a->reason));
	add_str(o, "detail", a->detail);
	if (a->exit_code >= 0)
		add_int(o, "exit", a->exit_code);
	if (a->operator_uid >= 0)
		add_int(o, "operator_uid", a->operator_uid);
	add_str(o, "kind", gate_backend_name(a->backend));
	add_str(o, "backend", gate_backend_name(a->backend));	/* = kind, its name before v1 */
	add_bool(o, "dry_run", a->dry_run);
	add_bool(o, "judged", a->judged);
	add_bool(o, "baseline_short", a->baseline_short);
	add_bool(o, "extended", a->extended);
	add_num(o, "look_alpha", a->look_alpha);
	add_num(o, "alpha_spent", a->alpha_spent);
	add_u64(o, "taint", a->taint);

	/* containers are attached to @o first, so one put frees everything */
	sub = policy_json(&a->policy);
	if (!sub)
		goto fail;
	json_object_object_add(o, "policy", sub);

	arr = json_object_new_array();
	if (!arr)
		goto fail;
	json_object_object_add(o, "blockers", arr);
	for (unsigned int i = 0; i < a->nblockers && i < GATE_MAX_BLOCKERS; i++) {
		sub = blocker_json(&a->blockers[i]);
		if (!sub)
			goto fail;
		json_object_array_add(arr, sub);
	}
	add_u64(o, "blockers_total", a->nblockers_total);

	arr = json_object_new_array();
	if (!arr)
		goto fail;
	json_object_object_add(o, "functions", arr);
	for (unsigned int i = 0; i < a->nfuncs && i < PG_MAX_FUNCS; i++) {
		sub = fn_json(&a->fn[i]);
		if (!sub)
			goto fail;
		json_object_array_add(arr, sub);
	}

	arr = json_object_new_array();
	if (!arr)
		goto fail;
	json_object_object_add(o, "controls", arr);
	for (unsigned int i = 0; i < a->ncontrols && i < POLICY_MAX_CONTROLS; i++) {
		sub = ctl_json(&a->ctl[i]);
		if (!sub)
			goto fail;
		json_object_array_add(arr, sub);
	}
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/* {"n": calls, "buckets": [{"lo_ns","hi_ns","n"}, ...]}: the non-empty buckets of @h. */
static json_object *hist_buckets_json(const struct pg_hist *h)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array(), *b;
	uint64_t n = 0;

	if (!o || !arr)
		goto fail;
	json_object_object_add(o, "buckets", arr);
	for (unsigned int i = 0; i < PG_HIST_BUCKETS; i++) {
		if (!h->slots[i])
			continue;
		b = json_object_new_object();
		if (!b)
			goto fail;
		json_object_array_add(arr, b);
		add_u64(b, "lo_ns", hist_bucket_lo(i));
		add_u64(b, "hi_ns", hist_bucket_hi(i));
		add_u64(b, "n", h->slots[i]);
		n += h->slots[i];
	}
	add_u64(o, "n", n);
	return o;
fail:
	if (!o)
		json_object_put(arr);
	json_object_put(o);
	return NULL;
}

json_object *audit_hists_to_json(const struct gate_audit *a, const struct pg_hist *const base[],
				 const struct pg_hist *const post[])
{
	json_object *o, *arr, *fn, *sub;

	o = pg_json_record("histograms");
	if (!o)
		return NULL;
	add_str(o, "kind", gate_backend_name(a->backend));
	add_u64(o, "seq", a->seq);
	add_str(o, "to", gate_state_name(a->to));
	arr = json_object_new_array();
	if (!arr)
		goto fail;
	json_object_object_add(o, "functions", arr);
	for (unsigned int i = 0; i < a->nfuncs && i < PG_MAX_FUNCS; i++) {
		fn = json_object_new_object();
		if (!fn)
			goto fail;
		json_object_array_add(arr, fn);
		add_str(fn, "name", a->fn[i].name);
		for (int side = 0; side < 2; side++) {
			const struct pg_hist *h = side ? post[i] : base[i];

			sub = NULL;
			if (h) {
				sub = hist_buckets_json(h);
				if (!sub)
					goto fail;
			}
			json_object_object_add(fn, side ? "post" : "base", sub);
		}
	}
	return o;
fail:
	json_object_put(o);
	return NULL;
}

int audit_format(const struct gate_audit *a, char *buf, size_t len)
{
	return snprintf(buf, len, "%s -> %s (%s): %s", gate_state_name(a->from),
			gate_state_name(a->to), gate_reason_name(a->reason), a->detail);
}

int audit_progress_line(const struct gate_audit *a, char *buf, size_t len)
{
	size_t off;
	int n;

	n = snprintf(buf, len, "%s %.0fs", gate_state_name(a->to), (double)a->elapsed_ns / 1e9);
	if (n < 0)
		return n;
	off = (size_t)n;
	for (unsigned int i = 0; i < a->nfuncs && off < len; i++) {
		const struct stats_verdict *v = &a->fn[i].v;

		if (a->to == GATE_BAKE)
			n = snprintf(buf + off, len - off,
				     "  %s %llu/%llu p50 x%.2f (p %.2g) p99 x%.2f (p %.2g)", a->fn[i].name, (unsigned long long)v->n_post,
				     (unsigned long long)v->n_base, v->p50_ratio, v->mw_p,
				     v->p99_ratio, v->tail_p);
		else
			n = snprintf(buf + off, len - off, "  %s %llu/%llu calls",
				     a->fn[i].name, (unsigned long long)v->n_base,
				     (unsigned long long)a->policy.min_samples);
		if (n < 0)
			return n;
		off += (size_t)n;
	}
	if (a->to == GATE_WAIT_WINDOW && a->nblockers_total && off < len)
		off += (size_t)snprintf(buf + off, len - off, "  blocked by %u thread(s)",
					a->nblockers_total);
	return (int)off;
}
