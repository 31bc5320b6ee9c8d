/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The gate's observation, one implementation for every kind of patch: the
 * probe engine counts the replaced functions' calls, a residency source
 * finds who is inside them (the window) or inside the patch's code (a
 * hang).  It works from what the backend's prepare put in struct gr:
 * fspec, new_fspec and new_code (gate_run.h).
 *
 * Around the backend's apply the driver calls gate_observe_before_apply()
 * and gate_observe_after_apply(): probes that must move to the new
 * functions (new_fspec set: a probe and a jump never share bytes) are
 * detached first, and afterwards either attached to the new functions in a
 * new generation or, when the apply failed, put back on the old ones.
 * Before the backend's revert, gate_observe_before_revert() detaches
 * probes that moved.
 */
#ifndef PG_GATE_OBSERVE_H
#define PG_GATE_OBSERVE_H

#include <stdbool.h>
#include "core/gate.h"

struct gr;

/* GATE_ACT_ATTACH_PROBES: resolve, attach, open the residency.  A PG_EXIT_* code. */
int gate_observe_open(struct gr *g);
/* The current generation's cumulative counters; a map read failure is an error (-errno). */
int gate_observe_samples(struct gr *g, struct gate_fn_sample *fn);
/*
 * Is a window open?  Fills up to GATE_MAX_BLOCKERS blockers, counts all in
 * *total.  A resident blocks once seen in as many consecutive scans as the
 * residency source asks (probe_resid__confirm_scans).
 */
int gate_observe_window(struct gr *g, bool *clear, struct pg_inside *b, unsigned int *total);
/* Who is inside the patch's code (else the replaced functions): names a hang. */
int gate_observe_stuck(struct gr *g, struct pg_inside *b, unsigned int *total);
/* GATE_ACT_BUMP_GENERATION: a no-op when the apply already started one. */
int gate_observe_bump(struct gr *g);
void gate_observe_before_apply(struct gr *g);
/*
 * @err: the backend apply's result (0 when applied).  Returns 0, or a
 * negative errno when the new generation cannot be started (a system
 * error; a probe that cannot be put on a new function is only a warning).
 */
int gate_observe_after_apply(struct gr *g, int err);
void gate_observe_before_revert(struct gr *g);
/* Detach and free everything, and the specs in struct gr; accepts a gate never opened. */
void gate_observe_close(struct gr *g);

#endif
