// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The security fix for demo-service: compute_answer() must reject a
 * negative input with -EINVAL instead of answering it.  Same cost otherwise.
 * Build: see examples/Makefile (cc -O2 -fPIC -shared -Iinclude ...).
 */
#include <patchgate/patch.h>
#include "demo-patch.h"

PG_PATCH_TARGET(PG_PATCH_MAIN, DEMO_BUILD_ID);

PG_PATCH_NEW(int, compute_answer_fixed, (int x))
{
	if (x == DEMO_PARK_INPUT)
		return pg_block();
	if (x < 0)
		return -DEMO_EINVAL;
	pg_busy(50);
	return x * 2;
}

PG_PATCH_FUNC(compute_answer, compute_answer_fixed);
