// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * /proc/PID/maps, one line per mapping:
 *   start-end perms offset dev inode[ padding path]
 * The path is the rest of the line: it may hold spaces, so it is never
 * split on them.  Lines are read with getline(), so no path is cut short.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/procmaps.h"
#include "lib/symbols.h"

#define DELETED_SUFFIX " (deleted)"

void procmaps__free(struct procmaps *pm)
{
	if (!pm)
		return;
	for (int i = 0; i < pm->n; i++)
		free((char *)pm->m[i].path);
	free(pm->m);
	free(pm);
}

/* Parse one line into @m (path strdup'ed).  1: parsed, 0: not a mapping line, -ENOMEM. */
static int parse_line(char *line, struct procmap *m)
{
	const size_t sl = strlen(DELETED_SUFFIX);
	unsigned long long s, e, off;
	char perms[8], *path;
	size_t len;
	int pos = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &s, &e, perms, &off, &pos) < 4)
		return 0;
	memset(m, 0, sizeof(*m));
	m->start = s;
	m->end = e;
	m->off = off;
	snprintf(m->perms, sizeof(m->perms), "%.4s", perms);
	path = pos ? line + pos : line + strlen(line);
	len = strcspn(path, "\n");
	path[len] = '\0';
	if (len > sl && !strcmp(path + len - sl, DELETED_SUFFIX)) {
		path[len - sl] = '\0';
		m->deleted = true;
	}
	m->path = strdup(path);
	return m->path ? 1 : -ENOMEM;
}

int procmaps__read(int pid, struct procmaps **out)
{
	struct procmaps *pm = NULL;
	char fn[64], *line = NULL;
	size_t linecap = 0;
	int err = 0, cap = 0;
	FILE *f = NULL;

	*out = NULL;
	snprintf(fn, sizeof(fn), "/proc/%d/maps", procmaps__view_pid(pid));
	f = fopen(fn, "re");
	if (!f) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto cleanup;
	}
	pm = calloc(1, sizeof(*pm));
	if (!pm) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (getline(&line, &linecap, f) > 0) {
		int r;

		if (pm->n == cap) {
			struct procmap *nm;

			cap = cap ? cap * 2 : 256;
			nm = realloc(pm->m, cap * sizeof(*nm));
			if (!nm) {
				err = -ENOMEM;
				goto cleanup;
			}
			pm->m = nm;
		}
		r = parse_line(line, &pm->m[pm->n]);
		if (r < 0) {
			err = r;
			goto cleanup;
		}
		pm->n += r;
	}
	if (ferror(f))
		err = errno ? -errno : -EIO;
cleanup:
	free(line);
	if (f)
		fclose(f);
	if (err) {
		procmaps__free(pm);
		return err;
	}
	*out = pm;
	return 0;
}

int pg_proc_starttime(int pid, unsigned long long *out)
{
	char fn[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(fn, sizeof(fn), "/proc/%d/stat", pid);
	fd = open(fn, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* comm may hold spaces */
	if (!p)
		return -EIO;
	/* the space before field N is the (N-2)th after ')'; starttime is field 22 */
	for (int field = 3; field <= 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EIO;
	*out = strtoull(p + 1, NULL, 10);
	return 0;
}

char pg_proc_state(int tid)
{
	char fn[64], line[512], st = '?';
	const char *p;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/stat", tid);
	f = fopen(fn, "re");
	if (!f)
		return st;
	if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) && p[1] == ' ')
		st = p[2];
	fclose(f);
	return st;
}

int pg_proc_tracer(int pid, int tid)
{
	char fn[96], line[256];
	int tracer = -1;
	FILE *f;

	snprintf(fn, sizeof(fn), "/proc/%d/task/%d/status", pid, tid);
	f = fopen(fn, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

int procmaps__view_pid(int pid)
{
	char fn[96];
	struct dirent *de;
	int view = pid;
	DIR *d;

	if (pg_proc_state(pid) != 'Z')
		return pid;
	snprintf(fn, sizeof(fn), "/proc/%d/task", pid);
	d = opendir(fn);
	if (!d)
		return pid;
	while ((de = readdir(d)) && view == pid) {
		int tid = atoi(de->d_name);
		char st;

		if (tid <= 0 || tid == pid)
			continue;
		st = pg_proc_state(tid);
		if (st != 'Z' && st != 'X' && st != '?')
			view = tid;
	}
	closedir(d);
	return view;
}

#define SAME_BINARY_EXES 256	/* distinct executables whose build-id is remembered */

struct exe_seen {
	dev_t dev;
	ino_t ino;
	bool same;
};

struct exe_seen_cache {
	int n;
	struct exe_seen e[SAME_BINARY_EXES];
};

static int pid_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The build-id of the file @path names (dev/ino @st), read once per file through @seen. */
static bool file_has_build_id(struct exe_seen_cache *c, const char *path, const struct stat *st,
			      const char *want)
{
	char got[128];
	bool same;

	for (int k = 0; k < c->n; k++)
		if (c->e[k].dev == st->st_dev && c->e[k].ino == st->st_ino)
			return c->e[k].same;
	same = sym_elf_build_id(path, got, sizeof(got)) >= 0 && !strcmp(want, got);
	if (c->n < SAME_BINARY_EXES)
		c->e[c->n++] = (struct exe_seen){ st->st_dev, st->st_ino, same };
	return same;
}

/* Does process @pid run a file with build-id @want (or, with @libs, map one as a library)? */
static bool proc_maps_build_id(struct exe_seen_cache *c, int pid, const char *want, bool libs)
{
	struct procmaps *pm = NULL;
	char path[96];
	struct stat st;
	bool found = false;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &st))
		return false;	/* a kernel thread, gone, or not ours to see */
	if (file_has_build_id(c, path, &st, want))
		return true;
	if (!libs || procmaps__read(pid, &pm))
		return false;
	for (int i = 0; i < pm->n && !found; i++) {
		const struct procmap *m = &pm->m[i];

		if (m->path[0] != '/' || m->off)
			continue;	/* anonymous, [heap] and the like; an object's first mapping is enough */
		snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", pid,
			 (unsigned long long)m->start, (unsigned long long)m->end);
		if (!stat(path, &st))
			found = file_has_build_id(c, path, &st, want);
	}
	procmaps__free(pm);
	return found;
}

/*
 * The live processes other than @skip and this one whose executable (and,
 * with @libs, a library they map) has build-id @build_id: up to @max into
 * @out, in pid order; the count, or a negative errno.
 */
static int procs_scan(const char *build_id, int skip, bool libs, int *out, int max)
{
	struct exe_seen_cache *c = calloc(1, sizeof(*c));
	struct dirent *de;
	int n = 0, e;
	DIR *d;

	d = opendir("/proc");
	if (!c || !d) {
		e = c ? -errno : -ENOMEM;
		free(c);
		if (d)
			closedir(d);
		return e;
	}
	while ((de = readdir(d))) {
		char *end;
		long p = strtol(de->d_name, &end, 10);

		if (*end || p <= 0 || p == skip || p == getpid())
			continue;
		if (!proc_maps_build_id(c, (int)p, build_id, libs) || pg_proc_state((int)p) == 'Z')
			continue;
		if (n < max)
			out[n] = (int)p;
		n++;
	}
	closedir(d);
	free(c);
	qsort(out, (size_t)(n < max ? n : max), sizeof(*out), pid_cmp);
	return n;
}

bool pg_proc_maps_build_id(int pid, const char *build_id)
{
	struct exe_seen_cache *c = calloc(1, sizeof(*c));
	bool hit;

	if (!c)
		return false;
	hit = proc_maps_build_id(c, pid, build_id, true) && pg_proc_state(pid) != 'Z';
	free(c);
	return hit;
}

int pg_procs_same_binary(int pid, int *out, int max)
{
	char path[64], want[128];
	struct stat st;
	int e;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &st))
		return -ENOENT;
	e = sym_elf_build_id(path, want, sizeof(want));
	if (e < 0)
		return e;
	return procs_scan(want, pid, false, out, max);
}

int pg_procs_mapping_build_id(const char *build_id, int skip, int *out, int max)
{
	return procs_scan(build_id, skip, true, out, max);
}
