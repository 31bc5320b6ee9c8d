// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/trust.h"

/* "root" or "uid N": no NSS lookup (the static build for the VM guest has none). */
static void owner_name(uid_t uid, char *buf, size_t len)
{
	if (uid)
		snprintf(buf, len, "uid %u", (unsigned int)uid);
	else
		snprintf(buf, len, "root");
}

/* One path component: 0, or -EPERM with @why. */
static int trust_one(const char *p, const struct stat *st, bool is_dir, char *why, size_t whylen)
{
	const char *what = NULL;
	uid_t me = getuid();
	char who[64];

	if (st->st_uid != 0 && st->st_uid != me)
		what = "is owned by another user";
	else if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(is_dir && (st->st_mode & S_ISVTX)))
		what = st->st_mode & S_IWOTH ? "is writable by every user" : "is writable by its group";
	if (!what)
		return 0;
	owner_name(st->st_uid, who, sizeof(who));
	snprintf(why, whylen, "%s %s (mode %04o, owner %s): refusing to trust it -- only root%s may be "
		 "able to change a patch or the directories above it", p, what,
		 (unsigned int)(st->st_mode & 07777), who, me ? " and the invoking user" : "");
	return -EPERM;
}

int pg_trust_path(const char *path, char *why, size_t whylen)
{
	char p[PATH_MAX], *slash;
	struct stat st;
	bool is_dir = false;
	int err;

	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p) || p[0] != '/') {
		snprintf(why, whylen, "%s: not an absolute path", path);
		return -EINVAL;
	}
	for (;;) {
		if (lstat(p[0] ? p : "/", &st)) {
			err = -errno;
			snprintf(why, whylen, "%s: %s", p[0] ? p : "/", strerror(-err));
			return err;
		}
		if (S_ISLNK(st.st_mode)) {
			snprintf(why, whylen, "%s is a symbolic link: resolve it first", p);
			return -ELOOP;
		}
		err = trust_one(p[0] ? p : "/", &st, is_dir, why, whylen);
		if (err || !p[0])
			return err;
		slash = strrchr(p, '/');
		*slash = '\0';		/* "/a/b" -> "/a" -> "" (the root) */
		is_dir = true;
	}
}

int pg_trust_file(const char *path, const struct pg_trust_opts *o, struct pg_trust *out, char *why,
		  size_t whylen)
{
	char sig[PATH_MAX + 8];
	int err;

	memset(out, 0, sizeof(*out));
	err = pg_trust_path(path, why, whylen);
	if (err)
		return err;
	err = pg_sha256_file(path, out->sha256);
	if (err) {
		snprintf(why, whylen, "cannot read %s: %s", path, strerror(-err));
		return err;
	}
	if (o->sig == PG_TRUST_SIG_OFF)
		return 0;
	if (!o->signing_key || !o->signing_key[0]) {
		snprintf(why, whylen, "a signature policy is set but no signing_key: cannot verify %s", path);
		return -ENOKEY;
	}
	snprintf(sig, sizeof(sig), "%s.sig", path);
	if (access(sig, F_OK)) {
		if (o->sig == PG_TRUST_SIG_OPTIONAL)
			return 0;
		snprintf(why, whylen, "%s has no signature %s, and the policy requires one (signature = "
			 "required)", path, sig);
		return -ENOKEY;
	}
	err = pg_trust_path(o->signing_key, why, whylen);
	if (err)
		return err;
	err = pg_sig_verify(path, sig, o->signing_key, why, whylen);
	if (!err)
		out->signature_verified = true;
	return err;
}
