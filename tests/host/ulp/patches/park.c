// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Replaces pg_blockme with a version that parks in the *new* code (and
 * calls libc's usleep): reverting it must keep the patch mapped until the
 * parked thread leaves.
 */
#include <unistd.h>
#include <patchgate/patch.h>

PG_PATCH_TARGET(PG_PATCH_MAIN, "");

extern int block_flag;	/* static atomic_int in the target */
extern int in_block;

PG_PATCH_NEW(int, pg_blockme_v3, (void))
{
	__atomic_store_n(&in_block, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&block_flag, __ATOMIC_SEQ_CST))
		usleep(1000);
	__atomic_store_n(&in_block, 0, __ATOMIC_SEQ_CST);
	return 3;
}

PG_PATCH_FUNC(pg_blockme, pg_blockme_v3);
