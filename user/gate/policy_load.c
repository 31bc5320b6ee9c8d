// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "gate/policy_load.h"

int policy_load_file(struct pg_policy *p, const char *path, char *err, size_t errlen)
{
	FILE *f = NULL;
	int err_code;

	f = fopen(path, "re");
	if (!f) {
		err_code = -errno;
		snprintf(err, errlen, "cannot open policy %s: %s%s", path, strerror(-err_code),
			 err_code == -ENOENT ? " -- see examples/policies/ for samples" : "");
		goto cleanup;
	}
	err_code = policy_parse_file(p, f, path, err, errlen);
cleanup:
	if (f)
		fclose(f);
	return err_code;
}

int policy_load_apply(struct pg_policy *p, const struct pg_apply_opts *o, char *err, size_t errlen)
{
	char msg[512];
	int e;

	policy_defaults(p);
	if (o->policy_path) {
		e = policy_load_file(p, o->policy_path, err, errlen);
		if (e)
			return e;
	}
	for (int i = 0; i < o->nsets; i++) {
		e = policy_apply_override(p, o->sets[i], err, errlen);
		if (e)
			return e;
	}
	if (o->max_wait_s >= 0)
		p->max_wait_ns = (uint64_t)(o->max_wait_s * 1e9);
	e = policy_validate(p, msg, sizeof(msg));
	if (e)
		snprintf(err, errlen, "policy: %s", msg);
	return e;
}

struct pg_trust_opts policy_trust_opts(const struct pg_policy *p)
{
	struct pg_trust_opts t = { .sig = PG_TRUST_SIG_OFF, .signing_key = p->signing_key };

	switch (p->signature) {
	case PG_SIGNATURE_OFF:
		t.sig = PG_TRUST_SIG_OFF;
		break;
	case PG_SIGNATURE_OPTIONAL:
		t.sig = PG_TRUST_SIG_OPTIONAL;
		break;
	case PG_SIGNATURE_REQUIRED:
		t.sig = PG_TRUST_SIG_REQUIRED;
		break;
	}
	return t;
}

int policy_apply_override(struct pg_policy *p, const char *kv, char *err, size_t errlen)
{
	char key[64], msg[256];
	const char *eq = strchr(kv, '=');
	size_t klen;
	int ret;

	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
		snprintf(err, errlen, "bad override '%s': expected key=value, e.g. bake=2m", kv);
		return -EINVAL;
	}
	klen = (size_t)(eq - kv);
	memcpy(key, kv, klen);
	key[klen] = '\0';
	ret = policy_set(p, key, eq + 1, msg, sizeof(msg));
	if (ret)
		snprintf(err, errlen, "--set %s: %s", kv, msg);
	return ret;
}
