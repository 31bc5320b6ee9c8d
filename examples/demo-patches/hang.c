// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Failing twin of good.c: the fix, but a call with input 42 never returns. */
#include <patchgate/patch.h>
#include "demo-patch.h"

PG_PATCH_TARGET(PG_PATCH_MAIN, DEMO_BUILD_ID);

PG_PATCH_NEW(int, compute_answer_hang, (int x))
{
	if (x == DEMO_PARK_INPUT)
		return pg_block();
	if (x < 0)
		return -DEMO_EINVAL;
	while (x == 42)		/* a lost wake-up, say */
		pg_sleep(100000);
	pg_busy(50);
	return x * 2;
}

PG_PATCH_FUNC(compute_answer, compute_answer_hang);
