/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Stop the world: stop every thread of the target, run the conservative
 * scan (no PC, and no word of any stack, inside a function being
 * replaced), write the jumps while all are stopped, resume; when a thread
 * blocks the window, resume and retry with backoff until max_wait.
 */
#ifndef PG_BACKEND_ULP_STOP_H
#define PG_BACKEND_ULP_STOP_H

#include <stdbool.h>
#include <stdint.h>
#include "backend/ulp/ulp.h"

struct procmaps;
struct ulp_jpatch;
struct ulp_tset;

/* An address range the scan looks for; (lo, hi) exclusive at both ends. */
struct ulp_range {
	uint64_t lo, hi;
	const char *name;
};

/* What one stop-the-world operation writes, and keeps between rounds. */
struct ulp_write_ctx {
	struct procmaps *pm;	/* /proc/PID/maps, read before the threads stop */
	const struct ulp_jpatch *jp;
	bool to_new;		/* write the jumps (apply) or the saved bytes (revert) */
	uint64_t unmap_lo, unmap_hi, tramp;	/* revert: unmap when unreferenced */
	struct ulp_result *res;
	int write_err;
	uint64_t inj_wait_ns;	/* ulp_unmap_when_free: how long its munmap may take */
};

/* The old functions of @jp as ranges (entry excluded); -ENOMEM. */
int ulp_build_ranges(const struct ulp_jpatch *jp, struct ulp_range **out);

/*
 * Stop-the-world rounds: stop all, scan @r; when clear, write @wc's bytes
 * (all threads stopped) and detach.  Else resume and retry with backoff
 * until @deadline (CLOCK_MONOTONIC ns), which also bounds each stop.
 * Returns 0, -EAGAIN (no window: threads left stopped for the caller to
 * clean up and detach), -ETIMEDOUT (a thread could not be stopped: marked
 * late, the others stopped), -errno.
 * Fills the timings and blockers of @res.
 */
int ulp_stop_world(struct ulp_tset *ts, const struct ulp_range *r, int nr, uint64_t deadline,
		   struct ulp_write_ctx *wc, struct ulp_result *res);

/* Does any stopped thread's PC or stack refer to [lo, hi)?  Count, or -errno. */
int ulp_referenced(struct ulp_tset *ts, struct procmaps **pm, uint64_t lo, uint64_t hi,
		   struct ulp_result *res);

/* Fill in the comm of every blocker in @res (once the threads run again). */
void ulp_name_blockers(int pid, struct ulp_result *res);

/*
 * After a revert whose stop found the patch still referenced: stop the
 * world again a few times (1 ms, doubling, at most 1 s or @deadline) and
 * unmap it once nothing refers to it.  True when unmapped.
 */
bool ulp_unmap_when_free(int pid, struct ulp_write_ctx *wc, uint64_t deadline, struct ulp_result *res);

#endif
