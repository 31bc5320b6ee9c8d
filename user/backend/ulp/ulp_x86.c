// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "backend/ulp/ulp_journal.h"
#include "backend/ulp/ulp_x86.h"

int ulp_jump_encode(uint64_t from, uint64_t to, uint64_t room, uint8_t *b, int *len)
{
	int64_t rel = (int64_t)(to - (from + ULP_JMP_REL32_LEN));

	if (rel >= INT32_MIN && rel <= INT32_MAX && room >= ULP_JMP_REL32_LEN) {
		int32_t r = (int32_t)rel;

		b[0] = 0xe9;	/* jmp rel32 */
		memcpy(b + 1, &r, 4);
		*len = ULP_JMP_REL32_LEN;
		return 0;
	}
	if (room < ULP_JMP_ABS64_LEN)
		return -ERANGE;
	b[0] = 0xff;		/* jmp *0(%rip), then the address */
	b[1] = 0x25;
	memset(b + 2, 0, 4);
	memcpy(b + 6, &to, 8);
	*len = ULP_JMP_ABS64_LEN;
	return 0;
}

const char *ulp_jump_kind(int len)
{
	return len == ULP_JMP_REL32_LEN ? "rel32" : "abs64";
}

int ulp_entry_read(int memfd, const char *path, uint64_t file_off, uint64_t addr, uint8_t *file,
		   uint8_t *mem, int len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0 || pread(fd, file, len, (off_t)file_off) != len || pread(memfd, mem, len, (off_t)addr) != len)
		err = -EIO;
	if (fd >= 0)
		close(fd);
	return err;
}

const char *ulp_entry_hint(const uint8_t *mem)
{
	if (mem[0] == 0xcc)
		return " (int3: a uprobe)";
	if (mem[0] == 0xe8)
		return " (a call over the nop5: an optimised uprobe)";
	return "";
}

static const char *const actual_names[ULP_ACT__COUNT] = {
	[ULP_ACT_APPLIED] = "applied",
	[ULP_ACT_NOT_APPLIED] = "not-applied",
	[ULP_ACT_PARTIAL] = "partial",
	[ULP_ACT_FOREIGN] = "foreign",
	[ULP_ACT_UNREADABLE] = "unreadable",
};

const char *ulp_actual_name(enum ulp_actual a)
{
	return (unsigned int)a < ULP_ACT__COUNT ? actual_names[a] : "?";
}

enum ulp_actual ulp_actual_of(int memfd, const struct ulp_jpatch *p)
{
	int nnew = 0, nold = 0;

	for (int k = 0; k < p->nf; k++) {
		const struct ulp_jfunc *f = &p->f[k];
		uint8_t b[ULP_JMAX];

		if (pread(memfd, b, f->len, (off_t)f->old_addr) != f->len)
			return ULP_ACT_UNREADABLE;
		if (!memcmp(b, f->new_bytes, f->len))
			nnew++;
		else if (!memcmp(b, f->old_bytes, f->len))
			nold++;
		else
			return ULP_ACT_FOREIGN;
	}
	if (nnew == p->nf)
		return ULP_ACT_APPLIED;
	if (nold == p->nf)
		return ULP_ACT_NOT_APPLIED;
	return ULP_ACT_PARTIAL;
}
