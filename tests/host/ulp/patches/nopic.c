// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Failing twin: built with -fno-pic -mcmodel=large (and -z notext to make it link): text relocations. */
#include <patchgate/patch.h>

PG_PATCH_TARGET(PG_PATCH_MAIN, "");

extern int pg_bias;

PG_PATCH_NEW(int, pg_compute_v2, (int x))
{
	return x * 3 + pg_bias;
}

PG_PATCH_FUNC(pg_compute, pg_compute_v2);
