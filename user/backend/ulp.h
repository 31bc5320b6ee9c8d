/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ulp backend: userspace live patches applied by patchgate itself.
 * ulp_apply / ulp_revert / ulp_status are the operations; the gate calls
 * them, and user/backend/ulp_cmd.c wraps them for `--no-gate`.
 */
#ifndef PG_BACKEND_ULP_H
#define PG_BACKEND_ULP_H

#include <stdbool.h>
#include <stdint.h>

#define ULP_MAX_BLOCKERS 16

struct ulp_opts {
	const char *state_dir;	/* journal directory */
	double max_wait_s;	/* give up waiting for a clear stack scan; <= 0: 10 s */
};

struct ulp_blocker {
	int tid;
	char comm[32];
	char func[128];		/* the function found */
	bool at_pc;		/* PC in it (else: a stack word) */
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
	char funcs[8][300];	/* "old -> new (rel32|abs64)" */
	struct ulp_blocker blockers[ULP_MAX_BLOCKERS];
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

/* One journal entry checked against the target's bytes, for ulp_status. */
struct ulp_status_ent {
	char patch[4096];
	char journal_state[24];
	const char *actual;	/* "applied", "not-applied", "partial", "foreign" */
	bool consistent;
	double applied_at;
	uint64_t map_lo, map_hi;
	int nfuncs;
	char funcs[8][300];
};

/*
 * The patches the journal lists for @pid, each checked against memory.
 * *out is malloc'ed; *n may be 0.  -ESRCH when the process is gone.
 */
int ulp_status(int pid, const struct ulp_opts *o, struct ulp_status_ent **out, int *n);

#endif
