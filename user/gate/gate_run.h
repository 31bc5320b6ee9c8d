/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live gate: drives the pure state machine (core/gate.h) with real
 * observations (gate_observe.c, the same for every kind of target) and
 * performs its actions through the patch backend (backend/backend.h,
 * called from gate_patch.c).  Each kind (gate_ulp.c, gate_klp.c) says
 * where its patch's functions are; the driver (gate_run.c) owns the loop,
 * the clock, signals, output and the audit log.
 */
#ifndef PG_GATE_RUN_H
#define PG_GATE_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include "gate/opts.h"
#include "backend/backend.h"
#include "core/gate.h"

struct gr;
struct gate_live;

/*
 * A kind of target: its patch backend (apply, transition, revert, health
 * through pg_backend_ops, glued in gate_patch.c) and where the patch's
 * functions are for the observation (gate_observe.c, the same for every
 * kind).
 */
struct gr_backend {
	const char *name;
	enum gate_backend kind;
	const struct pg_backend_ops *ops;
	/*
	 * Fill g->fspec, g->new_fspec and g->new_code for the functions
	 * gate_patch_open() found (g->nfuncs, g->fname).  Nothing attached.
	 * Returns a PG_EXIT_* code (0 to go on) after printing any error.
	 */
	int (*where)(struct gr *g);
};

struct gr {
	struct pg_ctx *ctx;
	const struct pg_apply_opts *o;
	const struct gr_backend *be;
	struct pg_policy pol;
	unsigned int nfuncs;
	char fname[PG_MAX_FUNCS][GATE_NAME_LEN];
	const char *patch_name;		/* for records: basename of the patch */
	char sha256[65], build_id[64];	/* for records: the patch file's, from open */
	bool applied;			/* the backend applied something */
	bool no_window;			/* apply found no instant free of the functions */
	bool record_failed;		/* an audit or phase write failed: stop, exit 5 */
	bool observe_failed;		/* the probes' maps failed the observation: stop, exit 5 */
	char note[160];			/* be->where: why functions go untimed, for the records */
	/*
	 * Where the functions are, for the observation (gate_observe.h), set
	 * by be->where as heap strings that gate_observe_close() frees.
	 * fspec[i]: the replaced function i as probe_target__resolve() takes
	 * it.  new_fspec[i]: its replacement, when the probes must move there
	 * at apply (NULL: they stay).  new_code: the object whose code a
	 * patched call runs (the patch file, the patch module).
	 */
	char *fspec[PG_MAX_FUNCS];
	char *new_fspec[PG_MAX_FUNCS];
	char *new_code;
	/*
	 * Replaced functions the probes cannot time safely (a kernel
	 * function without fentry: gate_klp.c), as fspec: out of fname and
	 * the verdict, but their stacks are still scanned (the window's
	 * blockers, the transition's stragglers).
	 */
	unsigned int nscan_only;
	char *scan_only[PG_MAX_FUNCS];
	/*
	 * Sibling control (--control-pid): the replaced functions probed in
	 * an unpatched process of the same binary; controls after the
	 * policy's, in the order of fname.
	 */
	bool control_auto;	/* control = auto: the policy's controls were chosen here */
	unsigned int nsib;
	int sib_pid;		/* the sibling (--control-pid, or found by build-id), or 0 */
	char sibname[PG_MAX_FUNCS][GATE_NAME_LEN];
	struct gate_observe *obs;	/* gate_observe.c's state */
	struct pg_backend *pb;		/* the open patch (gate_patch.c) */
	struct gate_live *live;		/* the live model and control socket, or NULL (gate/live.h) */
	bool live_failed;		/* a publish failed: said once */
	uint64_t taint_fed;		/* the taint mask last fed to the gate */
};

/* gate_patch.c: the gate's calls through be->ops; each prints its own errors. */
int gate_be_exit(enum pg_be_fail f);
int gate_patch_open(struct gr *g);
int gate_patch_apply(struct gr *g, bool *partial);
int gate_patch_transition(struct gr *g, bool *done, struct pg_inside *b, unsigned int *total);
int gate_patch_revert(struct gr *g);
int gate_patch_health(struct gr *g, struct pg_health *h);
void gate_patch_close(struct gr *g);

extern const struct gr_backend gr_ulp_backend;
extern const struct gr_backend gr_klp_backend;

#endif
