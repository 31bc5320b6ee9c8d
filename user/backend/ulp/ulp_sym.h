/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the ulp backend needs from a live process beyond
 * lib/symbols.h: any defined symbol (data too) of its objects for
 * relocation, the slack after executable segments for the injection
 * trampoline, and a free gap near the target for the patch mapping.
 */
#ifndef PG_BACKEND_ULP_SYM_H
#define PG_BACKEND_ULP_SYM_H

#include <stdbool.h>
#include <stdint.h>

struct sym_proc;
struct procmaps;

/* Symbol tables of a process's objects, each opened once; NULL on ENOMEM. */
struct ulp_syms;
struct ulp_syms *ulp_syms__new(struct sym_proc *sp);
void ulp_syms__free(struct ulp_syms *c);

/*
 * Address of @name for relocation: in object @first (its .symtab, static
 * symbols included, else .dynsym) then in every other object's .dynsym
 * (global, default version).  *is_ifunc set for STT_GNU_IFUNC.
 * -ENOENT when nobody defines it.
 */
int ulp_syms__lookup(struct ulp_syms *c, int first, const char *name, uint64_t *addr, bool *is_ifunc);

/* An address of ULP_TRAMP_SIZE never-executed bytes (code and frame) in an r-x mapping; -ENOSPC. */
int ulp_find_tramp(struct sym_proc *sp, const struct procmaps *pm, uint64_t *addr);

/*
 * A free, page-aligned range of @len bytes whose every byte is within
 * +-1.5 GiB of [@lo, @hi), closest to it; 0 when there is none.
 */
uint64_t ulp_find_gap(const struct procmaps *pm, uint64_t lo, uint64_t hi, uint64_t len);

#endif
