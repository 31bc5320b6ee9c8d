/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Rollouts (gate/rollout.c): a patch over the processes of one binary in
 * rings, each member gated by a forked gate (gate_apply_main), and the
 * journal that lets a killed rollout resume (gate/rollout_journal.c):
 * <state-dir>/rollout.json, replaced whole (a temporary file and a
 * rename) at every change of state.
 */
#ifndef PG_GATE_ROLLOUT_H
#define PG_GATE_ROLLOUT_H

#include <stdbool.h>
#include "core/rollout.h"
#include "view/output.h"

#define RO_JOURNAL	"rollout.json"
#define RO_LOG_DIR	"rollout"	/* the members' gate output: rollout/gate-PID.log */

/* Write @r as the journal (updated stamped now).  0 or -errno. */
int ro_journal_write(const struct pg_ctx *ctx, struct ro_run *r);
/* Read the journal into @r.  0, -ENOENT when there is none, -EINVAL when unreadable, -errno. */
int ro_journal_read(const struct pg_ctx *ctx, struct ro_run *r);
/* Does the rollout's driver still run (its pid with its start time)? */
bool ro_owner_alive(const struct ro_run *r);
/* Is this process (@pid, @start) still alive, and not a zombie? */
bool ro_proc_alive(int pid, unsigned long long start);

/* `patchgate status`: the journal's rollout, when there is one (nothing printed otherwise). */
void rollout_status_show(struct pg_ctx *ctx);

#endif
