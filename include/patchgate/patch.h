/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The header for userspace live-patch authors.  A patch is a shared object
 * built from C:
 *
 *   cc -O2 -fPIC -shared -Iinclude -o fix.so fix.c
 *
 * In the source:
 *
 *   #include <patchgate/patch.h>
 *
 *   PG_PATCH_TARGET(PG_PATCH_MAIN, "");        // or "libfoo.so.1", build-id
 *   extern int helper(int);                    // target's own, static is fine
 *   PG_PATCH_NEW(int, parse_fixed, (const char *s))
 *   {
 *           return helper(1);
 *   }
 *   PG_PATCH_FUNC(parse, parse_fixed);         // old symbol -> new function
 *
 * PG_PATCH_NEW gives the new function a 5-byte nop entry (0f 1f 44 00 00)
 * so that it can be probed cheaply once the patch is in: gcc refuses
 * -mnop-mcount together with -fPIC, so the entry is written in assembly
 * and jumps to the C body.
 *
 * The macros emit fixed-size records into the PG_PATCH_SECTION section.
 * Names are inline character arrays, so a reader needs no relocation
 * processing: it reads the section and walks it in sizeof(struct
 * pg_patch_rec) steps.  References to the target's symbols stay undefined
 * in the .so; patchgate resolves them against the target's .symtab (static
 * symbols included), else .dynsym, at apply time.  See
 * docs/patch-authoring.md.
 *
 * No libc includes: this header is also read by non-C tools.
 */
#ifndef PATCHGATE_PATCH_H
#define PATCHGATE_PATCH_H

#define PG_PATCH_SECTION	".patchgate"
#define PG_PATCH_MAGIC		0x31504750u	/* "PGP1", little-endian */
#define PG_PATCH_NAME_MAX	128		/* with the NUL */
#define PG_PATCH_MAIN		""		/* target: the main executable */

enum pg_patch_rec_kind {
	PG_PATCH_REC_TARGET = 1,	/* a: object (soname or ""), b: build-id hex or "" */
	PG_PATCH_REC_FUNC = 2,		/* a: old symbol, b: new function */
};

/* One record: 264 bytes, no pointers, 8-byte aligned. */
struct pg_patch_rec {
	unsigned int magic;		/* PG_PATCH_MAGIC */
	unsigned int kind;		/* enum pg_patch_rec_kind */
	char a[PG_PATCH_NAME_MAX];
	char b[PG_PATCH_NAME_MAX];
};

/*
 * Define the new function @name with a nop5 entry followed by a jump to
 * its C body (@name##__pg_body, static).  Follow it with the body:
 *   PG_PATCH_NEW(int, f_fixed, (int x)) { return x; }
 */
#define PG_PATCH_NEW(ret, name, args)						\
	__asm__(".pushsection .text\n"						\
		".globl " #name "\n"						\
		".type " #name ", @function\n"					\
		".p2align 4\n"							\
		#name ":\n"							\
		"\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"			\
		"\tjmp " #name "__pg_body\n"					\
		".size " #name ", . - " #name "\n"				\
		".popsection");							\
	extern ret name args;							\
	__attribute__((used, noipa)) static ret name##__pg_body args

#define PG__CAT2(x, y) x##y
#define PG__CAT(x, y) PG__CAT2(x, y)

/* Exactly one per patch: the object patched, and its build-id ("" for any). */
#define PG_PATCH_TARGET(object, build_id)					\
	__attribute__((used, section(PG_PATCH_SECTION), aligned(8)))		\
	static const struct pg_patch_rec pg__patch_target = {			\
		PG_PATCH_MAGIC, PG_PATCH_REC_TARGET, object, build_id }

/*
 * Replace @old_sym (a symbol of the target object, static or not) by
 * @new_fn (a function of this patch).  The pointer kept beside the record
 * only stops the compiler from dropping a static @new_fn and checks that
 * it exists; patchgate reads the name.
 */
#define PG_PATCH_FUNC(old_sym, new_fn)						\
	__attribute__((used, section(PG_PATCH_SECTION), aligned(8)))		\
	static const struct pg_patch_rec PG__CAT(pg__patch_func_, __LINE__) = {	\
		PG_PATCH_MAGIC, PG_PATCH_REC_FUNC, #old_sym, #new_fn };		\
	__attribute__((used))							\
	static const void *const PG__CAT(pg__patch_keep_, __LINE__) = (const void *)&new_fn

#endif
