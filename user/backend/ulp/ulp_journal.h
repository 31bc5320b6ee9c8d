/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ulp journal: what patchgate has done to one process, kept under the
 * state directory as ulp-PID-STARTTIME.json (so a recycled pid never
 * matches), replaced atomically (write, fsync, rename, fsync dir).
 * Every file is opened relative to the checked state directory
 * (lib/statedir.h) and never through a symbolic link.  It
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

/*
 * Where one patch stands in the journal.  On disk as its name (the names
 * are the journal format: never rename one); an unknown name makes the
 * journal unreadable rather than guessed at.
 */
enum ulp_jstate {
	ULP_J_APPLYING,		/* intent written, jumps may or may not be in */
	ULP_J_APPLIED,
	ULP_J_REVERTING,	/* intent written, jumps may or may not be out */
	ULP_J_REVERTED_MAPPED,	/* jumps out, code kept mapped (still referenced) */
	ULP_J__COUNT,
};

/* "applying", "applied", "reverting", "reverted-mapped". */
const char *ulp_jstate_name(enum ulp_jstate s);
/* The state named @name; -EBADMSG for an unknown name. */
int ulp_jstate_parse(const char *name, enum ulp_jstate *out);

struct ulp_jpatch {
	char patch[4096];
	char build_id[64];	/* the patch's own build-id */
	char sha256[65];	/* of the patch file at apply (hex; "" in journals from before) */
	char object[4096];
	enum ulp_jstate state;
	double applied_at;	/* CLOCK_REALTIME seconds */
	uint64_t map_lo, map_hi;
	struct ulp_jfunc *f;
	int nf;
};

struct ulp_journal {
	int pid;
	unsigned long long starttime;
	char path[4200];	/* for messages: STATE_DIR/name */
	char name[64];		/* ulp-PID-STARTTIME.json */
	int dirfd;		/* the state directory (lib/statedir.h) */
	int lockfd;
	struct ulp_jpatch *p;
	int np;
};

/*
 * Load the journal of @pid from @dir (creating @dir 0700; -EPERM when
 * another user could write it), holding the lock when @lock.  A missing
 * file is an empty journal; a symbolic link there is -ELOOP.  -errno.
 */
int ulp_journal__open(const char *dir, int pid, bool lock, struct ulp_journal **out);
/* Write it back atomically (removes the file when it lists nothing). */
int ulp_journal__save(struct ulp_journal *j);
/* Append an entry (copied); returns it, or NULL on ENOMEM. */
struct ulp_jpatch *ulp_journal__add(struct ulp_journal *j, const struct ulp_jpatch *p);
void ulp_journal__del(struct ulp_journal *j, int idx);
/* Index of the newest entry for @patch (NULL: the newest of all), or -1. */
int ulp_journal__find(const struct ulp_journal *j, const char *patch);
void ulp_journal__free(struct ulp_journal *j);

#endif
