/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The direct-call graph of one ELF object, read from its code with libelf:
 * an edge f -> g for every `call rel32` (e8) in f that lands on g's entry.
 * Used to choose concurrent controls on their own (policy `control = auto`):
 * the siblings of the replaced functions, called by the same callers and
 * so run on the same threads, that neither call a replaced function (the
 * patch would slow them too) nor are called by one.  Indirect calls and
 * calls through the PLT are not seen, which can only make the choice
 * smaller.
 */
#ifndef PG_LIB_CALLGRAPH_H
#define PG_LIB_CALLGRAPH_H

#include <stddef.h>
#include <stdint.h>

#define CG_NAME_LEN	128

struct cg_sibling {
	char name[CG_NAME_LEN];
	char parent[CG_NAME_LEN];	/* one caller it shares with a replaced function */
	unsigned int shared;		/* how many callers it shares with them */
};

/*
 * The siblings of the functions at link-time addresses @targets[0..n) in the
 * ELF file @path: the functions their direct callers call, other than the
 * targets, their callers at any depth, and their callees at any depth.
 * Ordered by callers shared (most first), then by address.  Up to @max into
 * @out; the count, or a negative errno with a message in @err (-ENOENT: no
 * target is a function of the file's symbol table).
 */
int cg_siblings(const char *path, const uint64_t *targets, int n, struct cg_sibling *out, int max,
		char *err, size_t errlen);

#endif
