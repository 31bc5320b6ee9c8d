// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backend/ulp/ulp_journal.h"
#include "lib/procmaps.h"
#include "lib/statedir.h"

static const char *const jstate_names[ULP_J__COUNT] = {
	[ULP_J_APPLYING] = "applying",
	[ULP_J_APPLIED] = "applied",
	[ULP_J_REVERTING] = "reverting",
	[ULP_J_REVERTED_MAPPED] = "reverted-mapped",
};

const char *ulp_jstate_name(enum ulp_jstate s)
{
	return (unsigned int)s < ULP_J__COUNT ? jstate_names[s] : "?";
}

int ulp_jstate_parse(const char *name, enum ulp_jstate *out)
{
	for (int s = 0; s < ULP_J__COUNT; s++) {
		if (!strcmp(name, jstate_names[s])) {
			*out = (enum ulp_jstate)s;
			return 0;
		}
	}
	return -EBADMSG;
}

static void hex_of(const uint8_t *b, int n, char *out)
{
	for (int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = '\0';
}

static int hex_to(const char *s, uint8_t *b, int max)
{
	int n = 0;

	while (s && s[0] && s[1] && n < max) {
		unsigned v;

		if (sscanf(s, "%2x", &v) != 1)
			return -1;
		b[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static int64_t jint(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static int load(struct ulp_journal *j)
{
	json_object *root, *arr;
	int fd;

	fd = pg_statedir_openat(j->dirfd, j->name, O_RDONLY, 0);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;	/* ELOOP: a symlink is never followed */
	root = json_object_from_fd(fd);
	close(fd);
	if (!root)
		return -EBADMSG;
	if (!json_object_object_get_ex(root, "patches", &arr) ||
	    json_object_get_type(arr) != json_type_array) {
		json_object_put(root);
		return -EBADMSG;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i), *fa, *v;
		struct ulp_jpatch p = {}, *np;

		snprintf(p.patch, sizeof(p.patch), "%s", jstr(e, "patch"));
		snprintf(p.build_id, sizeof(p.build_id), "%s", jstr(e, "build_id"));
		snprintf(p.sha256, sizeof(p.sha256), "%s", jstr(e, "sha256"));	/* "" in a journal from before */
		snprintf(p.object, sizeof(p.object), "%s", jstr(e, "object"));
		if (ulp_jstate_parse(jstr(e, "state"), &p.state)) {
			json_object_put(root);
			return -EBADMSG;
		}
		if (json_object_object_get_ex(e, "applied_at", &v))
			p.applied_at = json_object_get_double(v);
		p.map_lo = (uint64_t)jint(e, "map_lo");
		p.map_hi = (uint64_t)jint(e, "map_hi");
		np = ulp_journal__add(j, &p);
		if (!np)
			goto nomem;
		if (!json_object_object_get_ex(e, "funcs", &fa))
			continue;
		np->nf = (int)json_object_array_length(fa);
		np->f = calloc(np->nf ? np->nf : 1, sizeof(*np->f));
		if (!np->f)
			goto nomem;
		for (int k = 0; k < np->nf; k++) {
			json_object *fe = json_object_array_get_idx(fa, k);
			struct ulp_jfunc *f = &np->f[k];

			snprintf(f->old_sym, sizeof(f->old_sym), "%s", jstr(fe, "old"));
			snprintf(f->new_sym, sizeof(f->new_sym), "%s", jstr(fe, "new"));
			f->old_addr = (uint64_t)jint(fe, "old_addr");
			f->old_size = (uint64_t)jint(fe, "old_size");
			f->new_addr = (uint64_t)jint(fe, "new_addr");
			f->len = (int)jint(fe, "len");
			if (f->len <= 0 || f->len > ULP_JMAX ||
			    hex_to(jstr(fe, "old_bytes"), f->old_bytes, ULP_JMAX) != f->len ||
			    hex_to(jstr(fe, "new_bytes"), f->new_bytes, ULP_JMAX) != f->len) {
				json_object_put(root);
				return -EBADMSG;
			}
		}
	}
	json_object_put(root);
	return 0;
nomem:
	json_object_put(root);
	return -ENOMEM;
}

/* "ulp-PID-START.lock", beside the journal. */
static const char *lock_name(const struct ulp_journal *j, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s.lock", (int)(strlen(j->name) - 5), j->name);
	return buf;
}

int ulp_journal__open(const char *dir, int pid, bool lock, struct ulp_journal **out)
{
	struct ulp_journal *j;
	char why[512], lp[80];
	int err;

	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->pid = pid;
	j->lockfd = -1;
	j->dirfd = -1;
	err = pg_proc_starttime(pid, &j->starttime);
	if (err)
		goto cleanup;
	/* checked (owner, mode) and created 0700; every file below is opened relative to it */
	j->dirfd = pg_statedir_open(dir, true, why, sizeof(why));
	if (j->dirfd < 0) {
		err = j->dirfd;
		goto cleanup;
	}
	snprintf(j->name, sizeof(j->name), "ulp-%d-%llu.json", pid, j->starttime);
	snprintf(j->path, sizeof(j->path), "%s/%s", dir, j->name);
	if (lock) {
		j->lockfd = pg_statedir_openat(j->dirfd, lock_name(j, lp, sizeof(lp)), O_RDWR | O_CREAT, 0600);
		if (j->lockfd < 0 || flock(j->lockfd, LOCK_EX)) {
			err = -errno;
			goto cleanup;
		}
	}
	err = load(j);
cleanup:
	if (err) {
		ulp_journal__free(j);
		return err;
	}
	*out = j;
	return 0;
}

struct ulp_jpatch *ulp_journal__add(struct ulp_journal *j, const struct ulp_jpatch *p)
{
	struct ulp_jpatch *np = realloc(j->p, (j->np + 1) * sizeof(*np));

	if (!np)
		return NULL;
	j->p = np;
	j->p[j->np] = *p;
	return &j->p[j->np++];
}

void ulp_journal__del(struct ulp_journal *j, int idx)
{
	if (idx < 0 || idx >= j->np)
		return;
	free(j->p[idx].f);
	memmove(&j->p[idx], &j->p[idx + 1], (j->np - idx - 1) * sizeof(*j->p));
	j->np--;
}

int ulp_journal__find(const struct ulp_journal *j, const char *patch)
{
	for (int i = j->np - 1; i >= 0; i--)
		if (!patch || !strcmp(j->p[i].patch, patch))
			return i;
	return -1;
}

static json_object *to_json(const struct ulp_journal *j)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();

	json_object_object_add(root, "pid", json_object_new_int(j->pid));
	json_object_object_add(root, "starttime", json_object_new_int64((int64_t)j->starttime));
	for (int i = 0; i < j->np; i++) {
		const struct ulp_jpatch *p = &j->p[i];
		json_object *e = json_object_new_object(), *fa = json_object_new_array();

		json_object_object_add(e, "patch", json_object_new_string(p->patch));
		json_object_object_add(e, "build_id", json_object_new_string(p->build_id));
		json_object_object_add(e, "sha256", json_object_new_string(p->sha256));
		json_object_object_add(e, "object", json_object_new_string(p->object));
		json_object_object_add(e, "state", json_object_new_string(ulp_jstate_name(p->state)));
		json_object_object_add(e, "applied_at", json_object_new_double(p->applied_at));
		json_object_object_add(e, "map_lo", json_object_new_int64((int64_t)p->map_lo));
		json_object_object_add(e, "map_hi", json_object_new_int64((int64_t)p->map_hi));
		for (int k = 0; k < p->nf; k++) {
			const struct ulp_jfunc *f = &p->f[k];
			json_object *fe = json_object_new_object();
			char hex[2 * ULP_JMAX + 1];

			json_object_object_add(fe, "old", json_object_new_string(f->old_sym));
			json_object_object_add(fe, "new", json_object_new_string(f->new_sym));
			json_object_object_add(fe, "old_addr", json_object_new_int64((int64_t)f->old_addr));
			json_object_object_add(fe, "old_size", json_object_new_int64((int64_t)f->old_size));
			json_object_object_add(fe, "new_addr", json_object_new_int64((int64_t)f->new_addr));
			json_object_object_add(fe, "len", json_object_new_int(f->len));
			hex_of(f->old_bytes, f->len, hex);
			json_object_object_add(fe, "old_bytes", json_object_new_string(hex));
			hex_of(f->new_bytes, f->len, hex);
			json_object_object_add(fe, "new_bytes", json_object_new_string(hex));
			json_object_array_add(fa, fe);
		}
		json_object_object_add(e, "funcs", fa);
		json_object_array_add(arr, e);
	}
	json_object_object_add(root, "patches", arr);
	return root;
}

int ulp_journal__save(struct ulp_journal *j)
{
	char tmp[80], lp[80];
	json_object *root;
	const char *s;
	int fd, err = 0;
	size_t len;

	if (!j->np) {
		if (unlinkat(j->dirfd, j->name, 0) && errno != ENOENT)
			return -errno;
		/* nothing recorded: drop the lock file too (ptrace already keeps
		 * two patchgates off one process; the lock is a second guard) */
		if (j->lockfd >= 0)
			unlinkat(j->dirfd, lock_name(j, lp, sizeof(lp)), 0);
		goto sync_dir;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", j->name);
	/* a fresh file: whatever sits at the temporary name (even a symlink) goes first */
	if (unlinkat(j->dirfd, tmp, 0) && errno != ENOENT)
		return -errno;
	fd = pg_statedir_openat(j->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -errno;
	root = to_json(j);
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(s);
	if (write(fd, s, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd))
		err = errno ? -errno : -EIO;
	close(fd);
	json_object_put(root);
	if (!err && renameat(j->dirfd, tmp, j->dirfd, j->name))
		err = -errno;
	if (err) {
		unlinkat(j->dirfd, tmp, 0);
		return err;
	}
sync_dir:
	fsync(j->dirfd);
	return 0;
}

void ulp_journal__free(struct ulp_journal *j)
{
	if (!j)
		return;
	/* nothing recorded for this process: leave no lock file behind */
	if (j->lockfd >= 0 && j->dirfd >= 0 && faccessat(j->dirfd, j->name, F_OK, AT_SYMLINK_NOFOLLOW)) {
		char lp[80];

		unlinkat(j->dirfd, lock_name(j, lp, sizeof(lp)), 0);
	}
	for (int i = 0; i < j->np; i++)
		free(j->p[i].f);
	free(j->p);
	if (j->lockfd >= 0)
		close(j->lockfd);
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j);
}
