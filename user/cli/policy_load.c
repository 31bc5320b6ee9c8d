// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cli/policy_load.h"

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
