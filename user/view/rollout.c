// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>
#include "view/rollout.h"

static json_object *member_json(const struct ro_member *m)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int(m->pid));
	json_object_object_add(o, "start", json_object_new_uint64(m->start));
	json_object_object_add(o, "ring", json_object_new_int((int)m->ring));
	json_object_object_add(o, "state", json_object_new_string(ro_mstate_name(m->state)));
	json_object_object_add(o, "gate_pid", json_object_new_int(m->gate_pid));
	json_object_object_add(o, "gate_start", json_object_new_uint64(m->gate_start));
	json_object_object_add(o, "control", json_object_new_int(m->control));
	json_object_object_add(o, "exit", json_object_new_int(m->exit));
	json_object_object_add(o, "tries", json_object_new_int((int)m->tries));
	json_object_object_add(o, "late", json_object_new_boolean(m->late));
	json_object_object_add(o, "t0", json_object_new_double(m->t0));
	json_object_object_add(o, "t1", json_object_new_double(m->t1));
	return o;
}

json_object *view_rollout_json(const struct ro_run *r, int live)
{
	json_object *o = pg_json_record("rollout"), *m = json_object_new_array(), *s;
	char rings[160];

	json_object_object_add(o, "id", json_object_new_string(r->id));
	json_object_object_add(o, "patch", json_object_new_string(r->patch));
	json_object_object_add(o, "exe", json_object_new_string(r->exe));
	json_object_object_add(o, "build_id", json_object_new_string(r->build_id));
	json_object_object_add(o, "policy", json_object_new_string(r->policy));
	s = json_object_new_array();
	for (unsigned int i = 0; i < r->nsets; i++)
		json_object_array_add(s, json_object_new_string(r->sets[i]));
	json_object_object_add(o, "sets", s);
	ro_rings_format(&r->pol.rings, rings, sizeof(rings));
	json_object_object_add(o, "rings", json_object_new_string(rings));
	json_object_object_add(o, "on_regression",
			       json_object_new_string(ro_on_regression_name(r->pol.on_regression)));
	json_object_object_add(o, "on_no_window",
			       json_object_new_string(ro_on_no_window_name(r->pol.on_no_window)));
	json_object_object_add(o, "new_processes",
			       json_object_new_string(ro_new_procs_name(r->pol.new_processes)));
	json_object_object_add(o, "retries", json_object_new_int((int)r->pol.retries));
	json_object_object_add(o, "state", json_object_new_string(ro_state_name(r->state)));
	json_object_object_add(o, "ring", json_object_new_int((int)r->ring));
	json_object_object_add(o, "nrings", json_object_new_int((int)r->nrings));
	json_object_object_add(o, "exit", json_object_new_int(r->exit));
	json_object_object_add(o, "owner_pid", json_object_new_int(r->owner_pid));
	json_object_object_add(o, "owner_start", json_object_new_uint64(r->owner_start));
	json_object_object_add(o, "started", json_object_new_double(r->started));
	json_object_object_add(o, "updated", json_object_new_double(r->updated));
	json_object_object_add(o, "resumes", json_object_new_int((int)r->resumes));
	if (r->seen_by[0])
		json_object_object_add(o, "new_processes_seen_by", json_object_new_string(r->seen_by));
	if (live >= 0)
		json_object_object_add(o, "live", json_object_new_boolean(live));
	for (unsigned int i = 0; i < r->n; i++)
		json_object_array_add(m, member_json(&r->m[i]));
	json_object_object_add(o, "members", m);
	return o;
}

json_object *view_rollout_ring_json(const struct ro_run *r, unsigned int ring, const char *verdict,
				    double wall)
{
	json_object *o = pg_json_record("rollout_ring"), *m = json_object_new_array();

	json_object_object_add(o, "rollout", json_object_new_string(r->id));
	json_object_object_add(o, "patch", json_object_new_string(r->patch));
	json_object_object_add(o, "build_id", json_object_new_string(r->build_id));
	json_object_object_add(o, "ring", json_object_new_int((int)ring));
	json_object_object_add(o, "nrings", json_object_new_int((int)r->nrings));
	json_object_object_add(o, "verdict", json_object_new_string(verdict));
	json_object_object_add(o, "wall_time", json_object_new_double(wall));
	for (unsigned int i = 0; i < r->n; i++)
		if (r->m[i].ring == ring)
			json_object_array_add(m, member_json(&r->m[i]));
	json_object_object_add(o, "members", m);
	return o;
}

void view_rollout_member_text(const struct ro_member *m, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "pid %-7d %s", m->pid, ro_mstate_name(m->state));
	const char *sep = " (";

#define ADD(...)                                                         \
	do {                                                             \
		if (n < len)                                             \
			n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); \
	} while (0)
	if (m->exit >= 0) {
		ADD("%sgate exit %d", sep, m->exit);
		sep = ", ";
	}
	if (m->control) {
		ADD("%scontrol pid %d", sep, m->control);
		sep = ", ";
	}
	if (m->tries > 1) {
		ADD("%s%u tries", sep, m->tries);
		sep = ", ";
	}
	if (m->late) {
		ADD("%sstarted during the rollout", sep);
		sep = ", ";
	}
	if (strcmp(sep, " ("))
		ADD(")");
#undef ADD
}

static void member_line(const struct ro_member *m)
{
	char buf[256];

	view_rollout_member_text(m, buf, sizeof(buf));
	printf("    %s\n", buf);
}

void view_rollout_print(const struct pg_ctx *ctx, const struct ro_run *r, int live)
{
	unsigned int last = ro_last_ring(r);

	if (ctx->json) {
		pg_json_emit(view_rollout_json(r, live));
		return;
	}
	printf("rollout %s: %s%s, ring %u of %u", r->id, ro_state_name(r->state),
	       live == 1 ? " (running)" : live == 0 && (r->state == RO_RUNNING || r->state == RO_STOPPING) ?
	       " (interrupted: patchgate rollout --resume)" : "", r->ring, r->nrings);
	if (r->exit >= 0)
		printf(", exit %d", r->exit);
	printf("\n  patch %s\n  target %s (build-id %s)\n", r->patch, r->exe[0] ? r->exe : "--pids",
	       r->build_id);
	if (r->seen_by[0])
		printf("  new processes: %s, seen %s\n", ro_new_procs_name(r->pol.new_processes),
		       !strcmp(r->seen_by, "exec") ? "by exec (BPF tracepoint)" : "by a /proc scan at each ring");
	for (unsigned int k = 1; k <= last; k++) {
		bool any = false;

		for (unsigned int i = 0; i < r->n; i++) {
			if (r->m[i].ring != k)
				continue;
			if (!any)
				printf("  ring %u\n", k);
			any = true;
			member_line(&r->m[i]);
		}
	}
}

void view_rollout_ring_print(const struct pg_ctx *ctx, const struct ro_run *r, unsigned int ring,
			     const char *verdict, double wall)
{
	unsigned int n = 0;

	if (ctx->json) {
		pg_json_emit(view_rollout_ring_json(r, ring, verdict, wall));
		return;
	}
	for (unsigned int i = 0; i < r->n; i++)
		n += r->m[i].ring == ring;
	printf("patchgate: rollout ring %u of %u (%u process%s): %s\n", ring, r->nrings, n,
	       n == 1 ? "" : "es", verdict);
	for (unsigned int i = 0; i < r->n; i++)
		if (r->m[i].ring == ring)
			member_line(&r->m[i]);
	fflush(stdout);
}
