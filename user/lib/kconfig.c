// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "lib/kconfig.h"

/* The whole file, NUL-terminated; a few hundred KiB at most. */
struct pg_kconfig {
	char *text;
	char *lookup;		/* the last value returned, owned here */
	char source[256];
};

/* Read @path whole through zlib, which passes an uncompressed file through as is. */
static int slurp(const char *path, char **out)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = NULL, *nb;
	gzFile gz;
	int n, err = 0;

	*out = NULL;
	gz = gzopen(path, "rb");
	if (!gz)
		return errno ? -errno : -ENOMEM;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	while ((n = gzread(gz, buf + len, (unsigned int)(cap - len - 1))) > 0) {
		len += (size_t)n;
		if (cap - len > 1)
			continue;
		nb = realloc(buf, cap * 2);
		if (!nb) {
			err = -ENOMEM;
			goto cleanup;
		}
		buf = nb;
		cap *= 2;
	}
	if (n < 0) {
		err = -EIO;
		goto cleanup;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
cleanup:
	free(buf);
	gzclose(gz);
	return err;
}

int pg_kconfig__load(const char *release, struct pg_kconfig **out)
{
	struct pg_kconfig *k;
	char path[256];
	int err;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/boot/config-%s", release);
	if (access(path, R_OK))
		snprintf(path, sizeof(path), "/proc/config.gz");
	if (access(path, R_OK)) {
		free(k);
		return -ENOENT;
	}
	err = slurp(path, &k->text);
	if (err) {
		free(k);
		return err;
	}
	snprintf(k->source, sizeof(k->source), "%s", path);
	*out = k;
	return 0;
}

void pg_kconfig__free(struct pg_kconfig *k)
{
	if (!k)
		return;
	free(k->text);
	free(k->lookup);
	free(k);
}

const char *pg_kconfig_source(const struct pg_kconfig *k)
{
	return k->source;
}

const char *pg_kconfig_value(struct pg_kconfig *k, const char *opt)
{
	size_t olen = strlen(opt);
	const char *p = k->text, *v, *end;

	/* a line "OPT=value"; "# OPT is not set" and other options never match */
	while ((p = strstr(p, opt)) != NULL) {
		if ((p == k->text || p[-1] == '\n') && p[olen] == '=') {
			v = p + olen + 1;
			end = strchr(v, '\n');
			if (!end)
				end = v + strlen(v);
			if (*v == '"' && end > v + 1 && end[-1] == '"') {
				v++;
				end--;
			}
			free(k->lookup);
			k->lookup = strndup(v, (size_t)(end - v));
			return k->lookup;
		}
		p += olen;
	}
	return NULL;
}
