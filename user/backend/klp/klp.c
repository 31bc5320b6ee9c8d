// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* klp backend: checks before loading and the kernel's livepatch interface. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "backend/klp/klp.h"
#include "lib/kallsyms.h"

bool klp_supported(void)
{
	struct stat st;

	return !stat(KLP_SYSFS, &st) && S_ISDIR(st.st_mode);
}

bool klp_module_loaded(const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "/sys/module/%s", name);
	return !stat(p, &st);
}

static int read_str(const char *path, char *buf, size_t len);

int klp_module_attr(const char *name, const char *attr, char *buf, size_t len)
{
	char p[512];

	snprintf(p, sizeof(p), "/sys/module/%s/%s", name, attr);
	return read_str(p, buf, len);
}

static void record_path(char *p, size_t len, const char *dir, const char *name)
{
	snprintf(p, len, "%s/klp-%s.module", dir, name);
}

int klp_record_write(const char *dir, const char *name, const char *path, const char *params)
{
	char p[PATH_MAX], tmp[PATH_MAX + 8], abs[PATH_MAX];
	FILE *f;
	int e = 0;

	if (!realpath(path, abs))
		return -errno;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	record_path(p, sizeof(p), dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", p);
	if (!(f = fopen(tmp, "we")))
		return -errno;
	if (fprintf(f, "%s\n%s\n", abs, params ? params : "") < 0)
		e = -EIO;
	if (fclose(f) && !e)
		e = -errno;
	if (!e && rename(tmp, p))
		e = -errno;
	if (e)
		unlink(tmp);
	return e;
}

int klp_record_read(const char *dir, const char *name, char *path, size_t plen, char *params,
		    size_t parlen)
{
	char p[PATH_MAX];
	FILE *f;
	int e = 0;

	record_path(p, sizeof(p), dir, name);
	if (!(f = fopen(p, "re")))
		return -errno;
	if (!fgets(path, (int)plen, f) || !fgets(params, (int)parlen, f))
		e = -EINVAL;
	fclose(f);
	if (e)
		return e;
	path[strcspn(path, "\n")] = '\0';
	params[strcspn(params, "\n")] = '\0';
	return path[0] ? 0 : -EINVAL;
}

void klp_record_remove(const char *dir, const char *name)
{
	char p[PATH_MAX];

	record_path(p, sizeof(p), dir, name);
	unlink(p);
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		e = -errno;
	else
		buf[n] = '\0';
	close(fd);
	while (!e && n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return e;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		e = -errno;
	close(fd);
	return e;
}

static int patch_attr(const char *name, const char *attr, char *buf, size_t len)
{
	char p[512];

	snprintf(p, sizeof(p), KLP_SYSFS "/%s/%s", name, attr);
	return read_str(p, buf, len);
}

int klp_check(const struct klp_info *info, char *err, size_t errlen, char *note, size_t notelen)
{
	struct ksyms *ks = NULL;
	struct klp_state st;
	struct utsname u;
	char rel[256];
	size_t n;
	int e = 0;

	err[0] = note[0] = '\0';
	if (!info->livepatch) {
		snprintf(err, errlen, "%s is not a livepatch module", info->path);
		return -EINVAL;
	}
	uname(&u);
	/* vermagic starts with the release the module was built for */
	n = info->vermagic ? strcspn(info->vermagic, " ") : 0;
	snprintf(rel, sizeof(rel), "%.*s", (int)n, info->vermagic ? info->vermagic : "");
	if (!info->vermagic || strcmp(rel, u.release)) {
		snprintf(err, errlen, "vermagic mismatch: %s was built for '%s', the running kernel is '%s'",
			 info->path, info->vermagic ? rel : "(none)", u.release);
		return -EINVAL;
	}
	if (!klp_transition_state(info->name, &st)) {
		snprintf(err, errlen, "patch %s is already loaded -- revert it first "
			 "(patchgate revert --klp %s)", info->name, info->name);
		return -EINVAL;
	}
	if (klp_module_loaded(info->name)) {
		snprintf(err, errlen, "module %s is loaded, but no patch of that name is enabled "
			 "(disabled, or replaced by a cumulative patch) -- rmmod %s first",
			 info->name, info->name);
		return -EINVAL;
	}
	ks = ksyms__load(NULL);
	if (!ks) {
		e = -errno;
		snprintf(err, errlen, "cannot read /proc/kallsyms: %s", strerror(-e));
		return e;
	}
	for (int i = 0; i < info->nfuncs; i++) {
		const struct klp_func_info *f = &info->funcs[i];
		bool vmlinux = !strcmp(f->object, "vmlinux");
		int cnt;

		if (!vmlinux && !klp_module_loaded(f->object)) {
			size_t l = strlen(note);

			snprintf(note + l, notelen - l, "%sobject %s is not loaded: %s is patched when it loads",
				 l ? "; " : "", f->object, f->name);
			continue;
		}
		cnt = ksyms__count(ks, f->name, f->object);
		if (cnt == 0) {
			snprintf(err, errlen, "no function %s in %s (kallsyms) -- is the patch built for this kernel?",
				 f->name, f->object);
			e = -EINVAL;
			goto cleanup;
		}
		if (f->sympos == 0 && cnt > 1) {
			snprintf(err, errlen, "%s is ambiguous in %s (%d functions by that name) and the patch "
				 "gives no sympos", f->name, f->object, cnt);
			e = -EINVAL;
			goto cleanup;
		}
		if (f->sympos > (unsigned long)cnt) {
			snprintf(err, errlen, "%s in %s: sympos %lu but only %d functions by that name",
				 f->name, f->object, f->sympos, cnt);
			e = -EINVAL;
			goto cleanup;
		}
	}
cleanup:
	ksyms__free(ks);
	return e;
}

int klp_load(const char *path, const char *params)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params ? params : "", 0))
		e = -errno;
	close(fd);
	return e;
}

int klp_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

int klp_disable(const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), KLP_SYSFS "/%s/enabled", name);
	return write_str(p, "0");
}

int klp_force(const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), KLP_SYSFS "/%s/force", name);
	return write_str(p, "1");
}

int klp_transition_state(const char *name, struct klp_state *st)
{
	char b[16];
	int e;

	if ((e = patch_attr(name, "enabled", b, sizeof(b))))
		return e;
	st->enabled = b[0] == '1';
	if ((e = patch_attr(name, "transition", b, sizeof(b))))
		return e;
	st->transition = b[0] == '1';
	return 0;
}

static int add_func(struct klp_func_info **funcs, int *n, const char *obj, const char *name,
		    unsigned long sympos)
{
	struct klp_func_info *p = realloc(*funcs, (*n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	*funcs = p;
	p += *n;
	p->object = strdup(obj);
	p->name = strdup(name);
	p->sympos = sympos;
	if (!p->object || !p->name) {
		free(p->object);
		free(p->name);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

int klp_sysfs_funcs(const char *name, struct klp_func_info **funcs, int *n)
{
	DIR *pd = NULL, *od = NULL;
	struct dirent *oe, *fe;
	char p[1024];
	int e = 0;

	*funcs = NULL;
	*n = 0;
	snprintf(p, sizeof(p), KLP_SYSFS "/%s", name);
	if (!(pd = opendir(p)))
		return -errno;
	while ((oe = readdir(pd))) {
		struct stat st;

		if (oe->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), KLP_SYSFS "/%s/%s", name, oe->d_name);
		if (stat(p, &st) || !S_ISDIR(st.st_mode))
			continue;
		if (!(od = opendir(p))) {
			e = -errno;
			goto cleanup;
		}
		while ((fe = readdir(od))) {
			char *comma = strrchr(fe->d_name, ',');
			char fname[256];

			if (fe->d_name[0] == '.' || !comma)
				continue;
			snprintf(fname, sizeof(fname), "%.*s", (int)(comma - fe->d_name), fe->d_name);
			if ((e = add_func(funcs, n, oe->d_name, fname, strtoul(comma + 1, NULL, 10))))
				goto cleanup;
		}
		closedir(od);
		od = NULL;
	}
cleanup:
	if (od)
		closedir(od);
	closedir(pd);
	if (e) {
		klp_funcs__free(*funcs, *n);
		*funcs = NULL;
		*n = 0;
	}
	return e;
}

/* sysfs names a function "<name>,<sympos>" with sympos 0 (unique) shown as 1 */
bool klp_funcs_has(const struct klp_func_info *l, int n, const struct klp_func_info *f)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(l[i].object, f->object) && !strcmp(l[i].name, f->name) &&
		    (l[i].sympos ? l[i].sympos : 1) == (f->sympos ? f->sympos : 1))
			return true;
	return false;
}

int klp_funcs_compare(const struct klp_func_info *a, int na, const struct klp_func_info *b,
		      int nb, char *err, size_t errlen)
{
	for (int i = 0; i < na; i++)
		if (!klp_funcs_has(b, nb, &a[i])) {
			snprintf(err, errlen, "%s:%s,%lu is in the module file but not in sysfs",
				 a[i].object, a[i].name, a[i].sympos);
			return -EMSGSIZE;
		}
	for (int i = 0; i < nb; i++)
		if (!klp_funcs_has(a, na, &b[i])) {
			snprintf(err, errlen, "%s:%s,%lu is in sysfs but not in the module file",
				 b[i].object, b[i].name, b[i].sympos);
			return -EMSGSIZE;
		}
	return 0;
}

/* The first frame of /proc/@tid/stack that is one of @funcs, into @where. */
static bool stack_frame_in(int tid, const struct klp_func_info *funcs, int nfuncs, char *where,
			   size_t len)
{
	char p[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/stack", tid);
	if (!(f = fopen(p, "re")))
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *s = strchr(line, ']'), *e;

		if (!s)
			continue;
		s++;
		while (*s == ' ')
			s++;
		e = s + strcspn(s, "+ \n");
		for (int i = 0; i < nfuncs; i++)
			if (strlen(funcs[i].name) == (size_t)(e - s) &&
			    !strncmp(funcs[i].name, s, e - s)) {
				snprintf(where, len, "%s", funcs[i].name);
				found = true;
				break;
			}
	}
	fclose(f);
	return found;
}

int klp_stragglers(int target, const struct klp_func_info *funcs, int nfuncs,
		   struct pg_inside *out, int max)
{
	DIR *pd, *td;
	struct dirent *pe, *te;
	int n = 0;

	if (!(pd = opendir("/proc")))
		return -errno;
	while ((pe = readdir(pd))) {
		char p[128], b[256];
		int pid;

		if (!isdigit((unsigned char)pe->d_name[0]))
			continue;
		pid = atoi(pe->d_name);
		snprintf(p, sizeof(p), "/proc/%d/task", pid);
		if (!(td = opendir(p)))
			continue;
		while ((te = readdir(td))) {
			struct pg_inside *s;
			int tid, ps;
			char *c;

			if (!isdigit((unsigned char)te->d_name[0]))
				continue;
			tid = atoi(te->d_name);
			snprintf(p, sizeof(p), "/proc/%d/task/%d/patch_state", pid, tid);
			if (read_str(p, b, sizeof(b)))
				continue;
			ps = atoi(b);
			if (ps == -1 || ps == target)
				continue;
			if (n++ >= max)
				continue;
			s = &out[n - 1];
			memset(s, 0, sizeof(*s));
			s->pid = pid;
			s->tid = tid;
			snprintf(p, sizeof(p), "/proc/%d/task/%d/comm", pid, tid);
			if (!read_str(p, b, sizeof(b)))
				snprintf(s->comm, sizeof(s->comm), "%.*s", PG_INSIDE_COMM_LEN - 1, b);
			snprintf(p, sizeof(p), "/proc/%d/task/%d/stat", pid, tid);
			s->state[0] = '?';
			if (!read_str(p, b, sizeof(b)) && (c = strrchr(b, ')')) && c[1] == ' ')
				s->state[0] = c[2];
			if (stack_frame_in(tid, funcs, nfuncs, s->func, sizeof(s->func)))
				continue;
			snprintf(p, sizeof(p), "/proc/%d/task/%d/wchan", pid, tid);
			if (s->state[0] == 'R' || read_str(p, b, sizeof(b)) || !b[0] || !strcmp(b, "0"))
				snprintf(s->func, sizeof(s->func), "running");
			else
				snprintf(s->func, sizeof(s->func), "%.*s", PG_INSIDE_FUNC_LEN - 1, b);
		}
		closedir(td);
	}
	closedir(pd);
	return n;
}

int klp_list(char ***names)
{
	struct dirent *de;
	char **v = NULL;
	int n = 0, e = 0;
	DIR *d;

	*names = NULL;
	if (!(d = opendir(KLP_SYSFS)))
		return -errno;
	while ((de = readdir(d))) {
		char **p;

		if (de->d_name[0] == '.')
			continue;
		if (!(p = realloc(v, (n + 1) * sizeof(*p))) || !(p[n] = strdup(de->d_name))) {
			if (p)
				v = p;
			e = -ENOMEM;
			break;
		}
		v = p;
		n++;
	}
	closedir(d);
	if (e) {
		klp_list__free(v, n);
		return e;
	}
	*names = v;
	return n;
}

void klp_list__free(char **names, int n)
{
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}
