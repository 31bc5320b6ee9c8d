// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A harmless patch: exactly the old behaviour, for the false-revert check. */
#include <patchgate/patch.h>
#include "demo-patch.h"

PG_PATCH_TARGET(PG_PATCH_MAIN, DEMO_BUILD_ID);

PG_PATCH_NEW(int, compute_answer_same, (int x))
{
	if (x == DEMO_PARK_INPUT)
		return pg_block();
	pg_busy(50);
	return x * 2;
}

PG_PATCH_FUNC(compute_answer, compute_answer_same);
