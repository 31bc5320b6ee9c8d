/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a patch file is: its SHA-256, and whether a detached Ed25519
 * signature over it verifies against a public key (OpenSSL's libcrypto,
 * EVP).  A signature is made with
 *   openssl pkeyutl -sign -rawin -inkey key.pem -in PATCH -out PATCH.sig
 */
#ifndef PG_LIB_DIGEST_H
#define PG_LIB_DIGEST_H

#include <stddef.h>

#define PG_SHA256_HEX	65	/* 64 hex digits and a NUL */

/* SHA-256 of what @fd holds from offset 0, in lowercase hex.  0 or -errno. */
int pg_sha256_fd(int fd, char hex[PG_SHA256_HEX]);
/* The same for the file at @path (opened O_NOFOLLOW-free: a path, as given). */
int pg_sha256_file(const char *path, char hex[PG_SHA256_HEX]);

/*
 * Verify the detached signature @sig_path over the file @data_path with
 * the PEM public key @key_path (Ed25519).  0 when it verifies; -EBADMSG
 * when it does not; -ENOENT when @sig_path is missing; other -errno when
 * a file cannot be read or the key is unusable.  @why says which.
 */
int pg_sig_verify(const char *data_path, const char *sig_path, const char *key_path, char *why,
		  size_t whylen);

#endif
