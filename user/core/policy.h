/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Gate policy: an INI file (inih), section [gate] (keys before any section
 * are accepted too), plus `--set key=value` overrides.  Every key, its unit
 * and its default are in docs/policy.md.
 */
#ifndef PG_CORE_POLICY_H
#define PG_CORE_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "duration.h"

/* The one section name policy files use. */
#define POLICY_SECTION		"gate"
/* The section of a rollout's keys (core/rollout.h), which the gate's parser skips. */
#define POLICY_ROLLOUT_SECTION	"rollout"

enum pg_on_inconclusive {
	PG_INCONCLUSIVE_EXTEND = 0,	/* bake once more, then revert */
	PG_INCONCLUSIVE_REVERT,		/* revert (exit 2) */
	PG_INCONCLUSIVE_HOLD,		/* keep the patch, commit unjudged (exit 0) */
};

/* Control functions (key `control`): names as `watch` takes them. */
#define POLICY_MAX_CONTROLS	8
#define POLICY_FUNC_LEN		64
struct pg_funclist {
	unsigned int n;
	char name[POLICY_MAX_CONTROLS][POLICY_FUNC_LEN];
};
/* Detached signatures over patch files (PATCH.sig beside PATCH). */
enum pg_signature {
	PG_SIGNATURE_OFF = 0,		/* not looked at */
	PG_SIGNATURE_OPTIONAL,		/* verified when PATCH.sig exists */
	PG_SIGNATURE_REQUIRED,		/* PATCH.sig must exist and verify */
};

#define POLICY_PATH_MAX		1024	/* signing_key */

struct pg_policy {
	uint64_t min_samples;		/* calls per function, per side */
	uint64_t max_wait_ns;		/* bound on BASELINE, and again on WAIT_WINDOW */
	uint64_t dwell_ns;		/* window must stay clear this long */
	uint64_t transition_timeout_ns;	/* klp transition bound */
	uint64_t bake_ns;		/* post-patch observation time (at least) */
	uint64_t min_post_calls;	/* post calls the bake waits for; 0: none */
	uint64_t max_bake_ns;		/* bound on the bake's wait for them; 0: 2 x bake */
	uint64_t tail_calls;		/* calls per side a sigma-0.5-wide tail needs, scaled by
					   the baseline's tail width squared; 0: off */
	uint64_t hang_timeout_ns;	/* in-flight above baseline with no progress */
	double p50_ratio_max;		/* post/base p50 allowed */
	double p99_ratio_max;		/* post/base p99 allowed */
	double error_rate_delta_max;	/* post - base error fraction allowed */
	double alpha;			/* family-wise false-revert rate, per run */
	enum pg_on_inconclusive on_inconclusive;
	struct pg_funclist control;	/* concurrent control functions; none: before/after */
	enum pg_signature signature;
	char signing_key[POLICY_PATH_MAX];	/* Ed25519 public key (PEM), absolute; "" unset */
};

/* Defaults (docs/policy.md). */
#define POLICY_DEF_MIN_SAMPLES		2000
#define POLICY_DEF_MAX_WAIT_NS		(300ULL * 1000000000ULL)
#define POLICY_DEF_DWELL_NS		(1ULL * 1000000000ULL)
#define POLICY_DEF_TRANSITION_NS	(60ULL * 1000000000ULL)
#define POLICY_DEF_BAKE_NS		(300ULL * 1000000000ULL)
/*
 * Post calls a 25% tail-only p99 shift needs to be caught in 95% of runs
 * with a control at sigma 0.5 (bench/detection, docs/benchmarks.md "Drift").
 */
#define POLICY_DEF_MIN_POST_CALLS	4000
#define POLICY_MAX_BAKE_FACTOR		2	/* max_bake = 0: this many bakes */
#define POLICY_DEF_HANG_NS		(10ULL * 1000000000ULL)
#define POLICY_DEF_P50_RATIO_MAX	1.10
#define POLICY_DEF_P99_RATIO_MAX	1.15
#define POLICY_DEF_ERR_DELTA_MAX	0.005
#define POLICY_DEF_ALPHA		0.01
#define POLICY_DEF_ON_INCONCLUSIVE	PG_INCONCLUSIVE_EXTEND

/* Limits a value must respect (docs/policy.md). */
#define POLICY_MIN_SAMPLES_MIN		100
#define POLICY_MIN_SAMPLES_MAX		100000000ULL
#define POLICY_DURATION_MAX_NS		PG_DURATION_MAX_NS
#define POLICY_ALPHA_MAX		0.01
#define POLICY_RATIO_MAX		100.0

void policy_defaults(struct pg_policy *p);

/* max_bake in force: the key, or POLICY_MAX_BAKE_FACTOR x bake when it is 0. */
uint64_t policy_max_bake_ns(const struct pg_policy *p);
/* Post calls the bake waits for: the larger of min_post_calls and min_samples; 0 when min_post_calls is 0. */
uint64_t policy_post_calls(const struct pg_policy *p);

/* "off", "optional", "required". */
const char *policy_signature_name(enum pg_signature v);

/*
 * Set one key from its text value, as a file line or `--set key=value`
 * would.  On error returns -EINVAL (-ENOENT for an unknown key) and writes
 * "unknown key 'x' (did you mean y?)" or "bad value 'v' for key 'k': ..."
 * into @err; @p is unchanged then.  Does not check cross-key rules: call
 * policy_validate() after the last override.
 */
int policy_set(struct pg_policy *p, const char *key, const char *value,
	       char *err, size_t errlen);

/* Cross-key rules (dwell < max_wait, ...).  -EINVAL with a message. */
int policy_validate(const struct pg_policy *p, char *err, size_t errlen);

/*
 * Parse INI text into @p, which the caller has set (usually to defaults);
 * keys absent from the text keep their value.  @name labels messages
 * ("strict.ini:7: unknown key ...").  Stops at the first error; returns 0
 * or -EINVAL with the message in @err.  Ends with policy_validate().
 */
int policy_parse_string(struct pg_policy *p, const char *text, const char *name,
			char *err, size_t errlen);
/* The same, reading an open stream the caller owns. */
int policy_parse_file(struct pg_policy *p, FILE *f, const char *name,
		      char *err, size_t errlen);

const char *policy_inconclusive_name(enum pg_on_inconclusive v);

/* Number of keys, and the name of key @i (for docs, --help and tests). */
unsigned int policy_nkeys(void);
const char *policy_key_name(unsigned int i);
/* Format the current value of @key into @buf ("300s", "1.2", ...).  -ENOENT if unknown. */
int policy_get(const struct pg_policy *p, const char *key, char *buf, size_t len);

#endif
