/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Whole files: read one into memory, and replace one atomically (a temporary file and a rename). */
#ifndef PG_LIB_FILE_H
#define PG_LIB_FILE_H

#include <stddef.h>

/*
 * Read @path whole into a new NUL-terminated buffer (*@out, freed by the
 * caller; its length in *@len when @len is not NULL).  -EFBIG past @max
 * bytes, -EISDIR for a directory, or another -errno.
 */
int pg_file_read(const char *path, size_t max, char **out, size_t *len);

/* write(2) all @len bytes of @buf to @fd, again after EINTR: 0 or -errno (-ENOSPC for a short write). */
int pg_file_write_all(int fd, const void *buf, size_t len);

/*
 * A temporary file beside @path (".NAME.XXXXXX" in its directory), created
 * 0600 for pg_file_commit(): an fd, or -errno (the directory cannot be
 * written).  @tmp receives its name.
 */
int pg_file_begin(const char *path, char *tmp, size_t tmplen);

/*
 * Write @len bytes of @buf to @fd (from pg_file_begin), fsync it, give it
 * mode 0666 less the umask, close it and rename @tmp over @path: a reader
 * sees the old file or the whole new one.  On any failure (a full disk)
 * @tmp is removed and @path is untouched.  0 or -errno; @fd is closed
 * either way.
 */
int pg_file_commit(int fd, const char *tmp, const char *path, const void *buf, size_t len);

/* Give up a pg_file_begin(): close @fd and remove @tmp. */
void pg_file_abort(int fd, const char *tmp);

/*
 * Append @s and a newline to @fd (opened O_APPEND) as one write, and
 * fsync: a write that fails part way is cut back to the old end of the
 * file, so a log read a line at a time never holds half a record.
 * 0 or -errno.
 */
int pg_file_append_line(int fd, const char *s);

#endif
