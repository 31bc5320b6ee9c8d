/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Map and relocate: resolve the patch's relocations against the target's
 * objects, choose where it goes, map it into the target through syscalls
 * injected into one stopped thread (as the dynamic loader would, but from
 * a sealed memfd holding the very bytes patchgate validated, never by a
 * path the target would resolve in its own root), check it reads back,
 * write its relocations, and take it out again.
 */
#ifndef PG_BACKEND_ULP_MAP_H
#define PG_BACKEND_ULP_MAP_H

#include <stddef.h>
#include <stdint.h>
#include "backend/ulp/ulp.h"

struct procmaps;
struct sym_proc;
struct ulp_jpatch;
struct ulp_patch;
struct ulp_tset;

/* The name of a patch's memfd: ULP_MAP_NAME_PREFIX and the tail of its path. */
#define ULP_MAP_NAME_PREFIX "patchgate:"
#define ULP_MAP_NAME_MAX 249
void ulp_map_name(const char *patch_path, char *buf, size_t len);
/*
 * The path /proc/PID/maps shows for that memfd: "/memfd:" and its name
 * (then " (deleted)", which lib/procmaps takes off); what the gate probes
 * the new functions in.
 */
void ulp_map_maps_path(const char *patch_path, char *buf, size_t len);

/* The thread syscalls are injected into: the main thread while it lives. */
int ulp_inj_tid(struct ulp_tset *ts);

/*
 * The value of every symbol the relocations of @p need, looked up in
 * object @obj (@objpath) of @sp first, then in every library; *@vals is
 * malloc'ed, one per relocation (0 for a weak one nobody defines).
 * Refuses IFUNCs.  -errno with @res set.
 */
int ulp_resolve_relocs(struct sym_proc *sp, int obj, const char *objpath, const struct ulp_patch *p,
		       uint64_t **vals, struct ulp_result *res);

/*
 * Where the patch goes: *@hint, a free range within rel32 reach of the
 * old functions [@lo, @hi) (0: none, then every function of @jp must take
 * an abs64 jump), and *@tramp, the injection trampoline.  -errno with
 * @res set.
 */
int ulp_place(struct sym_proc *sp, const struct ulp_patch *p, const struct ulp_jpatch *jp, uint64_t lo,
	      uint64_t hi, uint64_t *hint, uint64_t *tramp, struct ulp_result *res);

/*
 * Stop one thread of the seized @ts, map @p into it at @hint (or anywhere
 * when taken), resume it.  Refused (ULP_FAIL_INPUT, nothing mapped) when
 * a seccomp filter of that thread would not allow every injected
 * syscall, or when the patch cannot be made visible there.  *@base = runtime address of link address 0;
 * res->map_lo/map_hi and res->inject_ns set.  -errno with @res set.
 */
int ulp_map_patch(struct ulp_tset *ts, uint64_t tramp, const struct ulp_patch *p, uint64_t hint,
		  uint64_t *base, struct ulp_result *res);

/* Write @p's relocations into its mapping at @base (@vals: ulp_resolve_relocs). -errno. */
int ulp_relocate(struct ulp_tset *ts, const struct ulp_patch *p, const uint64_t *vals, uint64_t base);

/*
 * Unmap the patch at [@lo, @hi) from the stopped process, but only while
 * it is still there (a mapping of @path inside the range; @pm: the maps,
 * or NULL to read them): after a crash the range may have been unmapped
 * already and reused by someone else.  0 also when it was not there.
 */
int ulp_unmap_patch(struct ulp_tset *ts, const struct procmaps *pm, uint64_t tramp, uint64_t lo, uint64_t hi,
		    const char *path);

#endif
