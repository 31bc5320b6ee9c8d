// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/digest.h"

#define DIGEST_MAX_FILE	(512UL << 20)	/* a patch or a signature larger than this is refused */

int pg_sha256_fd(int fd, char hex[PG_SHA256_HEX])
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	off_t off = 0;
	int err = 0;

	hex[0] = '\0';
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		if (!n)
			break;
		if (!EVP_DigestUpdate(ctx, buf, (size_t)n)) {
			err = -EIO;
			goto cleanup;
		}
		off += n;
	}
	if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32) {
		err = -EIO;
		goto cleanup;
	}
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
cleanup:
	EVP_MD_CTX_free(ctx);
	return err;
}

int pg_sha256_file(const char *path, char hex[PG_SHA256_HEX])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	hex[0] = '\0';
	if (fd < 0)
		return -errno;
	err = pg_sha256_fd(fd, hex);
	close(fd);
	return err;
}

/* All of @path into *buf (malloc'ed), at most DIGEST_MAX_FILE bytes.  0 or -errno. */
static int read_all(const char *path, unsigned char **buf, size_t *len)
{
	unsigned char *b = NULL;
	struct stat st;
	size_t got = 0;
	int fd, err = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > DIGEST_MAX_FILE) {
		err = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		goto cleanup;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;	/* shrank while read */
			goto cleanup;
		}
		got += (size_t)n;
	}
	*buf = b;
	*len = got;
	b = NULL;
cleanup:
	free(b);
	close(fd);
	return err;
}

int pg_sig_verify(const char *data_path, const char *sig_path, const char *key_path, char *why,
		  size_t whylen)
{
	unsigned char *data = NULL, *sig = NULL;
	size_t dlen = 0, slen = 0;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;
	FILE *kf = NULL;
	int err, ok;

	err = read_all(sig_path, &sig, &slen);
	if (err) {
		snprintf(why, whylen, "cannot read the signature %s: %s", sig_path, strerror(-err));
		goto cleanup;
	}
	kf = fopen(key_path, "re");
	if (!kf) {
		err = -errno;
		snprintf(why, whylen, "cannot read the signing key %s: %s", key_path, strerror(-err));
		goto cleanup;
	}
	key = PEM_read_PUBKEY(kf, NULL, NULL, NULL);
	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
		err = -EINVAL;
		snprintf(why, whylen, "the signing key %s is not an Ed25519 public key in PEM", key_path);
		goto cleanup;
	}
	err = read_all(data_path, &data, &dlen);
	if (err) {
		snprintf(why, whylen, "cannot read %s: %s", data_path, strerror(-err));
		goto cleanup;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1) {
		err = -ENOMEM;
		snprintf(why, whylen, "cannot set up signature verification");
		goto cleanup;
	}
	/* Ed25519 signs the message itself: one shot, no digest of ours */
	ok = EVP_DigestVerify(ctx, sig, slen, data, dlen);
	if (ok != 1) {
		err = -EBADMSG;
		snprintf(why, whylen, "the signature %s does not verify against %s with the key %s", sig_path,
			 data_path, key_path);
	}
cleanup:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	if (kf)
		fclose(kf);
	free(data);
	free(sig);
	return err;
}
