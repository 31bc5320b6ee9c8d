// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backend/ulp/ulp_patch.h"

const char *ulp_reloc_name(uint32_t type)
{
	static const char *const names[] = {
		"R_X86_64_NONE", "R_X86_64_64", "R_X86_64_PC32", "R_X86_64_GOT32",
		"R_X86_64_PLT32", "R_X86_64_COPY", "R_X86_64_GLOB_DAT", "R_X86_64_JUMP_SLOT",
		"R_X86_64_RELATIVE", "R_X86_64_GOTPCREL", "R_X86_64_32", "R_X86_64_32S",
		"R_X86_64_16", "R_X86_64_PC16", "R_X86_64_8", "R_X86_64_PC8",
		"R_X86_64_DTPMOD64", "R_X86_64_DTPOFF64", "R_X86_64_TPOFF64", "R_X86_64_TLSGD",
		"R_X86_64_TLSLD", "R_X86_64_DTPOFF32", "R_X86_64_GOTTPOFF", "R_X86_64_TPOFF32",
		"R_X86_64_PC64", "R_X86_64_GOTOFF64", "R_X86_64_GOTPC32", "R_X86_64_GOT64",
		"R_X86_64_GOTPCREL64", "R_X86_64_GOTPC64", "R_X86_64_GOTPLT64", "R_X86_64_PLTOFF64",
		"R_X86_64_SIZE32", "R_X86_64_SIZE64", "R_X86_64_GOTPC32_TLSDESC",
		"R_X86_64_TLSDESC_CALL", "R_X86_64_TLSDESC", "R_X86_64_IRELATIVE",
		"R_X86_64_RELATIVE64",
	};

	if (type < sizeof(names) / sizeof(names[0]))
		return names[type];
	return "R_X86_64_<unknown>";
}

static bool reloc_supported(uint32_t type)
{
	return type == R_X86_64_NONE || type == R_X86_64_RELATIVE || type == R_X86_64_64 ||
	       type == R_X86_64_GLOB_DAT || type == R_X86_64_JUMP_SLOT;
}

void ulp_patch__free(struct ulp_patch *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nrelocs; i++)
		free(p->relocs[i].sym);
	free(p->relocs);
	free(p->segs);
	free(p->funcs);
	free(p->image);
	free(p);
}

/* Look @name up among defined functions of .symtab, then .dynsym. */
static bool find_func(Elf *elf, const char *name, uint64_t *value, uint64_t *size)
{
	for (int pass = 0; pass < 2; pass++) {
		Elf_Scn *scn = NULL;

		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			Elf_Data *d;

			if (!gelf_getshdr(scn, &sh) || sh.sh_type != (pass ? SHT_DYNSYM : SHT_SYMTAB) ||
			    !sh.sh_entsize)
				continue;
			d = elf_getdata(scn, NULL);
			for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
				const char *n;
				GElf_Sym s;

				if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF ||
				    GELF_ST_TYPE(s.st_info) != STT_FUNC)
					continue;
				n = elf_strptr(elf, sh.sh_link, s.st_name);
				if (n && !strcmp(n, name)) {
					*value = s.st_value;
					*size = s.st_size;
					return true;
				}
			}
		}
	}
	return false;
}

static int read_build_id(Elf *elf, char *hex, size_t hexlen)
{
	Elf_Scn *scn = NULL;

	hex[0] = '\0';
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		GElf_Nhdr nh;
		Elf_Data *d;
		size_t off = 0, noff, doff;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		while (d && (off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
			const unsigned char *desc = (const unsigned char *)d->d_buf + doff;

			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_descsz * 2 + 1 > hexlen)
				continue;
			for (size_t i = 0; i < nh.n_descsz; i++)
				sprintf(hex + 2 * i, "%02x", desc[i]);
			return 0;
		}
	}
	return -ENOENT;
}

static int add_reloc(struct ulp_patch *p, const struct ulp_reloc *r)
{
	struct ulp_reloc *nr = realloc(p->relocs, (p->nrelocs + 1) * sizeof(*nr));

	if (!nr)
		return -ENOMEM;
	p->relocs = nr;
	p->relocs[p->nrelocs++] = *r;
	return 0;
}

static bool in_writable_seg(const struct ulp_patch *p, uint64_t off)
{
	for (int i = 0; i < p->nsegs; i++)
		if (off >= p->segs[i].vaddr && off + 8 <= p->segs[i].vaddr + p->segs[i].memsz)
			return p->segs[i].prot & PROT_WRITE;
	return false;
}

/* Read every SHT_RELA section that applies to the loaded image. */
static int read_relocs(Elf *elf, struct ulp_patch *p, char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	int ret;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh, symsh;
		Elf_Data *d, *symd;
		Elf_Scn *symscn;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_REL) {
			snprintf(err, errlen, "SHT_REL relocations are not used on x86-64: not a valid patch");
			return -ENOEXEC;
		}
		if (sh.sh_type != SHT_RELA || !(sh.sh_flags & SHF_ALLOC) || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		symscn = elf_getscn(elf, sh.sh_link);
		if (!d || !symscn || !gelf_getshdr(symscn, &symsh)) {
			snprintf(err, errlen, "unreadable relocation section (truncated file?)");
			return -ENOEXEC;
		}
		symd = elf_getdata(symscn, NULL);
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			struct ulp_reloc r = {};
			uint32_t si;
			GElf_Rela ra;
			GElf_Sym s;

			if (!gelf_getrela(d, (int)i, &ra)) {
				snprintf(err, errlen, "unreadable relocation (truncated file?)");
				return -ENOEXEC;
			}
			r.off = ra.r_offset;
			r.type = (uint32_t)GELF_R_TYPE(ra.r_info);
			r.addend = ra.r_addend;
			si = (uint32_t)GELF_R_SYM(ra.r_info);
			if (si && symd && gelf_getsym(symd, (int)si, &s)) {
				const char *n = elf_strptr(elf, symsh.sh_link, s.st_name);

				r.sym = strdup(n ? n : "");
				if (!r.sym)
					return -ENOMEM;
				r.defined = s.st_shndx != SHN_UNDEF;
				r.weak = GELF_ST_BIND(s.st_info) == STB_WEAK;
				r.sym_value = s.st_value;
				if (GELF_ST_TYPE(s.st_info) == STT_TLS) {
					snprintf(err, errlen, "relocation %s against thread-local '%s' is not supported "
						 "-- patches cannot use TLS variables", ulp_reloc_name(r.type), r.sym);
					free(r.sym);
					return -ENOTSUP;
				}
			}
			if (!reloc_supported(r.type)) {
				snprintf(err, errlen, "unsupported relocation %s%s%s at 0x%llx%s",
					 ulp_reloc_name(r.type), r.sym ? " against " : "", r.sym ? r.sym : "",
					 (unsigned long long)r.off,
					 r.type == R_X86_64_PC32 || r.type == R_X86_64_32 || r.type == R_X86_64_32S ?
					 " -- rebuild the patch with -fPIC" : "");
				free(r.sym);
				return -ENOTSUP;
			}
			if (r.type != R_X86_64_NONE && !in_writable_seg(p, r.off)) {
				snprintf(err, errlen, "text relocation %s at 0x%llx -- rebuild the patch with -fPIC",
					 ulp_reloc_name(r.type), (unsigned long long)r.off);
				free(r.sym);
				return -ENOTSUP;
			}
			ret = add_reloc(p, &r);
			if (ret) {
				free(r.sym);
				return ret;
			}
		}
	}
	return 0;
}

static int read_records(Elf *elf, struct ulp_patch *p, char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int ntarget = 0;

	if (elf_getshdrstrndx(elf, &shstrndx)) {
		snprintf(err, errlen, "no section names (truncated or stripped of sections?)");
		return -ENOEXEC;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		const struct pg_patch_rec *rec;
		const char *name;
		Elf_Data *d;
		GElf_Shdr sh;
		size_t n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, PG_PATCH_SECTION))
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size % sizeof(*rec) || d->d_size != sh.sh_size) {
			snprintf(err, errlen, "section %s is malformed (truncated file?)", PG_PATCH_SECTION);
			return -ENOEXEC;
		}
		n = d->d_size / sizeof(*rec);
		rec = d->d_buf;
		for (size_t i = 0; i < n; i++) {
			const struct pg_patch_rec *r = &rec[i];

			if (r->magic != PG_PATCH_MAGIC || !memchr(r->a, 0, sizeof(r->a)) ||
			    !memchr(r->b, 0, sizeof(r->b))) {
				snprintf(err, errlen, "record %zu of %s is malformed", i, PG_PATCH_SECTION);
				return -ENOEXEC;
			}
			if (r->kind == PG_PATCH_REC_TARGET) {
				ntarget++;
				snprintf(p->object, sizeof(p->object), "%s", r->a);
				snprintf(p->target_build_id, sizeof(p->target_build_id), "%s", r->b);
			} else if (r->kind == PG_PATCH_REC_FUNC) {
				struct ulp_pfunc *nf = realloc(p->funcs, (p->nfuncs + 1) * sizeof(*nf));

				if (!nf)
					return -ENOMEM;
				p->funcs = nf;
				memset(&nf[p->nfuncs], 0, sizeof(*nf));
				memcpy(nf[p->nfuncs].old_sym, r->a, sizeof(r->a));
				memcpy(nf[p->nfuncs].new_sym, r->b, sizeof(r->b));
				p->nfuncs++;
			} else {
				snprintf(err, errlen, "record %zu of %s has unknown kind %u", i, PG_PATCH_SECTION,
					 r->kind);
				return -ENOEXEC;
			}
		}
	}
	if (ntarget != 1 || !p->nfuncs) {
		snprintf(err, errlen, "%s: need exactly one PG_PATCH_TARGET and at least one PG_PATCH_FUNC "
			 "(found %d and %d) -- is this a patch built with <patchgate/patch.h>?",
			 PG_PATCH_SECTION, ntarget, p->nfuncs);
		return -ENOEXEC;
	}
	for (int i = 0; i < p->nfuncs; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(p->funcs[i].old_sym, p->funcs[j].old_sym)) {
				snprintf(err, errlen, "'%s' is replaced twice in the patch", p->funcs[i].old_sym);
				return -EINVAL;
			}
	return 0;
}

/* A DT_TEXTREL (or DF_TEXTREL) in the dynamic segment @ph: built without -fPIC. */
static bool has_textrel(Elf *elf, const GElf_Phdr *ph)
{
	Elf_Data *d = elf_getdata_rawchunk(elf, ph->p_offset, ph->p_filesz, ELF_T_DYN);

	for (size_t k = 0; d && k < ph->p_filesz / sizeof(Elf64_Dyn); k++) {
		GElf_Dyn dyn;

		if (!gelf_getdyn(d, (int)k, &dyn))
			break;
		if (dyn.d_tag == DT_TEXTREL || (dyn.d_tag == DT_FLAGS && (dyn.d_un.d_val & DF_TEXTREL)))
			return true;
	}
	return false;
}

static int add_seg(struct ulp_patch *p, const GElf_Phdr *ph)
{
	struct ulp_seg *ns = realloc(p->segs, (p->nsegs + 1) * sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	p->segs = ns;
	ns[p->nsegs].vaddr = ph->p_vaddr;
	ns[p->nsegs].memsz = ph->p_memsz;
	ns[p->nsegs].off = ph->p_offset;
	ns[p->nsegs].filesz = ph->p_filesz;
	ns[p->nsegs].prot = (ph->p_flags & PF_R ? PROT_READ : 0) | (ph->p_flags & PF_W ? PROT_WRITE : 0) |
			    (ph->p_flags & PF_X ? PROT_EXEC : 0);
	p->nsegs++;
	if ((ph->p_vaddr & ~4095ull) < p->span_lo)
		p->span_lo = ph->p_vaddr & ~4095ull;
	if (((ph->p_vaddr + ph->p_memsz + 4095) & ~4095ull) > p->span_hi)
		p->span_hi = (ph->p_vaddr + ph->p_memsz + 4095) & ~4095ull;
	return 0;
}

/* The @nph program headers: load segments (within the @size-byte file), no TLS, no text relocations. */
static int read_segments(Elf *elf, struct ulp_patch *p, const char *path, uint64_t size, size_t nph, char *err,
			 size_t errlen)
{
	int ret;

	p->span_lo = UINT64_MAX;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph)) {
			snprintf(err, errlen, "%s: unreadable program header (truncated?)", path);
			return -ENOEXEC;
		}
		if (ph.p_type == PT_TLS) {
			snprintf(err, errlen, "%s defines thread-local variables (PT_TLS): not supported in patches",
				 path);
			return -ENOTSUP;
		}
		if (ph.p_type == PT_DYNAMIC && has_textrel(elf, &ph)) {
			snprintf(err, errlen, "%s has text relocations (DT_TEXTREL) -- rebuild it with -fPIC", path);
			return -ENOTSUP;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset + ph.p_filesz > size || ph.p_filesz > ph.p_memsz ||
		    (ph.p_offset & 4095) != (ph.p_vaddr & 4095)) {
			snprintf(err, errlen, "%s: load segment %zu lies beyond the end of the file (truncated?)",
				 path, i);
			return -ENOEXEC;
		}
		ret = add_seg(p, &ph);
		if (ret)
			return ret;
	}
	if (!p->nsegs) {
		snprintf(err, errlen, "%s has no load segments", path);
		return -ENOEXEC;
	}
	return 0;
}

/* The whole of @fd (@size bytes) into a malloc'ed buffer; -errno. */
static int read_image(int fd, uint64_t size, uint8_t **out)
{
	uint8_t *b = malloc(size ? size : 1);
	uint64_t got = 0;

	if (!b)
		return -ENOMEM;
	while (got < size) {
		ssize_t n = pread(fd, b + got, size - got, (off_t)got);

		if (n <= 0) {
			free(b);
			return n < 0 ? -errno : -EIO;
		}
		got += (uint64_t)n;
	}
	*out = b;
	return 0;
}

int ulp_patch__open(const char *path, struct ulp_patch **out, char *err, size_t errlen)
{
	struct ulp_patch *p = NULL;
	Elf *elf = NULL;
	GElf_Ehdr eh;
	struct stat st;
	size_t nph;
	int fd = -1, ret = 0;

	elf_version(EV_CURRENT);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (!realpath(path, p->path)) {
		ret = -errno;
		snprintf(err, errlen, "cannot open patch %s: %s", path, strerror(errno));
		goto cleanup;
	}
	fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "cannot open patch %s: %s", path, strerror(errno));
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > ULP_PATCH_MAX_SIZE) {
		ret = -EFBIG;
		snprintf(err, errlen, "%s is not a regular file of at most %d MiB", path, ULP_PATCH_MAX_SIZE >> 20);
		goto cleanup;
	}
	/* every later step parses and maps these bytes, never the file again */
	ret = read_image(fd, (uint64_t)st.st_size, &p->image);
	if (ret) {
		snprintf(err, errlen, "cannot read patch %s: %s", path, strerror(-ret));
		goto cleanup;
	}
	p->size = (uint64_t)st.st_size;
	elf = elf_memory((char *)p->image, p->size);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh) ||
	    gelf_getclass(elf) != ELFCLASS64) {
		ret = -ENOEXEC;
		snprintf(err, errlen, "%s is not a 64-bit ELF file", path);
		goto cleanup;
	}
	if (eh.e_machine != EM_X86_64 || eh.e_type != ET_DYN) {
		ret = -ENOEXEC;
		snprintf(err, errlen, "%s is not an x86-64 shared object -- build it with -fPIC -shared", path);
		goto cleanup;
	}
	if (elf_getphdrnum(elf, &nph)) {
		ret = -ENOEXEC;
		snprintf(err, errlen, "%s: unreadable program headers (truncated?)", path);
		goto cleanup;
	}
	ret = read_segments(elf, p, path, p->size, nph, err, errlen);
	if (ret)
		goto cleanup;
	ret = read_records(elf, p, err, errlen);
	if (ret)
		goto cleanup;
	read_build_id(elf, p->build_id, sizeof(p->build_id));
	for (int i = 0; i < p->nfuncs; i++) {
		struct ulp_pfunc *f = &p->funcs[i];

		if (!find_func(elf, f->new_sym, &f->new_value, &f->new_size)) {
			ret = -ENOENT;
			snprintf(err, errlen, "new function '%s' is not in the patch's symbol tables "
				 "-- keep it non-static, or do not strip the patch", f->new_sym);
			goto cleanup;
		}
	}
	ret = read_relocs(elf, p, err, errlen);
cleanup:
	if (elf)
		elf_end(elf);
	if (fd >= 0)
		close(fd);
	if (ret) {
		ulp_patch__free(p);
		return ret;
	}
	*out = p;
	return 0;
}
