// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/callgraph.h"

struct cg_fn {
	uint64_t addr, size;
	const char *name;	/* in the ELF's string table */
	unsigned int *callees, ncallees, cap;
	unsigned char mark;	/* CG_* */
	unsigned int shared;
	int parent;		/* a shared caller, or -1 */
};

enum { CG_TARGET = 1, CG_ANCESTOR = 2, CG_DESCENDANT = 4, CG_PARENT = 8 };

struct cg {
	struct cg_fn *f;
	unsigned int n;
};

static int fn_cmp(const void *a, const void *b)
{
	const struct cg_fn *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The function whose entry is @addr, or -1. */
static int fn_at(const struct cg *cg, uint64_t addr)
{
	unsigned int lo = 0, hi = cg->n;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (cg->f[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < cg->n && cg->f[lo].addr == addr ? (int)lo : -1;
}

static int edge_add(struct cg_fn *f, unsigned int to)
{
	for (unsigned int i = 0; i < f->ncallees; i++)
		if (f->callees[i] == to)
			return 0;
	if (f->ncallees == f->cap) {
		unsigned int cap = f->cap ? 2 * f->cap : 8;
		unsigned int *p = realloc(f->callees, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		f->callees = p;
		f->cap = cap;
	}
	f->callees[f->ncallees++] = to;
	return 0;
}

/* The FUNC symbols with a size, from .symtab (else .dynsym), sorted by address, unique by it. */
static int read_funcs(Elf *elf, struct cg *cg)
{
	Elf_Scn *scn = NULL, *sym = NULL;
	GElf_Shdr sh, symsh = { 0 };
	Elf_Data *data;
	size_t cap = 0;

	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || (sh.sh_type == SHT_DYNSYM && !sym)) {
			sym = scn;
			symsh = sh;
		}
	}
	if (!sym || !(data = elf_getdata(sym, NULL)) || !symsh.sh_entsize)
		return -ENOENT;
	for (size_t i = 0; i < symsh.sh_size / symsh.sh_entsize; i++) {
		GElf_Sym s;

		if (!gelf_getsym(data, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC || !s.st_size ||
		    s.st_shndx == SHN_UNDEF)
			continue;
		if (cg->n == cap) {
			size_t nc = cap ? 2 * cap : 256;
			struct cg_fn *p = realloc(cg->f, nc * sizeof(*p));

			if (!p)
				return -ENOMEM;
			cg->f = p;
			cap = nc;
		}
		cg->f[cg->n++] = (struct cg_fn){ .addr = s.st_value, .size = s.st_size, .parent = -1,
						 .name = elf_strptr(elf, symsh.sh_link, s.st_name) };
	}
	qsort(cg->f, cg->n, sizeof(*cg->f), fn_cmp);
	/* aliases (one address, several names): keep the first */
	unsigned int k = 0;

	for (unsigned int i = 0; i < cg->n; i++)
		if (cg->f[i].name && (!k || cg->f[k - 1].addr != cg->f[i].addr))
			cg->f[k++] = cg->f[i];
	cg->n = k;
	return 0;
}

/* Each function's direct calls (e8 rel32 landing on a function's entry). */
static int read_calls(Elf *elf, struct cg *cg)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			continue;
		for (unsigned int i = 0; i < cg->n; i++) {
			struct cg_fn *f = &cg->f[i];
			const unsigned char *b;

			if (f->addr < sh.sh_addr || f->addr + f->size > sh.sh_addr + d->d_size)
				continue;
			b = (const unsigned char *)d->d_buf + (f->addr - sh.sh_addr);
			for (uint64_t o = 0; o + 5 <= f->size; o++) {
				int32_t rel;
				int to;

				if (b[o] != 0xe8)
					continue;
				memcpy(&rel, b + o + 1, sizeof(rel));
				to = fn_at(cg, f->addr + o + 5 + (int64_t)rel);
				if (to >= 0 && (unsigned int)to != i && edge_add(f, (unsigned int)to))
					return -ENOMEM;
			}
		}
	}
	return 0;
}

/* Mark every function reachable from those marked @from (callees, or with @up callers) with @mark. */
static void spread(struct cg *cg, unsigned char from, unsigned char mark, bool up)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (unsigned int i = 0; i < cg->n; i++) {
			struct cg_fn *f = &cg->f[i];

			for (unsigned int j = 0; j < f->ncallees; j++) {
				struct cg_fn *c = &cg->f[f->callees[j]];
				struct cg_fn *src = up ? c : f, *dst = up ? f : c;

				if ((src->mark & (from | mark)) && !(dst->mark & mark)) {
					dst->mark |= mark;
					changed = true;
				}
			}
		}
	}
}

static unsigned int n_callers_max(const struct cg *cg)
{
	unsigned int m = 0;

	for (unsigned int i = 0; i < cg->n; i++)
		if (cg->f[i].shared > m)
			m = cg->f[i].shared;
	return m;
}

int cg_siblings(const char *path, const uint64_t *targets, int n, struct cg_sibling *out, int max,
		char *err, size_t errlen)
{
	struct cg cg = { 0 };
	Elf *elf = NULL;
	int fd, e, found = 0, k = 0;

	elf_version(EV_CURRENT);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return e;
	}
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		snprintf(err, errlen, "%s is not an ELF file", path);
		e = -EINVAL;
		goto out;
	}
	e = read_funcs(elf, &cg);
	if (!e)
		e = read_calls(elf, &cg);
	if (e) {
		snprintf(err, errlen, "%s: %s", path, e == -ENOENT ? "no symbol table" : strerror(-e));
		goto out;
	}
	for (int i = 0; i < n; i++) {
		int t = fn_at(&cg, targets[i]);

		if (t >= 0) {
			cg.f[t].mark |= CG_TARGET;
			found++;
		}
	}
	if (!found) {
		snprintf(err, errlen, "%s: no replaced function in its symbol table", path);
		e = -ENOENT;
		goto out;
	}
	spread(&cg, CG_TARGET, CG_ANCESTOR, true);
	spread(&cg, CG_TARGET, CG_DESCENDANT, false);
	/* the direct callers of a target, and their other callees */
	for (unsigned int i = 0; i < cg.n; i++)
		for (unsigned int j = 0; j < cg.f[i].ncallees; j++)
			if (cg.f[cg.f[i].callees[j]].mark & CG_TARGET)
				cg.f[i].mark |= CG_PARENT;
	for (unsigned int i = 0; i < cg.n; i++) {
		if (!(cg.f[i].mark & CG_PARENT))
			continue;
		for (unsigned int j = 0; j < cg.f[i].ncallees; j++) {
			struct cg_fn *s = &cg.f[cg.f[i].callees[j]];

			if (s->mark & (CG_TARGET | CG_ANCESTOR | CG_DESCENDANT))
				continue;
			if (!s->shared++)
				s->parent = (int)i;
		}
	}
	/* most callers shared first, then by address (a stable pass per count) */
	for (unsigned int want = n_callers_max(&cg); want > 0 && k < max; want--)
		for (unsigned int i = 0; i < cg.n && k < max; i++) {
			if (cg.f[i].shared != want)
				continue;
			snprintf(out[k].name, sizeof(out[k].name), "%s", cg.f[i].name);
			snprintf(out[k].parent, sizeof(out[k].parent), "%s", cg.f[cg.f[i].parent].name);
			out[k].shared = want;
			k++;
		}
	e = k;
out:
	for (unsigned int i = 0; i < cg.n; i++)
		free(cg.f[i].callees);
	free(cg.f);
	if (elf)
		elf_end(elf);
	close(fd);
	return e;
}
