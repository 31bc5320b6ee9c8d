// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Failing twin of good.c: the fix, but every call 50% slower (a latency regression). */
#include <patchgate/patch.h>
#include "demo-patch.h"

PG_PATCH_TARGET(PG_PATCH_MAIN, DEMO_BUILD_ID);

PG_PATCH_NEW(int, compute_answer_slow, (int x))
{
	if (x == DEMO_PARK_INPUT)
		return pg_block();
	if (x < 0)
		return -DEMO_EINVAL;
	pg_busy(75);
	return x * 2;
}

PG_PATCH_FUNC(compute_answer, compute_answer_slow);
