/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel text symbols from /proc/kallsyms: existence checks for livepatch
 * targets (with the kernel's sympos rule) and address ranges for the
 * residency stack walk.  Addresses need root (kptr_restrict); names don't.
 */
#ifndef PG_OBSERVE_KALLSYMS_H
#define PG_OBSERVE_KALLSYMS_H

#include <stdint.h>
#include <stddef.h>

struct ksyms;

/* Read /proc/kallsyms (or @path when not NULL).  NULL with errno set on failure. */
struct ksyms *ksyms__load(const char *path);
void ksyms__free(struct ksyms *ks);

/*
 * Number of text symbols called @name in @module (NULL or "vmlinux": the
 * core kernel, as livepatch objects name it).
 */
int ksyms__count(const struct ksyms *ks, const char *name, const char *module);

/*
 * Address range [start, end) of function @name in @module.  @sympos is
 * livepatch's: 0 means the name must be unique in the object, N >= 1 the
 * N-th occurrence in kallsyms order.  end is the next symbol's address.
 * Returns 0, -ENOENT (no such function or position), -ENOTUNIQ (sympos 0
 * and several), -EPERM (addresses hidden: not root).
 */
int ksyms__range(const struct ksyms *ks, const char *name, const char *module,
		 unsigned long sympos, uint64_t *start, uint64_t *end);

/*
 * Name of the function containing @addr ("name" or "name [module]") into
 * @buf; -ENOENT when none.
 */
int ksyms__addr_name(const struct ksyms *ks, uint64_t addr, char *buf, size_t len);

#endif
