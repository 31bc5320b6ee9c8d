// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend/ulp/ulp_ptrace.h"
#include "backend/ulp/ulp_sym.h"
#include "lib/procmaps.h"
#include "lib/symbols.h"

/* Scan one symbol table for @name; prefer non-hidden versions in .dynsym. */
static int scan_symtab(Elf *elf, Elf_Scn *scn, bool globals_only, const char *name,
		       uint64_t *value, bool *ifunc)
{
	Elf_Data *d = elf_getdata(scn, NULL), *vd = NULL;
	Elf_Scn *vs = NULL;
	GElf_Shdr sh;
	int found = -ENOENT;

	if (!d || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return -ENOENT;
	if (sh.sh_type == SHT_DYNSYM) {
		while ((vs = elf_nextscn(elf, vs))) {
			GElf_Shdr vsh;

			if (gelf_getshdr(vs, &vsh) && vsh.sh_type == SHT_GNU_versym) {
				vd = elf_getdata(vs, NULL);
				break;
			}
		}
	}
	for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
		const char *n;
		GElf_Versym ver = 0;
		GElf_Sym s;
		int type;

		if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF)
			continue;
		type = GELF_ST_TYPE(s.st_info);
		if (type != STT_FUNC && type != STT_OBJECT && type != STT_GNU_IFUNC && type != STT_NOTYPE)
			continue;
		if (globals_only && GELF_ST_BIND(s.st_info) == STB_LOCAL)
			continue;
		n = elf_strptr(elf, sh.sh_link, s.st_name);
		if (!n || strcmp(n, name))
			continue;
		if (vd && gelf_getversym(vd, (int)i, &ver) && (ver & 0x8000) && found == 0)
			continue;	/* hidden (old) version, a default one is known */
		*value = s.st_value;
		*ifunc = type == STT_GNU_IFUNC;
		found = 0;
		if (!(ver & 0x8000) && GELF_ST_BIND(s.st_info) != STB_LOCAL)
			break;
	}
	return found;
}

struct ulp_obj_elf {
	bool tried;
	int fd;
	Elf *elf;
	Elf_Scn *symtab, *dynsym;
};

struct ulp_syms {
	struct sym_proc *sp;
	int n;
	struct ulp_obj_elf o[];
};

struct ulp_syms *ulp_syms__new(struct sym_proc *sp)
{
	int n = sym_proc__nobjs(sp);
	struct ulp_syms *c = calloc(1, sizeof(*c) + (n + 1) * sizeof(c->o[0]));

	if (!c)
		return NULL;
	c->sp = sp;
	c->n = n;
	elf_version(EV_CURRENT);
	return c;
}

void ulp_syms__free(struct ulp_syms *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n; i++) {
		if (c->o[i].elf)
			elf_end(c->o[i].elf);
		if (c->o[i].tried && c->o[i].fd >= 0)
			close(c->o[i].fd);
	}
	free(c);
}

/* Open object @i once per operation. */
static struct ulp_obj_elf *obj_elf(struct ulp_syms *c, int i)
{
	struct ulp_obj_elf *o = &c->o[i];
	Elf_Scn *scn = NULL;

	if (o->tried)
		return o->elf ? o : NULL;
	o->tried = true;
	o->fd = open(sym_proc__obj_open_path(c->sp, i), O_RDONLY | O_CLOEXEC);
	if (o->fd < 0)
		return NULL;
	o->elf = elf_begin(o->fd, ELF_C_READ_MMAP, NULL);
	if (!o->elf)
		return NULL;
	while ((scn = elf_nextscn(o->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			o->symtab = scn;
		else if (sh.sh_type == SHT_DYNSYM)
			o->dynsym = scn;
	}
	return o;
}

int ulp_syms__lookup(struct ulp_syms *c, int first, const char *name, uint64_t *addr, bool *is_ifunc)
{
	for (int k = -1; k < c->n; k++) {
		int i = k < 0 ? first : k, ret = -ENOENT;
		struct ulp_obj_elf *o;
		uint64_t v;

		if (k == first)
			continue;
		o = obj_elf(c, i);
		if (!o)
			continue;
		if (k < 0 && o->symtab)
			ret = scan_symtab(o->elf, o->symtab, false, name, &v, is_ifunc);
		if (ret && o->dynsym)
			ret = scan_symtab(o->elf, o->dynsym, k >= 0, name, &v, is_ifunc);
		if (!ret) {
			*addr = v + sym_proc__obj_bias(c->sp, i);
			return 0;
		}
	}
	return -ENOENT;
}

int ulp_find_tramp(struct sym_proc *sp, const struct procmaps *pm, uint64_t *addr)
{
	int n = sym_proc__nobjs(sp);

	elf_version(EV_CURRENT);
	for (int i = 0; i < n; i++) {
		Elf *elf;
		size_t nph = 0;
		int fd;

		fd = open(sym_proc__obj_open_path(sp, i), O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		if (elf && !elf_getphdrnum(elf, &nph)) {
			for (size_t k = 0; k < nph; k++) {
				uint64_t end, page_end;
				GElf_Phdr ph;

				if (!gelf_getphdr(elf, (int)k, &ph) || ph.p_type != PT_LOAD || !(ph.p_flags & PF_X))
					continue;
				end = sym_proc__obj_bias(sp, i) + ph.p_vaddr + ph.p_memsz;
				page_end = (end + 4095) & ~4095ull;
				if (page_end - end < ULP_TRAMP_SIZE + 16)
					continue;
				for (int m = 0; m < pm->n; m++) {
					/* readable too: the trampoline pops its frame from there */
					if (pm->m[m].start <= page_end - 1 && page_end <= pm->m[m].end &&
					    pm->m[m].perms[0] == 'r' && pm->m[m].perms[2] == 'x') {
						*addr = page_end - ULP_TRAMP_SIZE;
						elf_end(elf);
						close(fd);
						return 0;
					}
				}
			}
		}
		if (elf)
			elf_end(elf);
		close(fd);
	}
	return -ENOSPC;
}

uint64_t ulp_find_gap(const struct procmaps *pm, uint64_t lo, uint64_t hi, uint64_t len)
{
	const uint64_t reach = 3ull << 29;	/* 1.5 GiB */
	uint64_t best = 0, best_dist = UINT64_MAX;
	const struct procmap *maps = pm->m;
	int nmaps = pm->n;

	for (int i = 0; i <= nmaps; i++) {
		/* gaps: [prev end + guard, next start - guard) */
		uint64_t gs = i ? maps[i - 1].end + (1 << 20) : 1 << 24;
		uint64_t ge = i < nmaps ? maps[i].start - (1 << 20) : 0x7ff000000000ull;
		uint64_t cand[2], dist;

		if (i < nmaps && maps[i].start < (1 << 20) * 2)
			continue;
		if (ge <= gs || ge - gs < len)
			continue;
		/* the end nearest to the target: top of a gap below it, bottom of one above */
		cand[0] = (ge - len) & ~0xfffull;
		cand[1] = (gs + 0xfff) & ~0xfffull;
		for (int c = 0; c < 2; c++) {
			uint64_t a = cand[c];

			if (a < gs || a + len > ge)
				continue;
			/* leave room for the heap to grow */
			if (c == 1 && i && !strcmp(maps[i - 1].path, "[heap]"))
				continue;
			if (a + len > lo + reach || a + reach < hi)
				continue;
			dist = a > hi ? a - hi : lo - (a + len);
			if (dist < best_dist) {
				best_dist = dist;
				best = a;
			}
		}
	}
	return best;
}
