// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Failing twin: replaces a function the target does not have. */
#include <patchgate/patch.h>

PG_PATCH_TARGET(PG_PATCH_MAIN, "");

PG_PATCH_NEW(int, pg_compute_v2, (int x))
{
	return x * 3 + 1000000;
}

PG_PATCH_FUNC(pg_compute_misspelt, pg_compute_v2);
