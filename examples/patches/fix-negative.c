// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * docs/patch-authoring.md's worked example: demo-service's compute_answer()
 * answers a negative input (2x) where it must reject it with -EINVAL.
 *
 * Build (one command, from the repository root):
 *   cc -O2 -fPIC -shared -Iinclude -o fix-negative.so examples/patches/fix-negative.c
 * or `make -C examples/patches`, which also pins the service's build-id.
 */
#include <errno.h>
#include <patchgate/patch.h>

#ifndef DEMO_BUILD_ID
#define DEMO_BUILD_ID ""	/* any build of demo-service */
#endif

/* the patched object: the main executable, optionally one exact build */
PG_PATCH_TARGET(PG_PATCH_MAIN, DEMO_BUILD_ID);

/* demo-service's own functions: left undefined here, resolved at apply time */
extern int pg_block(void);
extern long pg_busy(unsigned us);

#define PARK_INPUT (-1000000)	/* as in demo-service.c */

/* the new compute_answer(): same contract, negative inputs rejected */
PG_PATCH_NEW(int, compute_answer_v2, (int x))
{
	if (x == PARK_INPUT)
		return pg_block();
	if (x < 0)
		return -EINVAL;
	pg_busy(50);
	return x * 2;
}

PG_PATCH_FUNC(compute_answer, compute_answer_v2);
