// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Failing twin: pg_tiny is one byte long, shorter than any jump. */
#include <patchgate/patch.h>

PG_PATCH_TARGET(PG_PATCH_MAIN, "");

PG_PATCH_NEW(void, pg_tiny_v2, (void))
{
}

PG_PATCH_FUNC(pg_tiny, pg_tiny_v2);
