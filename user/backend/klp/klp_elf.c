// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * klp_inspect(): what a livepatch module file patches, read with libelf.
 *
 * A module built against <linux/livepatch.h> holds static arrays:
 *
 *   struct klp_patch  { struct module *mod; struct klp_object *objs; ... };
 *   struct klp_object { const char *name; struct klp_func *funcs; ... };   (NULL-terminated)
 *   struct klp_func   { const char *old_name; void *new_func; unsigned long old_sympos; ... };
 *
 * In a relocatable .ko every pointer in them is zero in the section data
 * and given by a relocation: "objs" by one against .data (+ addend), a
 * name by one against .rodata.str* (+ addend).  So we find the klp_patch
 * by its relocation against __this_module, then walk the arrays by the
 * running kernel's struct sizes (BTF), resolving each pointer field
 * through the relocation at its offset.  A NULL pointer has no relocation.
 *
 * A patch may replace no function at all: an object that only carries
 * callbacks, or a patch that only declares a klp_state, has a function
 * list of one all-zero klp_func, which the compiler puts in .bss (no file
 * bytes, no relocation).  Such a patch is as valid as any; since "walks
 * cleanly to zero functions" is weak evidence, a candidate that yields
 * none must also start at a symbol of exactly sizeof(struct klp_patch).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include "backend/klp/klp.h"

/* Byte offsets and sizes of the klp structs, from BTF. */
struct klp_layout {
	size_t patch_size, patch_mod, patch_objs, patch_replace;
	size_t obj_size, obj_name, obj_funcs;
	size_t func_size, func_old_name, func_sympos;
};

/* One relocation of an allocated section, resolved to (section, offset). */
struct klp_rel {
	size_t sec;		/* section the pointer lives in */
	uint64_t off;		/* offset of the pointer in it */
	size_t tsec;		/* section it points into, 0 if undefined */
	uint64_t toff;		/* offset it points to */
	const char *sym;	/* symbol name ("" for section symbols) */
};

struct klp_elf {
	Elf *elf;
	size_t shstrndx;
	struct klp_rel *rels;	/* sorted by (sec, off) */
	size_t nrels;
};

static int member_off(const struct btf *btf, const struct btf_type *t, const char *name, size_t *off)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++, m++) {
		if (!strcmp(btf__name_by_offset(btf, m->name_off), name)) {
			*off = btf_member_bit_offset(t, i) / 8;
			return 0;
		}
	}
	return -ENOENT;
}

/* The klp struct layout of the running kernel (its module ABI). */
static int klp_layout_btf(struct klp_layout *l, char *err, size_t errlen)
{
	const struct btf_type *tp, *to, *tf;
	struct btf *btf;
	int id, e = 0;

	btf = btf__load_vmlinux_btf();
	if (!btf) {
		e = -errno;
		snprintf(err, errlen, "cannot read the kernel's BTF (%s) -- is CONFIG_DEBUG_INFO_BTF on?",
			 strerror(-e));
		return e;
	}
	if ((id = btf__find_by_name_kind(btf, "klp_patch", BTF_KIND_STRUCT)) < 0 ||
	    !(tp = btf__type_by_id(btf, id)) ||
	    (id = btf__find_by_name_kind(btf, "klp_object", BTF_KIND_STRUCT)) < 0 ||
	    !(to = btf__type_by_id(btf, id)) ||
	    (id = btf__find_by_name_kind(btf, "klp_func", BTF_KIND_STRUCT)) < 0 ||
	    !(tf = btf__type_by_id(btf, id))) {
		snprintf(err, errlen, "the kernel's BTF has no klp_patch/klp_object/klp_func -- "
			 "is CONFIG_LIVEPATCH on?");
		e = -ENOTSUP;
		goto cleanup;
	}
	l->patch_size = tp->size;
	l->obj_size = to->size;
	l->func_size = tf->size;
	if (member_off(btf, tp, "mod", &l->patch_mod) || member_off(btf, tp, "objs", &l->patch_objs) ||
	    member_off(btf, tp, "replace", &l->patch_replace) ||
	    member_off(btf, to, "name", &l->obj_name) || member_off(btf, to, "funcs", &l->obj_funcs) ||
	    member_off(btf, tf, "old_name", &l->func_old_name) ||
	    member_off(btf, tf, "old_sympos", &l->func_sympos)) {
		snprintf(err, errlen, "unexpected klp struct layout in the kernel's BTF");
		e = -ENOTSUP;
	}
cleanup:
	btf__free(btf);
	return e;
}

static int rel_cmp(const void *a, const void *b)
{
	const struct klp_rel *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Collect the RELA relocations of every allocated section (SHT_REL is not used on x86-64). */
static int klp_elf_rels(struct klp_elf *ke)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0;

	while ((scn = elf_nextscn(ke->elf, scn))) {
		GElf_Shdr sh, tsh, symsh;
		Elf_Scn *tscn, *symscn;
		Elf_Data *data, *symdata;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA)
			continue;
		tscn = elf_getscn(ke->elf, sh.sh_info);
		if (!tscn || !gelf_getshdr(tscn, &tsh) || !(tsh.sh_flags & SHF_ALLOC))
			continue;
		symscn = elf_getscn(ke->elf, sh.sh_link);
		if (!symscn || !gelf_getshdr(symscn, &symsh))
			return -ENOEXEC;
		data = elf_getdata(scn, NULL);
		symdata = elf_getdata(symscn, NULL);
		if (!data || !symdata || !sh.sh_entsize)
			return -ENOEXEC;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			struct klp_rel *r;
			GElf_Rela rela;
			GElf_Sym sym;

			if (!gelf_getrela(data, i, &rela) ||
			    !gelf_getsym(symdata, GELF_R_SYM(rela.r_info), &sym))
				return -ENOEXEC;
			if (ke->nrels == cap) {
				size_t ncap = cap ? cap * 2 : 1024;
				struct klp_rel *p = realloc(ke->rels, ncap * sizeof(*p));

				if (!p)
					return -ENOMEM;
				ke->rels = p;
				cap = ncap;
			}
			r = &ke->rels[ke->nrels++];
			r->sec = elf_ndxscn(tscn);
			r->off = rela.r_offset;
			r->tsec = sym.st_shndx < SHN_LORESERVE ? sym.st_shndx : 0;
			r->toff = sym.st_value + rela.r_addend;
			r->sym = elf_strptr(ke->elf, symsh.sh_link, sym.st_name);
			if (!r->sym)
				r->sym = "";
		}
	}
	qsort(ke->rels, ke->nrels, sizeof(*ke->rels), rel_cmp);
	return 0;
}

/* The relocation that fills the pointer at (@sec, @off); NULL for a NULL pointer. */
static const struct klp_rel *klp_elf_ptr(const struct klp_elf *ke, size_t sec, uint64_t off)
{
	struct klp_rel key = { .sec = sec, .off = off };

	return bsearch(&key, ke->rels, ke->nrels, sizeof(key), rel_cmp);
}

/* @len bytes at (@sec, @off) of the file image; NULL when out of range. */
static const void *klp_elf_bytes(const struct klp_elf *ke, size_t sec, uint64_t off, size_t len)
{
	Elf_Scn *scn = elf_getscn(ke->elf, sec);
	Elf_Data *d;
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh) || off + len > sh.sh_size)
		return NULL;
	if (sh.sh_type == SHT_NOBITS)
		return NULL;
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || off + len > d->d_size)
		return NULL;
	return (const char *)d->d_buf + off;
}

/* The NUL-terminated string a pointer relocation points to, NULL if not one. */
static const char *klp_elf_str(const struct klp_elf *ke, const struct klp_rel *r)
{
	Elf_Scn *scn;
	GElf_Shdr sh;
	const char *p;

	if (!r || !r->tsec || !(scn = elf_getscn(ke->elf, r->tsec)) || !gelf_getshdr(scn, &sh))
		return NULL;
	if (!(p = klp_elf_bytes(ke, r->tsec, r->toff, 1)))
		return NULL;
	if (!memchr(p, '\0', sh.sh_size - r->toff))
		return NULL;
	return p;
}

/* Allocated data: .data and the like, or .bss (all-zero records: no pointer set). */
static bool klp_elf_is_data(const struct klp_elf *ke, size_t sec)
{
	Elf_Scn *scn = elf_getscn(ke->elf, sec);
	GElf_Shdr sh;

	return scn && gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_ALLOC) &&
	       !(sh.sh_flags & SHF_EXECINSTR) &&
	       (sh.sh_type == SHT_PROGBITS || sh.sh_type == SHT_NOBITS);
}

/* True when an object symbol of @size bytes starts at (@sec, @off). */
static bool klp_elf_object_at(const struct klp_elf *ke, size_t sec, uint64_t off, size_t size)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(ke->elf, scn))) {
		Elf_Data *d;
		GElf_Sym sym;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++)
			if (gelf_getsym(d, i, &sym) && sym.st_shndx == sec && sym.st_value == off &&
			    sym.st_size == size && GELF_ST_TYPE(sym.st_info) == STT_OBJECT)
				return true;
	}
	return false;
}

static Elf_Scn *klp_elf_section(const struct klp_elf *ke, const char *name)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(ke->elf, scn))) {
		const char *n;

		if (gelf_getshdr(scn, &sh) && (n = elf_strptr(ke->elf, ke->shstrndx, sh.sh_name)) &&
		    !strcmp(n, name))
			return scn;
	}
	return NULL;
}

/* Read "livepatch", "vermagic" and "name" from .modinfo. */
static int klp_modinfo(const struct klp_elf *ke, struct klp_info *info)
{
	Elf_Scn *scn = klp_elf_section(ke, ".modinfo");
	Elf_Data *d;

	if (!scn || !(d = elf_getdata(scn, NULL)) || !d->d_buf)
		return -ENOEXEC;
	for (size_t o = 0; o < d->d_size;) {
		const char *s = (const char *)d->d_buf + o;
		size_t n = strnlen(s, d->d_size - o);

		if (!strncmp(s, "livepatch=", 10))
			info->livepatch = !strcmp(s + 10, "Y");
		else if (!strncmp(s, "vermagic=", 9) && !info->vermagic)
			info->vermagic = strndup(s + 9, n - 9);
		else if (!strncmp(s, "srcversion=", 11) && !info->srcversion)
			info->srcversion = strndup(s + 11, n - 11);
		else if (!strncmp(s, "name=", 5) && !info->name)
			info->name = strndup(s + 5, n - 5);
		o += n + 1;
	}
	return 0;
}

static int klp_add_func(struct klp_info *info, const char *obj, const char *name, unsigned long sympos)
{
	struct klp_func_info *p = realloc(info->funcs, (info->nfuncs + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	info->funcs = p;
	p = &info->funcs[info->nfuncs];
	p->object = strdup(obj);
	p->name = strdup(name);
	p->sympos = sympos;
	if (!p->object || !p->name) {
		free(p->object);
		free(p->name);
		return -ENOMEM;
	}
	info->nfuncs++;
	return 0;
}

/*
 * Walk the klp_object array at (@sec, @off) and its klp_func arrays into
 * @info.  Returns 0 (@info->nfuncs may be 0: objects with callbacks only),
 * or a negative errno when the records do not have the expected shape.
 */
static int klp_walk(const struct klp_elf *ke, const struct klp_layout *l, size_t sec, uint64_t off,
		    struct klp_info *info)
{
	const int max_objs = 1024, max_funcs = 65536;
	int err = 0;

	for (int i = 0; i < max_objs; i++, off += l->obj_size) {
		const struct klp_rel *rn = klp_elf_ptr(ke, sec, off + l->obj_name);
		const struct klp_rel *rf = klp_elf_ptr(ke, sec, off + l->obj_funcs);
		const char *obj = "vmlinux";
		uint64_t foff;

		if (!rf)	/* the terminating empty klp_object */
			return 0;
		if (rn && !(obj = klp_elf_str(ke, rn)))
			return -ENOEXEC;
		if (!klp_elf_is_data(ke, rf->tsec))
			return -ENOEXEC;
		foff = rf->toff;
		for (int j = 0; j < max_funcs; j++, foff += l->func_size) {
			const struct klp_rel *ro = klp_elf_ptr(ke, rf->tsec, foff + l->func_old_name);
			const unsigned long *sympos;
			const char *name;

			if (!ro)	/* the terminating empty klp_func */
				break;
			name = klp_elf_str(ke, ro);
			sympos = klp_elf_bytes(ke, rf->tsec, foff + l->func_sympos, sizeof(*sympos));
			if (!name || !sympos)
				return -ENOEXEC;
			err = klp_add_func(info, obj, name, *sympos);
			if (err)
				return err;
		}
	}
	return -ENOEXEC;
}

void klp_funcs__free(struct klp_func_info *funcs, int n)
{
	for (int i = 0; funcs && i < n; i++) {
		free(funcs[i].object);
		free(funcs[i].name);
	}
	free(funcs);
}

void klp_info__free(struct klp_info *info)
{
	if (!info)
		return;
	klp_funcs__free(info->funcs, info->nfuncs);
	free(info->path);
	free(info->name);
	free(info->vermagic);
	free(info->srcversion);
	free(info);
}

int klp_inspect(const char *path, struct klp_info **out, char *err, size_t errlen)
{
	struct klp_elf ke = {};
	struct klp_layout l;
	struct klp_info *info = NULL;
	const struct klp_rel *empty = NULL;	/* a klp_patch that walks to no function */
	GElf_Ehdr eh;
	int fd = -1, e = 0, found = 0;

	*out = NULL;
	err[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-e));
		goto cleanup;
	}
	elf_version(EV_CURRENT);
	ke.elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!ke.elf || elf_kind(ke.elf) != ELF_K_ELF || !gelf_getehdr(ke.elf, &eh) ||
	    eh.e_type != ET_REL || elf_getshdrstrndx(ke.elf, &ke.shstrndx)) {
		e = -ENOEXEC;
		snprintf(err, errlen, "%s is not a kernel module (not a relocatable ELF file)", path);
		goto cleanup;
	}
	info = calloc(1, sizeof(*info));
	if (!info || !(info->path = strdup(path))) {
		e = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	if (klp_modinfo(&ke, info) || !klp_elf_section(&ke, ".gnu.linkonce.this_module")) {
		e = -ENOEXEC;
		snprintf(err, errlen, "%s is not a kernel module (no .modinfo or this_module)", path);
		goto cleanup;
	}
	if (!info->name) {	/* older modpost: the file name, as kmod derives it */
		const char *b = strrchr(path, '/');
		char *dot;

		info->name = strdup(b ? b + 1 : path);
		if (!info->name) {
			e = -ENOMEM;
			goto cleanup;
		}
		if ((dot = strstr(info->name, ".ko")))
			*dot = '\0';
	}
	for (char *c = info->name; *c; c++)
		if (*c == '-')
			*c = '_';
	if (!info->livepatch) {
		e = -ENOEXEC;
		snprintf(err, errlen, "%s is not a livepatch module (no livepatch=Y in .modinfo)", path);
		goto cleanup;
	}
	if ((e = klp_layout_btf(&l, err, errlen)))
		goto cleanup;
	if ((e = klp_elf_rels(&ke))) {
		snprintf(err, errlen, "cannot read the relocations of %s: %s", path, strerror(-e));
		goto cleanup;
	}
	/*
	 * Every pointer to __this_module outside this_module itself may be a
	 * klp_patch.mod.  The first candidate that walks to functions wins;
	 * else the first that walks cleanly to none and is a klp_patch symbol.
	 */
	for (size_t i = 0; i < ke.nrels; i++) {
		const struct klp_rel *r = &ke.rels[i], *ro;
		uint64_t base;

		if (strcmp(r->sym, "__this_module") || r->off < l.patch_mod)
			continue;
		base = r->off - l.patch_mod;
		ro = klp_elf_ptr(&ke, r->sec, base + l.patch_objs);
		if (!ro || !klp_elf_is_data(&ke, ro->tsec))
			continue;
		e = klp_walk(&ke, &l, ro->tsec, ro->toff, info);
		if (!e && (info->nfuncs || (!empty && klp_elf_object_at(&ke, r->sec, base, l.patch_size)))) {
			const unsigned char *replace = klp_elf_bytes(&ke, r->sec, base + l.patch_replace, 1);

			if (info->nfuncs) {
				info->replace = replace && *replace;
				found++;
				break;
			}
			empty = r;
		}
		klp_funcs__free(info->funcs, info->nfuncs);
		info->funcs = NULL;
		info->nfuncs = 0;
		if (e == -ENOMEM)
			goto cleanup;
	}
	if (!found && empty) {
		const unsigned char *replace = klp_elf_bytes(&ke, empty->sec,
							     empty->off - l.patch_mod + l.patch_replace, 1);

		info->replace = replace && *replace;
		found++;
	}
	e = 0;
	if (!found) {
		e = -ENOEXEC;
		snprintf(err, errlen, "no klp_patch records found in %s -- is it built with "
			 "<linux/livepatch.h> static klp_patch/klp_object/klp_func arrays?", path);
		goto cleanup;
	}
	*out = info;
	info = NULL;
cleanup:
	klp_info__free(info);
	free(ke.rels);
	if (ke.elf)
		elf_end(ke.elf);
	if (fd >= 0)
		close(fd);
	return e;
}
