// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/file.h"

int pg_file_read(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	size_t have = 0, cap;
	char *buf = NULL, *nb;
	int fd, err = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto cleanup;
	}
	if (S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto cleanup;
	}
	cap = S_ISREG(st.st_mode) && (size_t)st.st_size < max ? (size_t)st.st_size + 1 : 4096;
	buf = malloc(cap);
	if (!buf) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (;;) {
		ssize_t n;

		if (have + 1 >= cap) {
			if (cap > max) {
				err = -EFBIG;
				goto cleanup;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				err = -ENOMEM;
				goto cleanup;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + have, cap - have - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (have > max) {
		err = -EFBIG;
		goto cleanup;
	}
	buf[have] = '\0';
	*out = buf;
	buf = NULL;
	if (len)
		*len = have;
cleanup:
	free(buf);
	close(fd);
	return err;
}

int pg_file_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENOSPC;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pg_file_begin(const char *path, char *tmp, size_t tmplen)
{
	char *d = strdup(path), *b = strdup(path);
	int fd, err = 0;

	if (!d || !b) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (snprintf(tmp, tmplen, "%s/.%s.XXXXXX", dirname(d), basename(b)) >= (int)tmplen) {
		err = -ENAMETOOLONG;
		goto cleanup;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		err = -errno;
cleanup:
	free(d);
	free(b);
	return err ? err : fd;
}

int pg_file_commit(int fd, const char *tmp, const char *path, const void *buf, size_t len)
{
	mode_t mask = umask(0);
	int err;

	umask(mask);
	err = pg_file_write_all(fd, buf, len);
	if (!err && fchmod(fd, 0666 & ~mask))
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

void pg_file_abort(int fd, const char *tmp)
{
	if (fd >= 0)
		close(fd);
	unlink(tmp);
}

/*
 * Append s and a newline to fd (opened O_APPEND) as one write, and fsync.
 * A write that fails part way (the file system filled up) is cut back to the
 * old end of the file, so that the log never holds half a record: readers
 * parse it a line at a time.  Returns 0 or -errno.
 */
int pg_file_append_line(int fd, const char *s)
{
	size_t n = strlen(s);
	struct stat st;
	char *line;
	int e;

	if (fstat(fd, &st))
		return -errno;
	line = malloc(n + 1);
	if (!line)
		return -ENOMEM;
	memcpy(line, s, n);
	line[n] = '\n';
	e = pg_file_write_all(fd, line, n + 1);
	free(line);
	if (!e && fsync(fd))
		e = -errno;
	if (e && ftruncate(fd, st.st_size) == 0)
		(void)fsync(fd);
	return e;
}
