/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading a userspace live patch (.so built with <patchgate/patch.h>):
 * its records, load segments and dynamic relocations, validated without
 * touching any process.
 */
#ifndef PG_BACKEND_ULP_PATCH_H
#define PG_BACKEND_ULP_PATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <patchgate/patch.h>

struct ulp_seg {
	uint64_t vaddr, memsz, off, filesz;
	int prot;		/* PROT_* */
};

struct ulp_reloc {
	uint64_t off;		/* link-time address patched */
	uint32_t type;		/* R_X86_64_* (supported ones only) */
	int64_t addend;
	char *sym;		/* NULL: no symbol */
	bool defined;		/* symbol defined in the patch itself */
	bool weak;
	uint64_t sym_value;	/* when defined */
};

struct ulp_pfunc {
	char old_sym[PG_PATCH_NAME_MAX];
	char new_sym[PG_PATCH_NAME_MAX];
	uint64_t new_value;	/* link-time address in the patch */
	uint64_t new_size;
};

/* a patch larger than this is refused (it is held in memory whole) */
#define ULP_PATCH_MAX_SIZE (64 << 20)

struct ulp_patch {
	char path[4096];	/* realpath */
	uint8_t *image;		/* the file's bytes as read once: what is validated and mapped */
	uint64_t size;
	char build_id[64];	/* the patch's own, "" if none */
	char object[PG_PATCH_NAME_MAX];	/* target object, "" = main executable */
	char target_build_id[PG_PATCH_NAME_MAX];
	struct ulp_pfunc *funcs;
	int nfuncs;
	struct ulp_seg *segs;
	int nsegs;
	uint64_t span_lo, span_hi;	/* page-aligned link-time range */
	struct ulp_reloc *relocs;
	int nrelocs;
};

/*
 * Read @path once into p->image and parse and validate those bytes (the
 * file is never read again: what is mapped is what was checked).  Refuses (with a message in @err): not an
 * x86-64 ET_DYN; no or malformed PG_PATCH_SECTION; text relocations
 * (built without -fPIC); TLS; relocation types other than NONE,
 * RELATIVE, 64, GLOB_DAT, JUMP_SLOT (named in the message); a new
 * function missing from the patch's symbol tables.  -errno.
 */
int ulp_patch__open(const char *path, struct ulp_patch **out, char *err, size_t errlen);
void ulp_patch__free(struct ulp_patch *p);

const char *ulp_reloc_name(uint32_t type);

#endif
