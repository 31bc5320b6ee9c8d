// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/outcome.h"
#include "core/rollout.h"

static const char *const mstate_names[RO_M__COUNT] = {
	[RO_M_PENDING] = "pending",
	[RO_M_RUNNING] = "running",
	[RO_M_COMMITTED] = "committed",
	[RO_M_REVERTED] = "reverted",
	[RO_M_NO_WINDOW] = "no_window",
	[RO_M_EXITED] = "exited",
	[RO_M_FAILED] = "failed",
	[RO_M_ROLLING_BACK] = "rolling_back",
	[RO_M_ROLLED_BACK] = "rolled_back",
	[RO_M_REPORTED] = "reported",
};

static const char *const state_names[RO__COUNT] = {
	[RO_RUNNING] = "running",
	[RO_STOPPING] = "stopping",
	[RO_COMMITTED] = "committed",
	[RO_REVERTED] = "reverted",
	[RO_ABORTED] = "aborted",
};

static const char *const regression_names[] = { "revert_ring", "revert_all" };
static const char *const no_window_names[] = { "skip", "retry", "abort" };
static const char *const new_procs_names[] = { "patch", "report" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int name_find(const char *const *names, unsigned int n, const char *s)
{
	for (unsigned int i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	return -1;
}

const char *ro_mstate_name(enum ro_mstate s)
{
	return (unsigned int)s < RO_M__COUNT ? mstate_names[s] : "?";
}

int ro_mstate_parse(const char *s)
{
	return name_find(mstate_names, RO_M__COUNT, s);
}

unsigned int ro_last_ring(const struct ro_run *r)
{
	unsigned int last = r->nrings;

	for (unsigned int i = 0; i < r->n; i++)
		if (r->m[i].ring > last)
			last = r->m[i].ring;
	return last;
}

const char *ro_state_name(enum ro_state s)
{
	return (unsigned int)s < RO__COUNT ? state_names[s] : "?";
}

int ro_state_parse(const char *s)
{
	return name_find(state_names, RO__COUNT, s);
}

const char *ro_on_regression_name(enum ro_on_regression v)
{
	return (unsigned int)v < NELEM(regression_names) ? regression_names[v] : "?";
}

const char *ro_on_no_window_name(enum ro_on_no_window v)
{
	return (unsigned int)v < NELEM(no_window_names) ? no_window_names[v] : "?";
}

const char *ro_new_procs_name(enum ro_new_procs v)
{
	return (unsigned int)v < NELEM(new_procs_names) ? new_procs_names[v] : "?";
}

/* One ring entry of the list, blanks around it allowed: into @out[k]. */
static int ring_entry(const char *s, size_t len, struct ro_rings *out, char *err, size_t errlen)
{
	char buf[32], *end;
	unsigned int k = out->n;
	double v;
	bool pct;

	while (len && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (!len || len >= sizeof(buf)) {
		snprintf(err, errlen, "ring %u is empty or too long: expected a count or a percentage, "
			 "e.g. 1, 25%%, 100%%", k + 1);
		return -EINVAL;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	pct = buf[len - 1] == '%';
	if (pct)
		buf[len - 1] = '\0';
	v = strtod(buf, &end);
	if (end == buf || *end || !isfinite(v) || v <= 0 || (pct && v > 100) ||
	    (!pct && (v != floor(v) || v > RO_MAX_MEMBERS))) {
		snprintf(err, errlen, "ring %u '%.*s': expected a count of processes (1 to %d) or a "
			 "percentage (above 0%%, at most 100%%)", k + 1, (int)len, s, RO_MAX_MEMBERS);
		return -EINVAL;
	}
	if (k >= RO_MAX_RINGS) {
		snprintf(err, errlen, "more than %d rings", RO_MAX_RINGS);
		return -EINVAL;
	}
	if (k && out->r[k - 1].pct == pct && v < out->r[k - 1].v) {
		snprintf(err, errlen, "ring %u (%.*s) is smaller than ring %u: rings are cumulative, "
			 "each reaches at least as far as the one before", k + 1, (int)len, s, k);
		return -EINVAL;
	}
	out->r[k].pct = pct;
	out->r[k].v = v;
	out->n++;
	return 0;
}

int ro_rings_parse(const char *s, struct ro_rings *out, char *err, size_t errlen)
{
	struct ro_rings r = {};
	const char *p = s;

	if (!s || !*s) {
		snprintf(err, errlen, "no rings: expected a list such as %s", RO_DEF_RINGS);
		return -EINVAL;
	}
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (ring_entry(p, len, &r, err, errlen))
			return -EINVAL;
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = r;
	return 0;
}

void ro_rings_format(const struct ro_rings *r, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < r->n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%g%s", i ? "," : "", r->r[i].v,
				 r->r[i].pct ? "%" : "");

		if (w < 0)
			break;
		off += (size_t)w;
	}
}

unsigned int ro_rings_plan(const struct ro_rings *r, unsigned int n, unsigned int *ends)
{
	unsigned int k = 0, prev = 0;

	if (!n)
		return 0;
	for (unsigned int i = 0; i < r->n; i++) {
		double want = r->r[i].pct ? ceil(r->r[i].v * n / 100.0 - 1e-9) : r->r[i].v;
		unsigned int c = want >= n ? n : (unsigned int)want;

		if (c <= prev)
			continue;
		ends[k++] = prev = c;
	}
	if (prev < n) {
		if (k == RO_MAX_RINGS)
			k--;
		ends[k++] = n;
	}
	return k;
}

void ro_policy_defaults(struct ro_policy *p)
{
	char err[128];

	memset(p, 0, sizeof(*p));
	ro_rings_parse(RO_DEF_RINGS, &p->rings, err, sizeof(err));
	p->on_regression = RO_REVERT_RING;
	p->on_no_window = RO_NW_SKIP;
	p->new_processes = RO_NEW_PATCH;
	p->retries = RO_DEF_RETRIES;
}

static int enum_set(const char *const *names, unsigned int n, const char *key, const char *value,
		    int *out, char *err, size_t errlen)
{
	int v = name_find(names, n, value);
	size_t off;

	if (v >= 0) {
		*out = v;
		return 0;
	}
	off = (size_t)snprintf(err, errlen, "bad value '%s' for key '%s': expected", value, key);
	for (unsigned int i = 0; i < n && off < errlen; i++)
		off += (size_t)snprintf(err + off, errlen - off, "%s %s", i ? (i + 1 == n ? " or" : ",") :
					"", names[i]);
	return -EINVAL;
}

int ro_policy_set(struct ro_policy *p, const char *key, const char *value, char *err, size_t errlen)
{
	char msg[192], *end;
	int v, e;

	if (!strcmp(key, "rings")) {
		struct ro_rings r;

		if (ro_rings_parse(value, &r, msg, sizeof(msg))) {
			snprintf(err, errlen, "bad value for key 'rings': %s", msg);
			return -EINVAL;
		}
		p->rings = r;
		return 0;
	}
	if (!strcmp(key, "on_regression")) {
		e = enum_set(regression_names, NELEM(regression_names), key, value, &v, err, errlen);
		if (!e)
			p->on_regression = (enum ro_on_regression)v;
		return e;
	}
	if (!strcmp(key, "on_no_window")) {
		e = enum_set(no_window_names, NELEM(no_window_names), key, value, &v, err, errlen);
		if (!e)
			p->on_no_window = (enum ro_on_no_window)v;
		return e;
	}
	if (!strcmp(key, "new_processes")) {
		e = enum_set(new_procs_names, NELEM(new_procs_names), key, value, &v, err, errlen);
		if (!e)
			p->new_processes = (enum ro_new_procs)v;
		return e;
	}
	if (!strcmp(key, "retries")) {
		long n = strtol(value, &end, 10);

		if (end == value || *end || n < 0 || n > 10) {
			snprintf(err, errlen, "bad value '%s' for key 'retries': expected 0 to 10", value);
			return -EINVAL;
		}
		p->retries = (unsigned int)n;
		return 0;
	}
	snprintf(err, errlen, "unknown key '%s' in [%s] (keys: rings, on_regression, on_no_window, "
		 "new_processes, retries)", key, RO_SECTION);
	return -ENOENT;
}

enum ro_mstate ro_member_outcome(int exit_code, bool alive)
{
	if (!alive)
		return RO_M_EXITED;
	switch (exit_code) {
	case PG_EXIT_OK:
		return RO_M_COMMITTED;
	case PG_EXIT_REGRESSED:
	case PG_EXIT_TRANSITION:
	case PG_EXIT_OPERATOR:
		return RO_M_REVERTED;
	case PG_EXIT_NO_WINDOW:
		return RO_M_NO_WINDOW;
	default:
		return RO_M_FAILED;
	}
}

enum ro_verdict ro_ring_verdict(const struct ro_ring_tally *t, const struct ro_policy *p,
				int *exit_code)
{
	*exit_code = PG_EXIT_OK;
	if (t->reverted || (t->members && t->exited * 2 > t->members)) {
		*exit_code = t->regress_exit ? t->regress_exit : PG_EXIT_REGRESSED;
		return RO_V_REGRESSED;
	}
	if (t->failed) {
		*exit_code = t->fail_exit ? t->fail_exit : PG_EXIT_SYSTEM;
		return RO_V_FAILED;
	}
	if (t->no_window) {
		if (p->on_no_window == RO_NW_ABORT) {
			*exit_code = PG_EXIT_NO_WINDOW;
			return RO_V_NO_WINDOW;
		}
		if (p->on_no_window == RO_NW_RETRY && t->retry)
			return RO_V_RETRY;
	}
	return RO_V_GO;
}
