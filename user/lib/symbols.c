// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Symbol resolution in a live process with libelf.  Each file mapping of
 * /proc/PID/maps becomes an object; its ELF is opened through
 * /proc/PID/map_files/START-END, which is the very file the process
 * maps, whatever its root, mount namespace, or what now sits at its path
 * (the paths in maps are relative to the reader's root: for a chrooted
 * process /proc/PID/root/PATH names nothing, or something else).
 * /proc/PID/root/PATH is the fallback where map_files cannot be opened.
 * Symbol tables are read lazily, once per object.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/procmaps.h"
#include "lib/symbols.h"

struct sym_ent {
	char *name;
	uint64_t value;
	uint64_t size;
	int global;
};

struct sym_obj {
	char *path;		/* as mapped */
	char open_path[4200];	/* where to open it from here */
	uint64_t map_start;	/* lowest mapping start */
	uint64_t map_end;	/* its end */
	uint64_t map_off;	/* its file offset */
	bool loaded;		/* ELF read (or failed) */
	bool elf_ok;
	uint64_t bias;
	char soname[128];
	struct sym_ent *syms;
	size_t nsyms;
	GElf_Phdr *loads;	/* PT_LOAD headers */
	size_t nloads;
};

struct sym_proc {
	int pid;
	struct sym_obj *objs;	/* main executable first */
	int nobjs;
};

static void obj_release(struct sym_obj *o)
{
	for (size_t i = 0; i < o->nsyms; i++)
		free(o->syms[i].name);
	free(o->syms);
	free(o->loads);
	free(o->path);
}

void sym_proc__free(struct sym_proc *sp)
{
	if (!sp)
		return;
	for (int i = 0; i < sp->nobjs; i++)
		obj_release(&sp->objs[i]);
	free(sp->objs);
	free(sp);
}

int sym_proc__pid(const struct sym_proc *sp)
{
	return sp->pid;
}

int sym_proc__nobjs(const struct sym_proc *sp)
{
	return sp->nobjs;
}

const char *sym_proc__obj_path(const struct sym_proc *sp, int i)
{
	return i >= 0 && i < sp->nobjs ? sp->objs[i].path : NULL;
}

const char *sym_proc__obj_open_path(const struct sym_proc *sp, int i)
{
	return i >= 0 && i < sp->nobjs ? sp->objs[i].open_path : NULL;
}

static int obj_load(struct sym_obj *o);

uint64_t sym_proc__obj_bias(const struct sym_proc *sp, int i)
{
	struct sym_obj *o;

	if (i < 0 || i >= sp->nobjs)
		return 0;
	o = &sp->objs[i];
	obj_load(o);
	return o->bias;
}

static struct sym_obj *find_obj_path(struct sym_proc *sp, const char *path)
{
	for (int i = 0; i < sp->nobjs; i++)
		if (!strcmp(sp->objs[i].path, path))
			return &sp->objs[i];
	return NULL;
}

/* Add mapping @m to its object (one per path; the lowest file offset wins). */
static int add_mapping(struct sym_proc *sp, const struct procmap *m)
{
	struct sym_obj *o, *tmp;

	o = find_obj_path(sp, m->path);
	if (o) {
		if (m->off < o->map_off) {
			o->map_off = m->off;
			o->map_start = m->start;
			o->map_end = m->end;
		}
		return 0;
	}
	tmp = realloc(sp->objs, (sp->nobjs + 1) * sizeof(*sp->objs));
	if (!tmp)
		return -ENOMEM;
	sp->objs = tmp;
	o = &sp->objs[sp->nobjs];
	memset(o, 0, sizeof(*o));
	o->path = strdup(m->path);
	if (!o->path)
		return -ENOMEM;
	o->map_start = m->start;
	o->map_end = m->end;
	o->map_off = m->off;
	sp->nobjs++;
	return 0;
}

/* o->open_path: map_files when it opens (needs CAP_SYS_ADMIN), else /proc/PID/root/PATH. */
static void set_open_path(int pid, struct sym_obj *o)
{
	int fd;

	snprintf(o->open_path, sizeof(o->open_path), "/proc/%d/map_files/%llx-%llx", pid,
		 (unsigned long long)o->map_start, (unsigned long long)o->map_end);
	fd = open(o->open_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return;
	}
	snprintf(o->open_path, sizeof(o->open_path), "/proc/%d/root%s", pid, o->path);
}

struct sym_proc *sym_proc__new(int pid)
{
	char fn[64], exe[PATH_MAX];
	struct procmaps *pm = NULL;
	struct sym_proc *sp = NULL;
	int err = 0, view = procmaps__view_pid(pid);	/* a live thread's when the main one exited */
	ssize_t n;

	snprintf(fn, sizeof(fn), "/proc/%d/exe", view);
	n = readlink(fn, exe, sizeof(exe) - 1);
	if (n < 0) {
		err = errno;
		goto cleanup;
	}
	exe[n] = '\0';
	/* "/usr/bin/foo (deleted)" when the binary was replaced on disk */
	if (n > 10 && !strcmp(exe + n - 10, " (deleted)"))
		exe[n - 10] = '\0';

	err = -procmaps__read(pid, &pm);
	if (err) {
		err = err == ESRCH ? ENOENT : err;
		goto cleanup;
	}
	sp = calloc(1, sizeof(*sp));
	if (!sp) {
		err = ENOMEM;
		goto cleanup;
	}
	sp->pid = pid;
	/* file mappings only; a deleted file is named by its old path */
	for (int i = 0; i < pm->n && !err; i++)
		if (pm->m[i].path[0] == '/')
			err = -add_mapping(sp, &pm->m[i]);
	if (err)
		goto cleanup;
	for (int i = 0; i < sp->nobjs; i++)
		set_open_path(view, &sp->objs[i]);
	/* main executable first */
	for (int i = 0; i < sp->nobjs; i++) {
		if (!strcmp(sp->objs[i].path, exe)) {
			struct sym_obj t = sp->objs[i];

			memmove(&sp->objs[1], &sp->objs[0], i * sizeof(t));
			sp->objs[0] = t;
			break;
		}
	}
	if (!sp->nobjs)
		err = ESRCH;
cleanup:
	procmaps__free(pm);
	if (err) {
		sym_proc__free(sp);
		errno = err;
		return NULL;
	}
	return sp;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct sym_ent *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->value < y->value ? -1 : x->value > y->value;
}

/* Read one symbol table section into o->syms (functions with a value only). */
static int read_symtab(Elf *elf, Elf_Scn *scn, GElf_Shdr *sh, struct sym_obj *o)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n;

	if (!data || !sh->sh_entsize)
		return -EINVAL;
	n = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < n; i++) {
		struct sym_ent *tmp;
		const char *name;
		GElf_Sym s;

		if (!gelf_getsym(data, (int)i, &s))
			continue;
		if (GELF_ST_TYPE(s.st_info) != STT_FUNC && GELF_ST_TYPE(s.st_info) != STT_GNU_IFUNC)
			continue;
		if (s.st_shndx == SHN_UNDEF || !s.st_value)
			continue;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		tmp = realloc(o->syms, (o->nsyms + 1) * sizeof(*o->syms));
		if (!tmp)
			return -ENOMEM;
		o->syms = tmp;
		o->syms[o->nsyms].name = strdup(name);
		if (!o->syms[o->nsyms].name)
			return -ENOMEM;
		o->syms[o->nsyms].value = s.st_value;
		o->syms[o->nsyms].size = s.st_size;
		o->syms[o->nsyms].global = GELF_ST_BIND(s.st_info) != STB_LOCAL;
		o->nsyms++;
	}
	return 0;
}

/* Read the object's PT_LOADs, soname and function symbols; compute its bias. */
static int obj_load(struct sym_obj *o)
{
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr symtab_sh, dynsym_sh, sh;
	size_t nph = 0;
	Elf *elf = NULL;
	int fd = -1, err = 0;
	const char *base;

	if (o->loaded)
		return o->elf_ok ? 0 : -ENOEXEC;
	o->loaded = true;
	base = strrchr(o->path, '/');
	snprintf(o->soname, sizeof(o->soname), "%s", base ? base + 1 : o->path);

	elf_version(EV_CURRENT);
	fd = open(o->open_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto cleanup;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		err = -ENOEXEC;
		goto cleanup;
	}
	if (elf_getphdrnum(elf, &nph)) {
		err = -ENOEXEC;
		goto cleanup;
	}
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;
		GElf_Phdr *tmp;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		tmp = realloc(o->loads, (o->nloads + 1) * sizeof(*tmp));
		if (!tmp) {
			err = -ENOMEM;
			goto cleanup;
		}
		o->loads = tmp;
		o->loads[o->nloads++] = ph;
	}
	/* bias from the lowest mapping: the PT_LOAD whose page holds map_off */
	for (size_t i = 0; i < o->nloads; i++) {
		GElf_Phdr *ph = &o->loads[i];
		uint64_t pg_off = ph->p_offset & ~0xfffULL;

		if (o->map_off >= pg_off && o->map_off < ph->p_offset + ph->p_filesz + 0x1000) {
			o->bias = o->map_start - ((ph->p_vaddr & ~0xfffULL) + (o->map_off - pg_off));
			break;
		}
	}
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			symtab = scn;
			symtab_sh = sh;
		} else if (sh.sh_type == SHT_DYNSYM) {
			dynsym = scn;
			dynsym_sh = sh;
		} else if (sh.sh_type == SHT_DYNAMIC) {
			Elf_Data *d = elf_getdata(scn, NULL);

			for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Dyn dyn;
				const char *s;

				if (gelf_getdyn(d, (int)i, &dyn) && dyn.d_tag == DT_SONAME &&
				    (s = elf_strptr(elf, sh.sh_link, dyn.d_un.d_val)))
					snprintf(o->soname, sizeof(o->soname), "%s", s);
			}
		}
	}
	if (symtab)
		err = read_symtab(elf, symtab, &symtab_sh, o);
	if (!err && dynsym)
		err = read_symtab(elf, dynsym, &dynsym_sh, o);
	if (err)
		goto cleanup;
	qsort(o->syms, o->nsyms, sizeof(*o->syms), sym_cmp);
	o->elf_ok = true;
cleanup:
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	return err;
}

static bool obj_matches(const struct sym_obj *o, const char *want)
{
	const char *base = strrchr(o->path, '/');
	size_t n = strlen(want);

	base = base ? base + 1 : o->path;
	if (!strcmp(o->path, want) || !strcmp(base, want) || !strcmp(o->soname, want))
		return true;
	/* "libz.so.1" names "libz.so.1.2.13"; "libc" names "libc.so.6" */
	return !strncmp(base, want, n) && (base[n] == '.' || base[n] == '-');
}

/* All definitions of @name in @o: index of the first, count (distinct values). */
static size_t obj_find(const struct sym_obj *o, const char *name, size_t *count)
{
	size_t lo = 0, hi = o->nsyms, first;
	uint64_t last = 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(o->syms[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	*count = 0;
	for (size_t i = first; i < o->nsyms && !strcmp(o->syms[i].name, name); i++) {
		if (*count && o->syms[i].value == last)
			continue;
		last = o->syms[i].value;
		(*count)++;
	}
	return first;
}

/* Fill @out from symbol @s of object @o: offsets, address and entry shape. */
static int fill_func(struct sym_proc *sp, struct sym_obj *o, const struct sym_ent *s,
		     struct sym_func *out)
{
	unsigned char b[9];
	int fd;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", s->name);
	snprintf(out->object, sizeof(out->object), "%s", o->path);
	snprintf(out->soname, sizeof(out->soname), "%s", o->soname);
	snprintf(out->open_path, sizeof(out->open_path), "%s", o->open_path);
	out->st_value = s->value;
	out->size = s->size;
	out->bias = o->bias;
	out->addr = s->value + o->bias;
	out->is_main = o == &sp->objs[0];
	for (size_t i = 0; i < o->nloads; i++) {
		GElf_Phdr *ph = &o->loads[i];

		if (s->value >= ph->p_vaddr && s->value < ph->p_vaddr + ph->p_filesz) {
			out->file_off = s->value - ph->p_vaddr + ph->p_offset;
			break;
		}
	}
	if (!out->file_off)
		return -ENOEXEC;
	out->probe_off = out->file_off;
	fd = open(out->open_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, b, sizeof(b), (off_t)out->file_off) == (ssize_t)sizeof(b)) {
		static const unsigned char endbr[4] = { 0xf3, 0x0f, 0x1e, 0xfa };
		static const unsigned char nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
		int at = 0;

		if (!memcmp(b, endbr, 4)) {
			out->endbr = true;
			at = 4;
		}
		if (!memcmp(b + at, nop5, 5)) {
			out->nop5 = true;
			out->probe_off = out->file_off + at;
		}
	}
	close(fd);
	return 0;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t d = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			cur[j] = d;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

/* Append up to 5 near matches of @name in the searched objects to @err. */
static void near_matches(struct sym_proc *sp, const char *object, const char *name,
			 char *err, size_t errlen)
{
	const char *best[5] = {};
	size_t bestd[5] = { 99, 99, 99, 99, 99 };
	size_t len;

	for (int i = 0; i < sp->nobjs; i++) {
		struct sym_obj *o = &sp->objs[i];

		if (object && !obj_matches(o, object))
			continue;
		if (obj_load(o))
			continue;
		for (size_t k = 0; k < o->nsyms; k++) {
			const char *s = o->syms[k].name;
			size_t d = strstr(s, name) ? 1 : edit_distance(s, name);
			bool dup = false;

			if (d > 3)
				continue;
			for (int j = 0; j < 5; j++)
				if (best[j] && !strcmp(best[j], s))
					dup = true;
			if (dup)
				continue;
			for (int j = 0; j < 5; j++) {
				if (d < bestd[j]) {
					memmove(&best[j + 1], &best[j], (4 - j) * sizeof(best[0]));
					memmove(&bestd[j + 1], &bestd[j], (4 - j) * sizeof(bestd[0]));
					best[j] = s;
					bestd[j] = d;
					break;
				}
			}
		}
	}
	if (!best[0])
		return;
	len = strlen(err);
	snprintf(err + len, errlen - len, "; near matches:");
	for (int j = 0; j < 5 && best[j]; j++) {
		len = strlen(err);
		snprintf(err + len, errlen - len, "%s %s", j ? "," : "", best[j]);
	}
}

int sym_proc__resolve(struct sym_proc *sp, const char *spec, struct sym_func *out,
		      char *err, size_t errlen)
{
	char object[256] = "";
	const char *name = spec, *colon = strrchr(spec, ':');
	struct sym_obj *found_obj = NULL;
	size_t found_idx = 0;
	int nfound_objs = 0, matched_objs = 0;

	err[0] = '\0';
	if (colon) {
		if (colon == spec || !colon[1] || (size_t)(colon - spec) >= sizeof(object)) {
			snprintf(err, errlen, "bad function '%s': want SYMBOL or OBJECT:SYMBOL", spec);
			return -EINVAL;
		}
		memcpy(object, spec, colon - spec);
		object[colon - spec] = '\0';
		name = colon + 1;
	}
	for (int i = 0; i < sp->nobjs; i++) {
		struct sym_obj *o = &sp->objs[i];
		size_t idx, cnt;

		if (object[0] && !obj_matches(o, object))
			continue;
		matched_objs++;
		if (obj_load(o))
			continue;
		idx = obj_find(o, name, &cnt);
		if (!cnt)
			continue;
		if (cnt > 1) {
			snprintf(err, errlen, "'%s' is ambiguous in %s: %zu definitions at different addresses",
				 name, o->path, cnt);
			return -ENOTUNIQ;
		}
		/* the main executable wins outright; elsewhere the first object, unless another has it too */
		if (!found_obj) {
			found_obj = o;
			found_idx = idx;
			nfound_objs = 1;
			if (i == 0 && !object[0])
				break;
		} else {
			nfound_objs++;
		}
	}
	if (object[0] && !matched_objs) {
		snprintf(err, errlen, "no object matching '%s' is mapped in pid %d", object, sp->pid);
		return -ENOENT;
	}
	if (!found_obj) {
		snprintf(err, errlen, "function '%s' not found in %s of pid %d", name,
			 object[0] ? object : "any mapped object", sp->pid);
		near_matches(sp, object[0] ? object : NULL, name, err, errlen);
		return -ENOENT;
	}
	if (nfound_objs > 1 && !object[0]) {
		snprintf(err, errlen, "'%s' is defined in %d mapped objects; name one as OBJECT:%s",
			 name, nfound_objs, name);
		return -ENOTUNIQ;
	}
	if (fill_func(sp, found_obj, &found_obj->syms[found_idx], out)) {
		snprintf(err, errlen, "cannot locate '%s' in %s", name, found_obj->path);
		return -ENOEXEC;
	}
	return 0;
}

int sym_proc__lookup(struct sym_proc *sp, const char *object, const char *name,
		     struct sym_func *out)
{
	for (int i = 0; i < sp->nobjs; i++) {
		struct sym_obj *o = &sp->objs[i];
		size_t idx, cnt, best;

		if (object && !obj_matches(o, object))
			continue;
		if (obj_load(o))
			continue;
		idx = obj_find(o, name, &cnt);
		if (!cnt)
			continue;
		best = idx;
		for (size_t k = idx; k < o->nsyms && !strcmp(o->syms[k].name, name); k++)
			if (o->syms[k].global) {
				best = k;
				break;
			}
		return fill_func(sp, o, &o->syms[best], out);
	}
	return -ENOENT;
}

int sym_elf_build_id(const char *path, char *hex, size_t hexlen)
{
	Elf_Scn *scn = NULL;
	Elf *elf = NULL;
	int fd, ret = -ENOENT;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		ret = -ENOEXEC;
		goto cleanup;
	}
	while ((scn = elf_nextscn(elf, scn)) && ret == -ENOENT) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			const unsigned char *desc = (const unsigned char *)d->d_buf + desc_off;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)d->d_buf + name_off, "GNU", 4))
				continue;
			if (hexlen < nh.n_descsz * 2 + 1) {
				ret = -ENOSPC;
				break;
			}
			for (size_t i = 0; i < nh.n_descsz; i++)
				sprintf(hex + 2 * i, "%02x", desc[i]);
			ret = (int)nh.n_descsz;
			break;
		}
	}
cleanup:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}
