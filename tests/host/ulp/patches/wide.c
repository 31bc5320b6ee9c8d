// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Ten functions in one patch: pg_wide0..9 (ulp-target.c), each returning x + 100 + n. */
#include <patchgate/patch.h>

PG_PATCH_TARGET(PG_PATCH_MAIN, "");

#define WIDE(n)								\
	PG_PATCH_NEW(int, pg_wide##n##_v2, (int x)) { return x + 100 + n; }	\
	PG_PATCH_FUNC(pg_wide##n, pg_wide##n##_v2)

WIDE(0);
WIDE(1);
WIDE(2);
WIDE(3);
WIDE(4);
WIDE(5);
WIDE(6);
WIDE(7);
WIDE(8);
WIDE(9);
