// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Failing twin of good.c: the fix, but one valid call in five fails with -EIO. */
#include <patchgate/patch.h>
#include "demo-patch.h"

PG_PATCH_TARGET(PG_PATCH_MAIN, DEMO_BUILD_ID);

static unsigned long calls;

PG_PATCH_NEW(int, compute_answer_erroring, (int x))
{
	if (x == DEMO_PARK_INPUT)
		return pg_block();
	if (x < 0)
		return -DEMO_EINVAL;
	pg_busy(50);
	if (__atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED) % 5 == 4)
		return -DEMO_EIO;
	return x * 2;
}

PG_PATCH_FUNC(compute_answer, compute_answer_erroring);
