// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Failing twin: a patch for a library the target does not map. */
#include <patchgate/patch.h>

PG_PATCH_TARGET("libnot-mapped-here.so.1", "");

PG_PATCH_NEW(int, pg_compute_v2, (int x))
{
	return x * 3 + 1000000;
}

PG_PATCH_FUNC(pg_compute, pg_compute_v2);
