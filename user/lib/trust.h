/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Whether a file may be trusted to be what it was when someone vetted it,
 * before its code goes into a process or the kernel: nobody but root and
 * the invoking user (the real uid) can change it or any directory above
 * it; its SHA-256; and, when asked, a detached signature over it
 * (lib/digest.h).
 */
#ifndef PG_LIB_TRUST_H
#define PG_LIB_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/digest.h"

/* What a detached signature PATH.sig must be (the policy key "signature"). */
enum pg_trust_sig {
	PG_TRUST_SIG_OFF = 0,		/* not looked at */
	PG_TRUST_SIG_OPTIONAL,		/* verified when PATH.sig exists */
	PG_TRUST_SIG_REQUIRED,		/* PATH.sig must exist and verify */
};

struct pg_trust_opts {
	enum pg_trust_sig sig;
	const char *signing_key;	/* PEM public key; needed unless sig is off */
};

struct pg_trust {
	char sha256[PG_SHA256_HEX];
	bool signature_verified;	/* PATH.sig verified */
};

/*
 * @path (absolute, symlinks resolved) and every directory above it:
 * owned by root or the real uid, and writable by nobody else (a
 * directory writable by others is accepted only with the sticky bit,
 * which keeps them from replacing a file they do not own).  0, or -EPERM
 * with @why naming the path, its mode and its owner.
 */
int pg_trust_path(const char *path, char *why, size_t whylen);

/*
 * pg_trust_path(@path), then its SHA-256, then the signature as @o says
 * (PATH.sig beside it; the key file must pass pg_trust_path too).  0, or
 * -errno with @why: -EPERM (permissions), -ENOKEY (signature required
 * and missing), -EBADMSG (bad signature), other errno (unreadable).
 */
int pg_trust_file(const char *path, const struct pg_trust_opts *o, struct pg_trust *out, char *why,
		  size_t whylen);

#endif
