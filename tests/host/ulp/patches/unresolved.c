// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Failing twin: calls a function no loaded object defines. */
#include <patchgate/patch.h>

PG_PATCH_TARGET(PG_PATCH_MAIN, "");

extern int pg_nowhere(int);

PG_PATCH_NEW(int, pg_compute_v2, (int x))
{
	return pg_nowhere(x);
}

PG_PATCH_FUNC(pg_compute, pg_compute_v2);
