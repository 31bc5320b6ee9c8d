/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The state directory (journals, the audit log, gate phase files): what
 * patchgate writes there decides what a later revert writes into a
 * process, so nobody but root and the invoking user may be able to
 * change it.  Created 0700; an existing one owned by another non-root
 * user, or writable by group or others, is refused.  Files in it are
 * opened relative to its descriptor and never through a symbolic link.
 */
#ifndef PG_LIB_STATEDIR_H
#define PG_LIB_STATEDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Open @path as the state directory (creating it 0700 when @create and
 * missing): a directory fd (O_CLOEXEC).  -EPERM (refused: ownership or
 * mode), -ENOENT (missing, !@create) or another -errno, with @why.
 */
int pg_statedir_open(const char *path, bool create, char *why, size_t whylen);

/*
 * openat(@dirfd, @name, @flags | O_NOFOLLOW | O_CLOEXEC, @mode): -1 with
 * errno, ELOOP when @name is a symbolic link.
 */
int pg_statedir_openat(int dirfd, const char *name, int flags, mode_t mode);

/*
 * The subdirectory @name of the state directory @dirfd, created with
 * @mode when missing: a directory fd (O_CLOEXEC), never through a symbolic
 * link.  Refused (-EPERM, with @why) like the state directory itself when
 * another user owns it or group or others may write it.
 */
int pg_statedir_subdir(int dirfd, const char *name, mode_t mode, char *why, size_t whylen);

/*
 * Replace @name in @dirfd with @len bytes of @buf, atomically: written to a
 * temporary file of this process (0600, O_EXCL, never through a symbolic
 * link) and renamed over @name.  A reader sees the old file or the new one,
 * whole, and cannot hold the writer up.  No fsync: for state that is
 * rewritten often and worthless after a reboot.  0 or -errno.
 */
int pg_statedir_replace(int dirfd, const char *name, const void *buf, size_t len);
/* The same with the file's @mode (a file others read, as a node_exporter textfile). */
int pg_statedir_replace_mode(int dirfd, const char *name, const void *buf, size_t len,
			     mode_t mode);

#endif
