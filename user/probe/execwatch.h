/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Exec events: the processes that exec a new image while the watcher is
 * open, from a tracepoint program on sched/sched_process_exec
 * (bpf/execwatch.bpf.c).  Used by rollouts to see processes that start
 * during a rollout without walking /proc at every ring.
 */
#ifndef PG_PROBE_EXECWATCH_H
#define PG_PROBE_EXECWATCH_H

#include <stdbool.h>
#include <stddef.h>

struct pg_execwatch;

/* Load and attach the tracepoint program.  NULL with errno set and a reason in @err. */
struct pg_execwatch *pg_execwatch_open(char *err, size_t errlen);
void pg_execwatch_free(struct pg_execwatch *w);

/*
 * The pids that exec'd since the last call (each once, in the order seen),
 * up to @max into @out; the count.  *@lost becomes true when events were
 * missed (a full ring buffer, or more pids than @max): the caller must then
 * look at every process itself.
 */
int pg_execwatch_drain(struct pg_execwatch *w, int *out, int max, bool *lost);

#endif
