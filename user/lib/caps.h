/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The capabilities this process holds (capget(2), the effective set),
 * so that a command can say up front which one it lacks instead of
 * failing later in a syscall with EPERM.
 */
#ifndef PG_LIB_CAPS_H
#define PG_LIB_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* The effective set as a bit mask (bit N = capability N).  0 or -errno. */
int pg_caps_effective(uint64_t *mask);

/* "CAP_SYS_PTRACE" for CAP_SYS_PTRACE, "CAP_#N" for one without a name here. */
const char *pg_cap_name(int cap);

#endif
