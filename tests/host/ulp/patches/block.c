// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Replaces pg_blockme, where the blocker thread sleeps. */
#include <patchgate/patch.h>

PG_PATCH_TARGET(PG_PATCH_MAIN, "");

PG_PATCH_NEW(int, pg_blockme_v2, (void))
{
	return 2;
}

PG_PATCH_FUNC(pg_blockme, pg_blockme_v2);
