// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Failing twin of good.c: built for another build of the target. */
#include <patchgate/patch.h>

PG_PATCH_TARGET(PG_PATCH_MAIN, "0011223344556677889900112233445566778899");

PG_PATCH_NEW(int, pg_compute_v2, (int x))
{
	return x * 3 + 1000000;
}

PG_PATCH_FUNC(pg_compute, pg_compute_v2);
