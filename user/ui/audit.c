// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Gate audit records as JSON (json-c) and text.  No statistics here: the numbers come in. */
#include <stdio.h>
#include "ui/audit.h"

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
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_u64(o, "min_samples", p->min_samples);
	add_num(o, "max_wait_s", (double)p->max_wait_ns / 1e9);
	add_num(o, "dwell_s", (double)p->dwell_ns / 1e9);
	add_num(o, "transition_timeout_s", (double)p->transition_timeout_ns / 1e9);
	add_num(o, "bake_s", (double)p->bake_ns / 1e9);
	add_num(o, "hang_timeout_s", (double)p->hang_timeout_ns / 1e9);
	add_num(o, "p50_ratio_max", p->p50_ratio_max);
	add_num(o, "p99_ratio_max", p->p99_ratio_max);
	add_num(o, "error_rate_delta_max", p->error_rate_delta_max);
	add_num(o, "alpha", p->alpha);
	add_str(o, "on_inconclusive", policy_inconclusive_name(p->on_inconclusive));
	return o;
}

static json_object *blocker_json(const struct gate_blocker *b)
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

json_object *audit_to_json(const struct gate_audit *a, const char *type)
{
	json_object *o = NULL, *arr = NULL, *sub = NULL;

	o = json_object_new_object();
	if (!o)
		goto fail;
	add_str(o, "type", type ? type : "decision");
	add_u64(o, "seq", a->seq);
	add_u64(o, "time_ns", a->time_ns);
	add_num(o, "elapsed_s", (double)a->elapsed_ns / 1e9);
	add_str(o, "from", gate_state_name(a->from));
	add_str(o, "to", gate_state_name(a->to));
	add_str(o, "reason", gate_reason_name(a->reason));
	add_str(o, "detail", a->detail);
	if (a->exit_code >= 0)
		add_int(o, "exit", a->exit_code);
	add_str(o, "backend", gate_backend_name(a->backend));
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
