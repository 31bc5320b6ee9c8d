/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ulp journal: what patchgate has done to one process, kept under the
 * state directory as ulp-PID-STARTTIME.json (so a recycled pid never
 * matches), replaced atomically (write, fsync, rename, fsync dir).  It
 * holds the saved bytes, so status and revert work from a new process and
 * after a crash.  Operations on one process serialise on
 * STATE_DIR/ulp-PID-STARTTIME.lock (removed with the journal).
 */
#ifndef PG_BACKEND_ULP_JOURNAL_H
#define PG_BACKEND_ULP_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#define ULP_JMAX 16		/* bytes saved per function */

struct ulp_jfunc {
	char old_sym[128], new_sym[128];
	uint64_t old_addr, old_size, new_addr;
	int len;		/* bytes written at old_addr */
	uint8_t old_bytes[ULP_JMAX], new_bytes[ULP_JMAX];
};

/* state: "applying" (intent written, jumps may or may not be in),
 * "applied", "reverting", "reverted-mapped" (jumps out, code kept mapped). */
struct ulp_jpatch {
	char patch[4096];
	char build_id[64];
	char object[4096];
	char state[24];
	double applied_at;	/* CLOCK_REALTIME seconds */
	uint64_t map_lo, map_hi;
	struct ulp_jfunc *f;
	int nf;
};

struct ulp_journal {
	int pid;
	unsigned long long starttime;
	char path[4200];
	int lockfd;
	struct ulp_jpatch *p;
	int np;
};

/* Start time of @pid (clock ticks since boot, /proc/PID/stat field 22); -ESRCH. */
int ulp_proc_starttime(int pid, unsigned long long *out);

/*
 * Load the journal of @pid from @dir (creating @dir), holding the lock
 * when @lock.  A missing file is an empty journal.  -errno.
 */
int ulp_journal__open(const char *dir, int pid, bool lock, struct ulp_journal **out);
/* Write it back atomically (removes the file when it lists nothing). */
int ulp_journal__save(struct ulp_journal *j);
/* Append an entry (copied); returns it, or NULL on ENOMEM. */
struct ulp_jpatch *ulp_journal__add(struct ulp_journal *j, const struct ulp_jpatch *p);
void ulp_journal__del(struct ulp_journal *j, int idx);
void ulp_journal__free(struct ulp_journal *j);

#endif
