/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one clock.  Intervals, deadlines and the gate's time are
 * CLOCK_MONOTONIC (never steps); wall time is only for records a person
 * reads (journal and audit timestamps).
 */
#ifndef PG_LIB_CLOCK_H
#define PG_LIB_CLOCK_H

#include <stdint.h>

/* Monotonic time in nanoseconds. */
uint64_t pg_mono_ns(void);
/* Monotonic time in seconds. */
double pg_mono_s(void);
/* Wall-clock time in seconds since the epoch, with a fraction. */
double pg_wall_s(void);

#endif
