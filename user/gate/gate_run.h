/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live gate: drives the pure state machine (core/gate.h) with real
 * observations and performs its actions through a backend.  One backend
 * per kind of patch (gate_ulp.c, gate_klp.c) fills this table; the driver
 * (gate_run.c) owns the loop, the clock, signals, output and the audit log.
 */
#ifndef PG_GATE_RUN_H
#define PG_GATE_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include "cli/cmds.h"
#include "core/gate.h"

struct gr;

struct gr_backend {
	const char *name;
	enum gate_backend kind;
	/*
	 * Validate the patch and the target, fill gr->nfuncs / gr->fname with
	 * the functions it replaces.  Nothing may change on the target here.
	 * Returns a PG_EXIT_* code (0 to go on) after printing any error.
	 */
	int (*prepare)(struct gr *g);
	/* Attach the baseline probes to the old functions. */
	int (*attach)(struct gr *g);
	/* Current generation's cumulative counters (fn[i].hist points into backend memory). */
	int (*samples)(struct gr *g, struct gate_fn_sample *fn);
	/* Is a window open?  Fill up to GATE_MAX_BLOCKERS blockers, count all in *total. */
	int (*window)(struct gr *g, bool *clear, struct gate_blocker *b, unsigned int *total);
	/*
	 * Apply.  Returns 0 or a negative errno; *partial when something may be
	 * left applied.  Must bump the probe generation and move probes to the
	 * new code itself (a probe and a jump never share bytes).
	 */
	int (*apply)(struct gr *g, bool *partial);
	/* klp only: transition progress; NULL for instant backends. */
	int (*transition)(struct gr *g, bool *done, struct gate_blocker *b, unsigned int *total);
	/* BUMP_GENERATION after a transition (klp); NULL when apply already bumped. */
	int (*bump)(struct gr *g);
	/* Revert (and, for klp, wait for the reverse transition and unload). */
	int (*revert)(struct gr *g);
	/* > 0: the target died (process) ; 0 alive. */
	int (*died)(struct gr *g, int *status);
	/* Kernel taint mask now and new WARNs since last call; NULL for processes. */
	int (*taint)(struct gr *g, uint64_t *mask, unsigned int *new_warns);
	/* Residency of hung calls, for naming them: fill blockers. */
	int (*stuck)(struct gr *g, struct gate_blocker *b, unsigned int *total);
	void (*cleanup)(struct gr *g);
};

struct gr {
	struct pg_cli *cli;
	const struct pg_apply_opts *o;
	const struct gr_backend *be;
	struct pg_policy pol;
	unsigned int nfuncs;
	char fname[PG_MAX_FUNCS][GATE_NAME_LEN];
	const char *patch_name;		/* for records: basename of the patch */
	bool applied;			/* the backend applied something */
	bool no_window;			/* apply found no instant free of the functions */
	void *priv;			/* backend state */
};

extern const struct gr_backend gr_ulp_backend;
extern const struct gr_backend gr_klp_backend;

#endif
