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
 * The module holding a text symbol @name, into @mod: for a name given
 * without its module and not in vmlinux.  Returns the number of modules
 * that have it (0: none; more than 1: ambiguous, the first is written).
 */
int ksyms__module_of(const struct ksyms *ks, const char *name, char *mod, size_t len);

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

/* A text symbol of a module and its sympos (the N-th of its name there, from 1). */
struct ksyms_func {
	char name[128];
	unsigned long sympos;
};

/*
 * The text symbols of @module (not vmlinux) in kallsyms order, the first
 * @max into @out: e.g. every function a livepatch module brings.  Returns
 * how many were written, or -EINVAL / -ENOMEM.
 */
int ksyms__module_funcs(const struct ksyms *ks, const char *module, struct ksyms_func *out, int max);

/*
 * Parse a kernel function spec "[MODULE:]NAME[,SYMPOS]" (MODULE "vmlinux"
 * or none: the core kernel; SYMPOS as livepatch sysfs writes it, 0 when
 * absent).  -EINVAL when malformed or too long.
 */
int ksyms_parse_spec(const char *spec, char *name, size_t namelen, char *module, size_t modlen,
		     unsigned long *sympos);

#endif
