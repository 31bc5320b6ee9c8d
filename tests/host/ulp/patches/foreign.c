// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Failing twin: what a hostile root puts at the patch's path inside a
 * chroot or a mount namespace.  pg_compute(x) becomes 3x + 666: if the
 * target ever answers that, it runs code patchgate never validated.
 */
#include <patchgate/patch.h>

PG_PATCH_TARGET(PG_PATCH_MAIN, "");

PG_PATCH_NEW(int, pg_compute_v2, (int x))
{
	return x * 3 + 666;
}

PG_PATCH_FUNC(pg_compute, pg_compute_v2);
