/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Validate an apply before anything in the target is touched: the target
 * (exists, not us, not traced), the patch, the object and its build-id,
 * the journal, every old function (found, long enough, unmodified, not
 * replaced already), the relocations, and where the patch will go.
 */
#ifndef PG_BACKEND_ULP_VALIDATE_H
#define PG_BACKEND_ULP_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>
#include "backend/ulp/ulp.h"
#include "backend/ulp/ulp_journal.h"

struct sym_proc;
struct ulp_patch;

/* Everything validation found, for the phases after it. */
struct ulp_plan {
	struct ulp_patch *p;
	struct sym_proc *sp;
	struct ulp_journal *j;	/* locked */
	int memfd;		/* /proc/PID/mem, read-only */
	int obj;		/* the patched object in sp */
	const char *objpath;
	struct ulp_jpatch jp;	/* the journal entry to be: functions and saved bytes */
	uint64_t lo, hi;	/* span of the old functions */
	uint64_t *rel_vals;	/* ulp_resolve_relocs() */
	uint64_t hint, tramp;	/* ulp_place() */
};

/*
 * The patch file before anything reads it (lib/trust.h): nobody but root
 * and the invoking user can change it or a directory above it; its
 * SHA-256 into @sha256; its signature as o->trust asks.  -errno with @res
 * set (ULP_FAIL_INPUT).
 */
int ulp_validate_trust(const char *path, const struct ulp_opts *o, char sha256[65], struct ulp_result *res);

/* True when the patch file of @jp is gone or differs from its SHA-256 at apply (@now: its digest now). */
bool ulp_file_changed(const struct ulp_jpatch *jp, char now[65]);

/*
 * At revert: the digest and build-id the journal recorded into @res, and
 * res->file_changed with a note when the file changed since apply.  The
 * revert goes on: it works from the journal's saved bytes and mapping,
 * never from the file.
 */
void ulp_validate_recorded(const struct ulp_jpatch *jp, struct ulp_result *res);

/* The first thread of @pid traced by a process other than patchgate: -EBUSY with *tid, *tracer; else 0. */
int ulp_traced_thread(int pid, int *tid, int *tracer);

/* The target must exist, not be us, and no thread of it be traced by anyone.  -errno with @res set. */
int ulp_validate_target(int pid, struct ulp_result *res);

/*
 * Validate applying @patch_path to @pid into @pl (zeroed by the caller,
 * memfd -1).  Returns 0 (go on), 1 (already applied: @res says so), or
 * -errno with @res set.  ulp_plan_release() in every case.
 */
int ulp_validate(struct ulp_plan *pl, int pid, const char *patch_path, const struct ulp_opts *o,
		 struct ulp_result *res);
void ulp_plan_release(struct ulp_plan *pl);

#endif
