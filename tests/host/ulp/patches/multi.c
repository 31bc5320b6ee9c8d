// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Two functions in one patch: pg_compute (as good.c) and pg_blockme. */
#include <patchgate/patch.h>

PG_PATCH_TARGET(PG_PATCH_MAIN, "");

extern int helper_add(int a, int b);
extern int pg_bias;

PG_PATCH_NEW(int, pg_compute_v2, (int x))
{
	return helper_add(x * 3, pg_bias);
}

PG_PATCH_NEW(int, pg_blockme_v2, (void))
{
	return 2;
}

PG_PATCH_FUNC(pg_compute, pg_compute_v2);
PG_PATCH_FUNC(pg_blockme, pg_blockme_v2);
