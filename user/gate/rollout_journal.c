// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The rollout journal: the "rollout" record (docs/json.md) of the plan and
 * progress, replaced whole at every change, so that a rollout killed at any
 * point leaves either the state before a change or the state after it.
 * Not fsynced: the processes it is about do not outlive a reboot either.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "gate/rollout.h"
#include "view/rollout.h"
#include "lib/clock.h"
#include "lib/procmaps.h"
#include "lib/statedir.h"

bool ro_proc_alive(int pid, unsigned long long start)
{
	unsigned long long s;

	if (pid <= 0 || pg_proc_starttime(pid, &s) || (start && s != start))
		return false;
	return pg_proc_state(pid) != 'Z' && pg_proc_state(pid) != 'X';
}

bool ro_owner_alive(const struct ro_run *r)
{
	return r->owner_pid != getpid() && ro_proc_alive(r->owner_pid, r->owner_start);
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int ro_journal_write(const struct pg_ctx *ctx, struct ro_run *r)
{
	char why[1024];
	json_object *o;
	const char *s;
	int dfd, e;

	r->updated = wall_now();
	dfd = pg_statedir_open(ctx->state_dir, true, why, sizeof(why));
	if (dfd < 0)
		return dfd;
	o = view_rollout_json(r, -1);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	e = pg_statedir_replace(dfd, RO_JOURNAL, s, strlen(s));
	json_object_put(o);
	close(dfd);
	return e;
}

/* Field helpers: a missing or mistyped field fails the read. */
static int jstr(json_object *o, const char *k, char *out, size_t len)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return -EINVAL;
	snprintf(out, len, "%s", json_object_get_string(v));
	return 0;
}

static int jint(json_object *o, const char *k, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return -EINVAL;
	*out = json_object_get_int64(v);
	return 0;
}

static int jnum(json_object *o, const char *k, double *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return -EINVAL;
	*out = json_object_get_double(v);
	return 0;
}

static int member_read(json_object *o, struct ro_member *m)
{
	int64_t pid, start, ring, gpid, gstart, control, ex, tries;
	char state[32];
	json_object *v;
	int st;

	if (jint(o, "pid", &pid) || jint(o, "start", &start) || jint(o, "ring", &ring) ||
	    jint(o, "gate_pid", &gpid) || jint(o, "gate_start", &gstart) ||
	    jint(o, "control", &control) || jint(o, "exit", &ex) || jint(o, "tries", &tries) ||
	    jstr(o, "state", state, sizeof(state)) || jnum(o, "t0", &m->t0) || jnum(o, "t1", &m->t1) ||
	    !json_object_object_get_ex(o, "late", &v))
		return -EINVAL;
	st = ro_mstate_parse(state);
	if (st < 0 || pid <= 0 || ring <= 0)
		return -EINVAL;
	m->pid = (int)pid;
	m->start = (unsigned long long)start;
	m->ring = (unsigned int)ring;
	m->state = (enum ro_mstate)st;
	m->gate_pid = (int)gpid;
	m->gate_start = (unsigned long long)gstart;
	m->control = (int)control;
	m->exit = (int)ex;
	m->tries = (unsigned int)tries;
	m->late = json_object_get_boolean(v);
	return 0;
}

/* The [rollout] policy as the record spells it. */
static int policy_read(json_object *o, struct ro_policy *p)
{
	static const char *const keys[] = { "rings", "on_regression", "on_no_window", "new_processes" };
	char val[160], err[256];
	int64_t retries;

	ro_policy_defaults(p);
	for (unsigned int i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (jstr(o, keys[i], val, sizeof(val)) || ro_policy_set(p, keys[i], val, err, sizeof(err)))
			return -EINVAL;
	if (jint(o, "retries", &retries))
		return -EINVAL;
	p->retries = (unsigned int)retries;
	return 0;
}

static int run_read(json_object *o, struct ro_run *r)
{
	int64_t ring, nrings, ex, owner, ostart, resumes;
	json_object *a;
	char state[32];
	int st;

	if (jstr(o, "id", r->id, sizeof(r->id)) || jstr(o, "patch", r->patch, sizeof(r->patch)) ||
	    jstr(o, "exe", r->exe, sizeof(r->exe)) ||
	    jstr(o, "build_id", r->build_id, sizeof(r->build_id)) ||
	    jstr(o, "policy", r->policy, sizeof(r->policy)) || jstr(o, "state", state, sizeof(state)) ||
	    jint(o, "ring", &ring) || jint(o, "nrings", &nrings) || jint(o, "exit", &ex) ||
	    jint(o, "owner_pid", &owner) || jint(o, "owner_start", &ostart) ||
	    jint(o, "resumes", &resumes) || jnum(o, "started", &r->started) ||
	    jnum(o, "updated", &r->updated) || policy_read(o, &r->pol))
		return -EINVAL;
	st = ro_state_parse(state);
	if (st < 0)
		return -EINVAL;
	r->state = (enum ro_state)st;
	r->ring = (unsigned int)ring;
	r->nrings = (unsigned int)nrings;
	r->exit = (int)ex;
	r->owner_pid = (int)owner;
	r->owner_start = (unsigned long long)ostart;
	r->resumes = (unsigned int)resumes;
	/* optional: how the run that wrote it found new processes */
	if (json_object_object_get_ex(o, "new_processes_seen_by", &a) &&
	    (jstr(o, "new_processes_seen_by", r->seen_by, sizeof(r->seen_by)) ||
	     (strcmp(r->seen_by, "exec") && strcmp(r->seen_by, "scan"))))
		return -EINVAL;
	if (!json_object_object_get_ex(o, "sets", &a) || !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > RO_MAX_SETS)
		return -EINVAL;
	r->nsets = (unsigned int)json_object_array_length(a);
	for (unsigned int i = 0; i < r->nsets; i++)
		snprintf(r->sets[i], RO_SET_LEN, "%s", json_object_get_string(json_object_array_get_idx(a, i)));
	if (!json_object_object_get_ex(o, "members", &a) || !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > RO_MAX_MEMBERS)
		return -EINVAL;
	r->n = (unsigned int)json_object_array_length(a);
	for (unsigned int i = 0; i < r->n; i++)
		if (member_read(json_object_array_get_idx(a, i), &r->m[i]))
			return -EINVAL;
	return 0;
}

int ro_journal_read(const struct pg_ctx *ctx, struct ro_run *r)
{
	char path[4200];
	json_object *o;
	int e;

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, RO_JOURNAL);
	if (access(path, F_OK))
		return -errno;
	o = json_object_from_file(path);
	if (!o)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	e = run_read(o, r);
	json_object_put(o);
	return e;
}

void rollout_status_show(struct pg_ctx *ctx)
{
	struct ro_run *r = calloc(1, sizeof(*r));
	int e;

	if (!r)
		return;
	e = ro_journal_read(ctx, r);
	if (e == -EINVAL)
		pg_warn(ctx, "cannot read the rollout journal %s/%s", ctx->state_dir, RO_JOURNAL);
	else if (!e)
		view_rollout_print(ctx, r, ro_owner_alive(r));
	free(r);
}
