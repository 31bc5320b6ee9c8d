/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The x86-64 side of a ulp patch: the jump written at an old function's
 * entry (rel32 when the new code is within reach, else an abs64 through
 * "jmp *0(%rip)"), and the saved bytes: the entry as the file and the
 * memory hold it, and what memory says about a journal entry.
 */
#ifndef PG_BACKEND_ULP_X86_H
#define PG_BACKEND_ULP_X86_H

#include <stdint.h>

struct ulp_jpatch;

#define ULP_JMP_REL32_LEN 5
#define ULP_JMP_ABS64_LEN 14

/*
 * Encode a jump from @from to @to into @b (ULP_JMP_ABS64_LEN bytes), in
 * at most @room bytes; *len gets its length.  -ERANGE when it does not fit.
 */
int ulp_jump_encode(uint64_t from, uint64_t to, uint64_t room, uint8_t *b, int *len);
/* "rel32" or "abs64", for a jump of @len bytes. */
const char *ulp_jump_kind(int len);

/*
 * Read @len bytes of an entry twice: from the file (@path at @file_off)
 * into @file, and from memory (@memfd, /proc/PID/mem, at @addr) into
 * @mem.  -EIO when either cannot be read.
 */
int ulp_entry_read(int memfd, const char *path, uint64_t file_off, uint64_t addr, uint8_t *file,
		   uint8_t *mem, int len);
/* Why an entry may differ from the file, from its first byte: "" or " (int3: a uprobe)", ... */
const char *ulp_entry_hint(const uint8_t *mem);

/* What the target's bytes say about a journal entry. */
enum ulp_actual {
	ULP_ACT_APPLIED,	/* every entry holds the jump */
	ULP_ACT_NOT_APPLIED,	/* every entry holds the saved bytes */
	ULP_ACT_PARTIAL,	/* some of each */
	ULP_ACT_FOREIGN,	/* an entry holds something else */
	ULP_ACT_UNREADABLE,	/* an entry cannot be read */
	ULP_ACT__COUNT,
};

/* "applied", "not-applied", "partial", "foreign", "unreadable". */
const char *ulp_actual_name(enum ulp_actual a);
enum ulp_actual ulp_actual_of(int memfd, const struct ulp_jpatch *p);

#endif
