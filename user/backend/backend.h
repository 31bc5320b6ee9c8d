/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One interface to both kinds of live patch.  A backend (ulp: a process
 * patched through ptrace; klp: a kernel livepatch module) fills one
 * struct pg_backend_ops; the gated apply (gate/gate_run.c) and the ungated
 * apply, revert and status (gate/plain.c) call only through it.
 *
 * Errors: every operation returns 0 or a negative errno and, on failure,
 * fills the caller's struct pg_be_result: what failed (enum pg_be_fail)
 * and a one-line message.  Backends never print and know no thresholds:
 * every deadline is a parameter.
 */
#ifndef PG_BACKEND_H
#define PG_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <patchgate/abi.h>
#include "core/patch.h"
#include "lib/trust.h"

/* How to open a patch. */
struct pg_backend_opts {
	int pid;		/* ulp: the target process */
	/*
	 * apply: the patch file (PATCH.so, MODULE.ko).  revert: ulp the patch
	 * file or NULL for the newest; klp the patch's (module's) name.
	 */
	const char *patch;
	bool for_revert;	/* open an applied patch to revert it */
	const char *state_dir;	/* ulp journal directory */
	double max_wait_s;	/* ulp apply: wait for a clear stack scan (<= 0: 10 s) */
	bool force;		/* klp revert: force a stalled reverse transition */
	struct pg_trust_opts trust;	/* apply: the patch file's signature policy */
	const char *params;	/* klp apply: module parameters, NULL or "" for none */
	/*
	 * klp apply of an atomic-replace patch, for a caller that may revert
	 * it after its transition completed (the gate): the patch it replaces
	 * must be restorable from its module file, this one (NULL: the file
	 * patchgate loaded it from, recorded in state_dir), or open refuses.
	 */
	bool restore_replaced;
	const char *previous;
};

/* Transition progress (klp; ulp is done at once). */
struct pg_progress {
	bool done;
	bool enabled;		/* klp: the patch is enabled (false: unpatching) */
	unsigned int total;	/* tasks not yet switched */
	unsigned int n;		/* kept in the caller's array */
};

/* The target's health, for the gate. */
struct pg_health {
	bool died;		/* ulp: the process exited */
	int status;		/* its exit status when known */
	uint64_t taint;		/* klp: /proc/sys/kernel/tainted */
	unsigned int new_warns;	/* klp: WARNs since the previous call (or open) */
};

struct pg_backend;

struct pg_backend_ops {
	const char *name;	/* "ulp", "klp": the records' "kind" */
	enum pg_be_kind kind;
	/*
	 * Validate the patch and the target; changes nothing.  *out is freed
	 * with close.  With o->for_revert, only checks there is something to
	 * revert.
	 */
	int (*open)(const struct pg_backend_opts *o, struct pg_backend **out, struct pg_be_result *r);
	/* The functions the patch replaces, up to @max; returns the count. */
	int (*functions)(struct pg_backend *b, struct pg_patch_func *f, unsigned int max);
	/* Apply.  On failure r->partial says whether something may be left applied. */
	int (*apply)(struct pg_backend *b, struct pg_be_result *r);
	/*
	 * Transition progress since apply (or revert): not blocking.  Up to
	 * @max not-yet-switched tasks into @s (@max 0: none named, cheaper).
	 * -ENOENT with r set when the patch went away or was disabled.
	 */
	int (*transition)(struct pg_backend *b, struct pg_progress *p, struct pg_inside *s,
			  unsigned int max, struct pg_be_result *r);
	/*
	 * Revert: ulp restores the bytes (waiting up to @timeout_s for a clear
	 * scan); klp disables, waits up to @timeout_s for the reverse
	 * transition (forcing it then with opts.force), and unloads.
	 */
	int (*revert)(struct pg_backend *b, double timeout_s, struct pg_be_result *r);
	/* The patches of o->pid (0: every process in the journal) or of the kernel. */
	int (*status)(const struct pg_backend_opts *o, struct pg_patch_status **out, int *n,
		      struct pg_be_result *r);
	/* Health of the target now. */
	int (*health)(struct pg_backend *b, struct pg_health *h);
	/* Accepts NULL. */
	void (*close)(struct pg_backend *b);
};

/* Set r->fail and r->msg (one line); returns @err, a negative errno. */
int pg_be_fail(struct pg_be_result *r, enum pg_be_fail f, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

extern const struct pg_backend_ops pg_ulp_ops;
extern const struct pg_backend_ops pg_klp_ops;

#endif
