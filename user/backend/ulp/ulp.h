/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ulp backend: userspace live patches applied by patchgate itself.
 * ulp_apply / ulp_revert / ulp_status are the operations; the gate calls
 * them through pg_ulp_ops (ulp_ops.c, backend.h).
 */
#ifndef PG_BACKEND_ULP_H
#define PG_BACKEND_ULP_H

#include <stdbool.h>
#include <stdint.h>
#include <patchgate/abi.h>
#include "core/inside.h"
#include "lib/trust.h"

#define ULP_MAX_BLOCKERS 16

struct ulp_opts {
	const char *state_dir;	/* journal directory */
	double max_wait_s;	/* give up waiting for a clear stack scan; <= 0: 10 s */
	struct pg_trust_opts trust;	/* apply: the patch file's signature policy */
};

enum ulp_fail {
	ULP_OK = 0,
	ULP_FAIL_INPUT,		/* bad input or untraceable target; nothing changed */
	ULP_FAIL_WINDOW,	/* no clear stack scan within max_wait; nothing changed */
	ULP_FAIL_GONE,		/* the target exited meanwhile */
	ULP_FAIL_SYSTEM,
};

struct ulp_result {
	enum ulp_fail fail;
	char msg[1024];		/* the error, when fail != ULP_OK */
	char note[512];		/* a warning that did not stop it, "" if none */
	char sha256[65];	/* the patch file's, at apply (revert: as the journal has it) */
	char build_id[64];	/* the patch's own build-id */
	bool file_changed;	/* revert: the patch file differs from (or is gone since) apply */
	bool already;		/* apply: already applied; revert: already reverted */
	bool kept_mapped;	/* revert: code still referenced, left mapped */
	int nthreads;
	int rounds;		/* stop-the-world attempts */
	uint64_t pause_ns;	/* last round: first interrupt to last resume */
	uint64_t max_pause_ns;	/* longest round */
	uint64_t inject_ns;	/* mapping the patch (one thread stopped) */
	/* the last round, split: interrupt+wait+getregs, scan, write, resume */
	uint64_t stop_ns, scan_ns, write_ns, resume_ns;
	uint64_t total_ns;
	uint64_t map_lo, map_hi;
	int nfuncs;
	char funcs[PG_MAX_FUNCS][300];	/* "old@addr -> new@addr (rel32|abs64)" */
	struct pg_inside blockers[ULP_MAX_BLOCKERS];	/* tid, comm, func; PG_INSIDE_AT_PC */
	int nblockers;
};

/*
 * Apply the patch at @patch_path to @pid: validate everything first, map
 * the patch file-backed, resolve its relocations, then stop the world,
 * scan, and write the jumps, retrying until max_wait.  Returns 0 (also
 * when already applied: res->already) or a negative errno with res->fail
 * and res->msg set.
 */
int ulp_apply(int pid, const char *patch_path, const struct ulp_opts *o, struct ulp_result *res);

/* Revert @patch_path (NULL: the newest) in @pid; same contract. */
int ulp_revert(int pid, const char *patch_path, const struct ulp_opts *o, struct ulp_result *res);

/* True when the mapped object at @path is the one a patch names (@want: a path or a soname). */
bool ulp_obj_name_matches(const char *path, const char *want);

/* One journal entry checked against the target's bytes, for ulp_status. */
struct ulp_status_ent {
	char patch[4096];
	char journal_state[24];
	const char *actual;	/* "applied", "not-applied", "partial", "foreign" */
	bool consistent;
	char sha256[65], build_id[64];	/* recorded at apply */
	bool file_changed;	/* the patch file differs from (or is gone since) apply */
	double applied_at;
	uint64_t map_lo, map_hi;
	int nfuncs;
	char funcs[PG_MAX_FUNCS][300];
};

/*
 * The patches the journal lists for @pid, each checked against memory.
 * *out is malloc'ed; *n may be 0.  -ESRCH when the process is gone.
 */
int ulp_status(int pid, const struct ulp_opts *o, struct ulp_status_ent **out, int *n);

#endif
