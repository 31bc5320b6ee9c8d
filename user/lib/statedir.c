// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/file.h"
#include "lib/statedir.h"

int pg_statedir_open(const char *path, bool create, char *why, size_t whylen)
{
	struct stat st;
	int fd, err;

	if (create && mkdir(path, 0700) && errno != EEXIST) {
		err = -errno;
		snprintf(why, whylen, "cannot create the state directory %s: %s", path, strerror(-err));
		return err;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "cannot open the state directory %s: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(-err));
		close(fd);
		return err;
	}
	if ((st.st_uid != 0 && st.st_uid != getuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, whylen, "the state directory %s is %s (mode %04o, owner uid %u): refusing it "
			 "-- it must be owned by root or the invoking user and writable by nobody else "
			 "(chmod 0700 it)", path,
			 st.st_uid != 0 && st.st_uid != getuid() ? "owned by another user" :
			 st.st_mode & S_IWOTH ? "writable by every user" : "writable by its group",
			 (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_uid);
		close(fd);
		return -EPERM;
	}
	return fd;
}

int pg_statedir_openat(int dirfd, const char *name, int flags, mode_t mode)
{
	return openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

int pg_statedir_subdir(int dirfd, const char *name, mode_t mode, char *why, size_t whylen)
{
	struct stat st;
	int fd, err;

	if (mkdirat(dirfd, name, mode) && errno != EEXIST) {
		err = -errno;
		snprintf(why, whylen, "cannot create %s in the state directory: %s", name, strerror(-err));
		return err;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "cannot open %s in the state directory: %s", name,
			 err == -ELOOP || err == -ENOTDIR ? "not a directory (a symbolic link is never "
			 "followed)" : strerror(-err));
		return err;
	}
	if (fstat(fd, &st)) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", name, strerror(-err));
		close(fd);
		return err;
	}
	if ((st.st_uid != 0 && st.st_uid != getuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, whylen, "%s in the state directory has mode %04o and owner uid %u: "
			 "refusing it -- it must be owned by root or the invoking user and "
			 "writable by nobody else", name, (unsigned int)(st.st_mode & 07777),
			 (unsigned int)st.st_uid);
		close(fd);
		return -EPERM;
	}
	return fd;
}

int pg_statedir_replace(int dirfd, const char *name, const void *buf, size_t len)
{
	return pg_statedir_replace_mode(dirfd, name, buf, len, 0600);
}

int pg_statedir_replace_mode(int dirfd, const char *name, const void *buf, size_t len,
			     mode_t mode)
{
	char tmp[300];
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", name, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* a fresh file: whatever sits at the temporary name (even a symlink) goes first */
	unlinkat(dirfd, tmp, 0);
	fd = pg_statedir_openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0)
		return -errno;
	/* the mode as asked, whatever the umask */
	if (fchmod(fd, mode)) {
		err = -errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return err;
	}
	err = pg_file_write_all(fd, buf, len);
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(dirfd, tmp, dirfd, name))
		err = -errno;
	if (err)
		unlinkat(dirfd, tmp, 0);
	return err;
}
