// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Gate policy: defaults, one table of keys, INI parsing through inih and
 * `--set` overrides.  Pure: the caller hands in text or an open stream.
 */
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "duration.h"
#include "policy.h"

#define NS_PER_S 1000000000.0

enum key_kind {
	K_COUNT,	/* positive integer */
	K_DURATION,	/* core/duration.h: seconds, or a us/ms/s/m/h suffix */
	K_RATIO,	/* >= 1.0 */
	K_FRACTION,	/* [0, 1] */
	K_ALPHA,	/* (0, POLICY_ALPHA_MAX] */
	K_INCONCLUSIVE,	/* extend|revert|hold */
	K_FUNCS,	/* function names, separated by spaces or commas; "" for none */
	K_SIGNATURE,	/* off|optional|required */
	K_PATH,		/* an absolute path, or "" (unset) */
};

struct key_desc {
	const char *name;
	enum key_kind kind;
	size_t off;		/* offset in struct pg_policy */
	bool allow_zero;	/* durations and counts: 0 accepted (0: the documented fallback) */
};

#define OFF(f) offsetof(struct pg_policy, f)

static const struct key_desc keys[] = {
	{ "min_samples", K_COUNT, OFF(min_samples), false },
	{ "max_wait", K_DURATION, OFF(max_wait_ns), false },
	{ "dwell", K_DURATION, OFF(dwell_ns), true },
	{ "transition_timeout", K_DURATION, OFF(transition_timeout_ns), false },
	{ "bake", K_DURATION, OFF(bake_ns), false },
	{ "min_post_calls", K_COUNT, OFF(min_post_calls), true },
	{ "max_bake", K_DURATION, OFF(max_bake_ns), true },
	{ "tail_calls", K_COUNT, OFF(tail_calls), true },
	{ "hang_timeout", K_DURATION, OFF(hang_timeout_ns), false },
	{ "p50_ratio_max", K_RATIO, OFF(p50_ratio_max), false },
	{ "p99_ratio_max", K_RATIO, OFF(p99_ratio_max), false },
	{ "error_rate_delta_max", K_FRACTION, OFF(error_rate_delta_max), false },
	{ "alpha", K_ALPHA, OFF(alpha), false },
	{ "on_inconclusive", K_INCONCLUSIVE, OFF(on_inconclusive), false },
	{ "control", K_FUNCS, OFF(control), true },
	{ "signature", K_SIGNATURE, OFF(signature), false },
	{ "signing_key", K_PATH, OFF(signing_key), false },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void policy_defaults(struct pg_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->min_samples = POLICY_DEF_MIN_SAMPLES;
	p->max_wait_ns = POLICY_DEF_MAX_WAIT_NS;
	p->dwell_ns = POLICY_DEF_DWELL_NS;
	p->transition_timeout_ns = POLICY_DEF_TRANSITION_NS;
	p->bake_ns = POLICY_DEF_BAKE_NS;
	p->min_post_calls = POLICY_DEF_MIN_POST_CALLS;
	p->hang_timeout_ns = POLICY_DEF_HANG_NS;
	p->p50_ratio_max = POLICY_DEF_P50_RATIO_MAX;
	p->p99_ratio_max = POLICY_DEF_P99_RATIO_MAX;
	p->error_rate_delta_max = POLICY_DEF_ERR_DELTA_MAX;
	p->alpha = POLICY_DEF_ALPHA;
	p->on_inconclusive = POLICY_DEF_ON_INCONCLUSIVE;
}

const char *policy_inconclusive_name(enum pg_on_inconclusive v)
{
	switch (v) {
	case PG_INCONCLUSIVE_EXTEND:
		return "extend";
	case PG_INCONCLUSIVE_REVERT:
		return "revert";
	case PG_INCONCLUSIVE_HOLD:
		return "hold";
	}
	return "?";
}

const char *policy_signature_name(enum pg_signature v)
{
	switch (v) {
	case PG_SIGNATURE_OFF:
		return "off";
	case PG_SIGNATURE_OPTIONAL:
		return "optional";
	case PG_SIGNATURE_REQUIRED:
		return "required";
	}
	return "?";
}

unsigned int policy_nkeys(void)
{
	return NKEYS;
}

const char *policy_key_name(unsigned int i)
{
	return i < NKEYS ? keys[i].name : NULL;
}

/* Edit distance, for "did you mean"; names are short, so O(n*m) on the stack. */
static unsigned int edit_distance(const char *a, const char *b)
{
	unsigned int row[64], la = strlen(a), lb = strlen(b);

	if (la >= 63 || lb >= 63)
		return 64;
	for (unsigned int j = 0; j <= lb; j++)
		row[j] = j;
	for (unsigned int i = 1; i <= la; i++) {
		unsigned int diag = row[0];

		row[0] = i;
		for (unsigned int j = 1; j <= lb; j++) {
			unsigned int up = row[j], best;

			best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static const char *closest_key(const char *key)
{
	unsigned int best = ~0u, limit = strlen(key) / 3;
	const char *name = NULL;

	if (limit < 2)
		limit = 2;
	for (unsigned int i = 0; i < NKEYS; i++) {
		unsigned int d = edit_distance(key, keys[i].name);

		if (d < best) {
			best = d;
			name = keys[i].name;
		}
	}
	return best <= limit ? name : NULL;
}

static const struct key_desc *find_key(const char *key)
{
	for (unsigned int i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, key))
			return &keys[i];
	return NULL;
}

/* A plain decimal number: no hex, inf or nan, which strtod would take. */
static int parse_number(const char *s, double *out, char **end)
{
	const char *c = s;

	if (*c == '+')
		c++;
	if (!((*c >= '0' && *c <= '9') || (*c == '.' && c[1] >= '0' && c[1] <= '9')))
		return -EINVAL;
	if (c[0] == '0' && (c[1] == 'x' || c[1] == 'X'))
		return -EINVAL;
	errno = 0;
	*out = strtod(s, end);
	if (errno || *end == s || !isfinite(*out))
		return -EINVAL;
	return 0;
}

/*
 * A list of function names: [A-Za-z0-9_.$@:/+-] each (a symbol, or
 * OBJECT:SYMBOL as `watch` takes it), separated by spaces or commas.
 */
static const char *parse_funcs(const char *value, struct pg_funclist *out)
{
	struct pg_funclist l = { 0 };
	const char *c = value;

	while (*c) {
		size_t n = 0;

		while (*c == ' ' || *c == ',' || *c == '\t')
			c++;
		if (!*c)
			break;
		if (l.n == POLICY_MAX_CONTROLS)
			return "at most 8 functions";
		while (c[n] && c[n] != ' ' && c[n] != ',' && c[n] != '\t') {
			if (!strchr("_.$@:/+-", c[n]) && !(c[n] >= '0' && c[n] <= '9') &&
			    !((c[n] | 0x20) >= 'a' && (c[n] | 0x20) <= 'z'))
				return "expected function names separated by spaces or commas";
			n++;
		}
		if (n >= POLICY_FUNC_LEN)
			return "a function name is longer than 63 characters";
		memcpy(l.name[l.n++], c, n);
		c += n;
	}
	*out = l;
	return NULL;
}

int policy_set(struct pg_policy *p, const char *key, const char *value,
	       char *err, size_t errlen)
{
	const struct key_desc *k = find_key(key);
	void *field;
	const char *why = NULL;
	char *end;
	double d;

	if (!k) {
		const char *near = closest_key(key);

		if (near)
			snprintf(err, errlen, "unknown key '%s' (did you mean %s?)", key, near);
		else
			snprintf(err, errlen, "unknown key '%s' (see docs/policy.md for the keys)",
				 key);
		return -ENOENT;
	}
	field = (char *)p + k->off;
	if (!value)
		value = "";
	switch (k->kind) {
	case K_COUNT: {
		unsigned long long n;

		if (*value < '0' || *value > '9') {
			why = "expected a whole number of calls";
			break;
		}
		errno = 0;
		n = strtoull(value, &end, 10);
		if (errno || *end) {
			why = "expected a whole number of calls";
			break;
		}
		if (n == 0 && k->allow_zero) {
			*(uint64_t *)field = 0;
			return 0;
		}
		if (n < POLICY_MIN_SAMPLES_MIN || n > POLICY_MIN_SAMPLES_MAX) {
			why = "must be between 100 and 100000000 (the tail test needs >= 100)";
			break;
		}
		*(uint64_t *)field = n;
		return 0;
	}
	case K_DURATION: {
		uint64_t ns;
		int r = pg_duration_parse(value, &ns);

		if (r == -ERANGE) {
			why = "longer than 24h";
			break;
		}
		if (r) {
			why = "expected a duration such as 300, 30s, 500ms, 250us, 5m or 1h";
			break;
		}
		if (!ns && !k->allow_zero) {
			why = "must be greater than 0";
			break;
		}
		*(uint64_t *)field = ns;
		return 0;
	}
	case K_RATIO:
		if (parse_number(value, &d, &end) || *end) {
			why = "expected a ratio such as 1.2";
			break;
		}
		if (d < 1.0 || d > POLICY_RATIO_MAX) {
			why = "must be between 1.0 (no slowdown allowed) and 100";
			break;
		}
		*(double *)field = d;
		return 0;
	case K_FRACTION:
		if (parse_number(value, &d, &end) || *end) {
			why = "expected a fraction such as 0.005 (half a percentage point)";
			break;
		}
		if (d > 1.0) {
			why = "must be between 0 and 1 (a fraction, not a percentage)";
			break;
		}
		*(double *)field = d;
		return 0;
	case K_ALPHA:
		if (parse_number(value, &d, &end) || *end) {
			why = "expected a probability such as 0.01";
			break;
		}
		if (!(d > 0.0) || d > POLICY_ALPHA_MAX) {
			why = "must be greater than 0 and at most 0.01";
			break;
		}
		*(double *)field = d;
		return 0;
	case K_INCONCLUSIVE:
		if (!strcmp(value, "extend"))
			*(enum pg_on_inconclusive *)field = PG_INCONCLUSIVE_EXTEND;
		else if (!strcmp(value, "revert"))
			*(enum pg_on_inconclusive *)field = PG_INCONCLUSIVE_REVERT;
		else if (!strcmp(value, "hold"))
			*(enum pg_on_inconclusive *)field = PG_INCONCLUSIVE_HOLD;
		else {
			why = "expected extend, revert or hold";
			break;
		}
		return 0;
	case K_FUNCS:
		why = parse_funcs(value, (struct pg_funclist *)field);
		if (why)
			break;
		return 0;
	case K_SIGNATURE:
		if (!strcmp(value, "off"))
			*(enum pg_signature *)field = PG_SIGNATURE_OFF;
		else if (!strcmp(value, "optional"))
			*(enum pg_signature *)field = PG_SIGNATURE_OPTIONAL;
		else if (!strcmp(value, "required"))
			*(enum pg_signature *)field = PG_SIGNATURE_REQUIRED;
		else {
			why = "expected off, optional or required";
			break;
		}
		return 0;
	case K_PATH:
		if (value[0] && value[0] != '/') {
			why = "expected an absolute path";
			break;
		}
		if (strlen(value) >= POLICY_PATH_MAX) {
			why = "longer than 1023 bytes";
			break;
		}
		snprintf((char *)field, POLICY_PATH_MAX, "%s", value);
		return 0;
	}
	snprintf(err, errlen, "bad value '%s' for key '%s': %s", value, key,
		 why ? why : "invalid");
	return -EINVAL;
}

int policy_get(const struct pg_policy *p, const char *key, char *buf, size_t len)
{
	const struct key_desc *k = find_key(key);
	const void *field;

	if (!k)
		return -ENOENT;
	field = (const char *)p + k->off;
	switch (k->kind) {
	case K_COUNT:
		snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)field);
		break;
	case K_DURATION:
		pg_duration_format(*(const uint64_t *)field, buf, len);
		break;
	case K_RATIO:
	case K_FRACTION:
	case K_ALPHA:
		snprintf(buf, len, "%g", *(const double *)field);
		break;
	case K_INCONCLUSIVE:
		snprintf(buf, len, "%s",
			 policy_inconclusive_name(*(const enum pg_on_inconclusive *)field));
		break;
	case K_FUNCS: {
		const struct pg_funclist *l = field;
		size_t off = 0;

		buf[0] = '\0';
		for (unsigned int i = 0; i < l->n && off < len; i++)
			off += snprintf(buf + off, len - off, "%s%s", i ? " " : "", l->name[i]);
		break;
	}
	case K_SIGNATURE:
		snprintf(buf, len, "%s", policy_signature_name(*(const enum pg_signature *)field));
		break;
	case K_PATH:
		snprintf(buf, len, "%s", (const char *)field);
		break;
	}
	return 0;
}

uint64_t policy_max_bake_ns(const struct pg_policy *p)
{
	if (p->max_bake_ns)
		return p->max_bake_ns;
	return p->bake_ns > UINT64_MAX / POLICY_MAX_BAKE_FACTOR ? UINT64_MAX :
	       p->bake_ns * POLICY_MAX_BAKE_FACTOR;
}

uint64_t policy_post_calls(const struct pg_policy *p)
{
	if (!p->min_post_calls)
		return 0;
	return p->min_post_calls > p->min_samples ? p->min_post_calls : p->min_samples;
}

int policy_validate(const struct pg_policy *p, char *err, size_t errlen)
{
	char a[32], b[32];

	if (p->dwell_ns >= p->max_wait_ns) {
		pg_duration_format(p->dwell_ns, a, sizeof(a));
		pg_duration_format(p->max_wait_ns, b, sizeof(b));
		snprintf(err, errlen, "dwell (%s) must be shorter than max_wait (%s), "
			 "or no window could ever qualify", a, b);
		return -EINVAL;
	}
	if (p->hang_timeout_ns > p->bake_ns) {
		pg_duration_format(p->hang_timeout_ns, a, sizeof(a));
		pg_duration_format(p->bake_ns, b, sizeof(b));
		snprintf(err, errlen, "hang_timeout (%s) must not exceed bake (%s), "
			 "or a hang could never be seen", a, b);
		return -EINVAL;
	}
	if (p->max_bake_ns && p->max_bake_ns < p->bake_ns) {
		pg_duration_format(p->max_bake_ns, a, sizeof(a));
		pg_duration_format(p->bake_ns, b, sizeof(b));
		snprintf(err, errlen, "max_bake (%s) must not be shorter than bake (%s): bake is the "
			 "least the gate watches, max_bake the most", a, b);
		return -EINVAL;
	}
	if (p->signature != PG_SIGNATURE_OFF && !p->signing_key[0]) {
		snprintf(err, errlen, "signature = %s needs signing_key = /path/to/key.pem (an Ed25519 "
			 "public key)", policy_signature_name(p->signature));
		return -EINVAL;
	}
	return 0;
}

/* ---- INI parsing ------------------------------------------------------ */

struct parse_ctx {
	struct pg_policy pol;		/* working copy, committed on success */
	const char *name;
	const char *str;		/* string source, or */
	FILE *file;			/* stream source */
	int line;			/* physical line last handed to inih */
	int err_line;			/* first error we found, 0: none */
	bool stop;			/* make the reader return EOF */
	int key_line[NKEYS];		/* where each key was set, for duplicates */
	char *err;
	size_t errlen;
};

/*
 * Line reader for ini_parse_stream.  It counts physical lines, so the
 * handler knows where it is, and strips leading blanks: inih would take an
 * indented line for the continuation of the previous value, which in a
 * policy file is always a mistake.  A line longer than the buffer is an
 * error (inih would split it silently).
 */
static char *policy_reader(char *buf, int num, void *stream)
{
	struct parse_ctx *c = stream;
	size_t n = 0, skip = 0;

	if (c->stop || num < 2)
		return NULL;
	if (c->file) {
		if (!fgets(buf, num, c->file))
			return NULL;
		n = strlen(buf);
	} else {
		if (!*c->str)
			return NULL;
		while (n < (size_t)num - 1 && c->str[n]) {
			buf[n] = c->str[n];
			if (c->str[n++] == '\n')
				break;
		}
		buf[n] = '\0';
		c->str += n;
	}
	c->line++;
	if (n == (size_t)num - 1 && buf[n - 1] != '\n' &&
	    (c->file ? !feof(c->file) : *c->str != '\0')) {
		snprintf(c->err, c->errlen, "%s:%d: line too long (at most %d characters)",
			 c->name, c->line, num - 3);
		c->err_line = c->line;
		c->stop = true;
		return NULL;
	}
	while (buf[skip] == ' ' || buf[skip] == '\t')
		skip++;
	if (skip)
		memmove(buf, buf + skip, n - skip + 1);
	return buf;
}

static int policy_handler(void *user, const char *section, const char *name,
			  const char *value)
{
	struct parse_ctx *c = user;
	char msg[256];
	int r;

	if (c->err_line)
		return 1;
	/* a rollout's keys (core/rollout.h), read by `patchgate rollout`; no gate key */
	if (!strcmp(section, POLICY_ROLLOUT_SECTION))
		return 1;
	if (*section && strcmp(section, POLICY_SECTION)) {
		if (edit_distance(section, POLICY_SECTION) <= 2)
			snprintf(c->err, c->errlen, "%s:%d: unknown section [%s] "
				 "(did you mean [%s]?)", c->name, c->line, section, POLICY_SECTION);
		else
			snprintf(c->err, c->errlen, "%s:%d: unknown section [%s] (policy keys "
				 "go in [%s])", c->name, c->line, section, POLICY_SECTION);
		goto fail;
	}
	r = policy_set(&c->pol, name, value, msg, sizeof(msg));
	if (r) {
		snprintf(c->err, c->errlen, "%s:%d: %s", c->name, c->line, msg);
		goto fail;
	}
	for (unsigned int i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, name))
			continue;
		if (c->key_line[i]) {
			snprintf(c->err, c->errlen, "%s:%d: duplicate key '%s' (first set on "
				 "line %d)", c->name, c->line, name, c->key_line[i]);
			goto fail;
		}
		c->key_line[i] = c->line;
	}
	return 1;
fail:
	c->err_line = c->line;
	c->stop = true;
	return 0;
}

static int policy_parse(struct pg_policy *p, struct parse_ctx *c)
{
	char msg[256];
	int ret;

	c->pol = *p;
	ret = ini_parse_stream(policy_reader, c, policy_handler, c);
	if (ret < 0) {
		snprintf(c->err, c->errlen, "%s: cannot parse: out of memory", c->name);
		return -ENOMEM;
	}
	if (c->file && ferror(c->file)) {
		snprintf(c->err, c->errlen, "%s: read error", c->name);
		return -EIO;
	}
	/* inih numbers lines like our reader; an earlier syntax error wins */
	if (ret > 0 && (!c->err_line || ret < c->err_line)) {
		snprintf(c->err, c->errlen, "%s:%d: syntax error: expected 'key = value' or "
			 "'[%s]'", c->name, ret, POLICY_SECTION);
		return -EINVAL;
	}
	if (c->err_line)
		return -EINVAL;
	if (policy_validate(&c->pol, msg, sizeof(msg))) {
		snprintf(c->err, c->errlen, "%s: %s", c->name, msg);
		return -EINVAL;
	}
	*p = c->pol;
	return 0;
}

int policy_parse_string(struct pg_policy *p, const char *text, const char *name,
			char *err, size_t errlen)
{
	struct parse_ctx c = {
		.name = name ? name : "<policy>",
		.str = text ? text : "",
		.err = err,
		.errlen = errlen,
	};

	return policy_parse(p, &c);
}

int policy_parse_file(struct pg_policy *p, FILE *f, const char *name,
		      char *err, size_t errlen)
{
	struct parse_ctx c = {
		.name = name ? name : "<policy>",
		.file = f,
		.err = err,
		.errlen = errlen,
	};

	return policy_parse(p, &c);
}
