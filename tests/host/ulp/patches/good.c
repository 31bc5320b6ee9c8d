// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The good patch: pg_compute(x) becomes 3x + pg_bias, through two of the target's statics. */
#include <patchgate/patch.h>

#ifndef TARGET_BUILD_ID
#define TARGET_BUILD_ID ""
#endif

PG_PATCH_TARGET(PG_PATCH_MAIN, TARGET_BUILD_ID);

extern int helper_add(int a, int b);	/* static in the target */
extern int pg_bias;			/* static in the target */

PG_PATCH_NEW(int, pg_compute_v2, (int x))
{
	return helper_add(x * 3, pg_bias);
}

PG_PATCH_FUNC(pg_compute, pg_compute_v2);
