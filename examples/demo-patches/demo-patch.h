/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the demo patches share: the target's functions they call, and constants. */
#ifndef DEMO_PATCH_H
#define DEMO_PATCH_H

#ifndef DEMO_BUILD_ID
#define DEMO_BUILD_ID ""	/* the Makefile pins demo-service's build-id */
#endif

#define DEMO_PARK_INPUT (-1000000)
#define DEMO_EINVAL 22
#define DEMO_EIO 5

/* demo-service's own functions, resolved by patchgate at apply time */
extern long pg_busy(unsigned us);
extern int pg_sleep(unsigned us);
extern int pg_block(void);

#endif
