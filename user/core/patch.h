/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a patch backend reports (backend/backend.h fills these; view/patch.c
 * prints them): the functions a patch replaces, the result of an apply or
 * a revert, and one patch as status sees it.  One set of types for both
 * kinds of patch (ulp: a process; klp: the kernel).
 */
#ifndef PG_CORE_PATCH_H
#define PG_CORE_PATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <patchgate/abi.h>
#include "core/inside.h"

#define PG_BE_MSG_LEN		1024
#define PG_BE_MAX_INSIDE	16	/* blockers or stragglers kept in a result */

enum pg_be_kind {
	PG_BE_ULP = 0,
	PG_BE_KLP,
};

/* What failed; the gate and cmd layers map it to an outcome. */
enum pg_be_fail {
	PG_BE_OK = 0,
	PG_BE_INPUT,		/* bad patch, target or name; nothing changed */
	PG_BE_NO_WINDOW,	/* never found the functions free; nothing changed */
	PG_BE_GONE,		/* the target or the patch went away meanwhile */
	PG_BE_TIMEOUT,		/* a (reverse) transition did not end by its deadline */
	PG_BE_SYSTEM,
};

/* One function a patch replaces, for both kinds. */
struct pg_patch_func {
	char object[256];	/* klp: "vmlinux" or a module; ulp: the patched object */
	char func[128];		/* the old function's name */
	unsigned long sympos;	/* klp: position among equal names (0: unique); ulp: 0 */
	char jump[300];		/* ulp, once applied: "old@0x.. -> new@0x.. (rel32|abs64)" */
};

/* The outcome of open, apply, revert or status. */
struct pg_be_result {
	enum pg_be_fail fail;
	char msg[PG_BE_MSG_LEN];	/* the error, when fail != PG_BE_OK */
	char note[512];		/* open: a warning for the caller to show, "" if none */
	bool partial;		/* apply failed but something may be left applied */
	bool already;		/* apply: already applied; revert: already reverted */
	bool kept_mapped;	/* ulp revert: the code is still referenced, left mapped */
	bool forced;		/* klp revert: the transition was forced; module left loaded */
	bool replace;		/* klp: an atomic-replace patch */
	char name[4096];	/* the patch: ulp its path, klp the module's name */
	char sha256[65];	/* the patch file's SHA-256 (hex), "" when not known */
	char build_id[64];	/* the patch file's own build-id, "" when none */
	bool file_changed;	/* ulp revert: the patch file changed since apply */
	/* ulp stop-the-world: threads, rounds, and where the time went */
	int nthreads, rounds;
	uint64_t pause_ns, max_pause_ns, inject_ns, stop_ns, scan_ns, write_ns, resume_ns;
	uint64_t total_ns;
	uint64_t map_lo, map_hi;	/* ulp: the patch's mapping in the target */
	double transition_s;	/* klp revert: the reverse transition took */
	unsigned int nfuncs;
	struct pg_patch_func funcs[PG_MAX_FUNCS];
	/* ulp: threads that kept the window shut; klp revert: stragglers at the deadline */
	unsigned int ninside;	/* kept, at most PG_BE_MAX_INSIDE */
	struct pg_inside inside[PG_BE_MAX_INSIDE];
};

/* One patch as status sees it. */
struct pg_patch_status {
	int pid;		/* ulp: the process; klp: 0 */
	char patch[4096];
	/* ulp: the journal and what the target's bytes say */
	char journal_state[24];
	const char *actual;	/* "applied", "not-applied", "partial", "foreign" */
	bool consistent;
	char sha256[65], build_id[64];	/* recorded at apply */
	bool file_changed;	/* the patch file differs from (or is gone since) apply */
	double applied_at;
	uint64_t map_lo, map_hi;
	/* klp: the sysfs state */
	bool enabled, transition;
	unsigned int nfuncs;
	struct pg_patch_func funcs[PG_MAX_FUNCS];
	unsigned int ninside, inside_total;	/* klp: transition stragglers */
	struct pg_inside inside[PG_BE_MAX_INSIDE];
};

#endif
