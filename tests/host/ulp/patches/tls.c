// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Failing twin: uses a thread-local variable (DTPMOD64/DTPOFF64 relocations). */
#include <patchgate/patch.h>

PG_PATCH_TARGET(PG_PATCH_MAIN, "");

__thread int calls;

PG_PATCH_NEW(int, pg_compute_v2, (int x))
{
	calls++;
	return x * 3 + 1000000;
}

PG_PATCH_FUNC(pg_compute, pg_compute_v2);
