/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A rollout: one patch over the processes of one binary, in rings.  This
 * is the pure part: the ring grammar ("1, 25%, 100%"), how rings split the
 * members, the [rollout] policy keys, the states of a member and of the
 * rollout with their names, and the verdict of a ring from its members'
 * gates.  The driver (gate/rollout.c) does the processes, forks and files.
 */
#ifndef PG_CORE_ROLLOUT_H
#define PG_CORE_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/policy.h"

#define RO_SECTION		POLICY_ROLLOUT_SECTION
#define RO_MAX_RINGS		16
#define RO_MAX_MEMBERS		256
#define RO_DEF_RINGS		"1, 25%, 100%"
#define RO_DEF_RETRIES		2

/*
 * Ring k covers the members up to a cumulative count: a number of
 * processes ("1") or a percentage of them ("25%", rounded up).  The counts
 * must not go down; the last ring always reaches every member.
 */
struct ro_rings {
	unsigned int n;
	struct {
		bool pct;
		double v;	/* count (>= 1), or percent (0 < v <= 100) */
	} r[RO_MAX_RINGS];
};

enum ro_on_regression {
	RO_REVERT_RING = 0,	/* revert the ring that regressed */
	RO_REVERT_ALL,		/* and every ring committed before it */
};

enum ro_on_no_window {
	RO_NW_SKIP = 0,		/* leave the member unpatched, go on */
	RO_NW_RETRY,		/* gate it again, up to `retries` times, then skip */
	RO_NW_ABORT,		/* stop the rollout (exit 3) */
};

enum ro_new_procs {
	RO_NEW_PATCH = 0,	/* processes that start during the rollout join the last ring */
	RO_NEW_REPORT,		/* they are only reported */
};

struct ro_policy {
	struct ro_rings rings;
	enum ro_on_regression on_regression;
	enum ro_on_no_window on_no_window;
	enum ro_new_procs new_processes;
	unsigned int retries;	/* on_no_window = retry: extra gates per member */
};

/* A member's state in the journal. */
enum ro_mstate {
	RO_M_PENDING = 0,	/* not gated yet */
	RO_M_RUNNING,		/* its gate runs (or ran when the rollout was killed) */
	RO_M_COMMITTED,		/* its gate committed the patch */
	RO_M_REVERTED,		/* its gate reverted the patch (regressed, timed out, aborted) */
	RO_M_NO_WINDOW,		/* no safe window came: nothing applied, skipped */
	RO_M_EXITED,		/* the process exited before or during its gate */
	RO_M_FAILED,		/* its gate failed (bad input, system error): nothing left applied */
	RO_M_ROLLING_BACK,	/* committed, being reverted by the rollout (on_regression) */
	RO_M_ROLLED_BACK,	/* committed, then reverted by the rollout */
	RO_M_REPORTED,		/* started during the rollout, only reported (new_processes = report) */
	RO_M__COUNT,
};

enum ro_state {
	RO_RUNNING = 0,		/* rings in progress */
	RO_STOPPING,		/* a ring failed: reverting what on_regression says */
	RO_COMMITTED,		/* every ring done */
	RO_REVERTED,		/* stopped on a regression, reverted per on_regression */
	RO_ABORTED,		/* stopped: no window (abort), an operator, a failed gate */
	RO__COUNT,
};

/* One process of a rollout, as the journal keeps it. */
struct ro_member {
	int pid;
	unsigned long long start;	/* its start time (pid + start name it for good) */
	unsigned int ring;		/* 1-based */
	enum ro_mstate state;
	int gate_pid;			/* the gate's process while RUNNING, else 0 */
	unsigned long long gate_start;
	int control;			/* the sibling control its gate used, 0: none */
	int exit;			/* its gate's exit code, -1: none yet */
	unsigned int tries;		/* gates run on it */
	bool late;			/* found after the rollout began */
	double t0, t1;			/* wall time its last gate began and ended; 0: not yet */
};

#define RO_PATH_LEN	4096
#define RO_MAX_SETS	32
#define RO_SET_LEN	256

/* A rollout's plan and progress: the journal (gate/rollout_journal.c) and every record of it. */
struct ro_run {
	char id[48];			/* rollout-<start wall>-<pid> */
	char patch[RO_PATH_LEN];	/* absolute */
	char exe[RO_PATH_LEN];		/* --exe, absolute; "" with --pids */
	char build_id[128];		/* of the target object */
	char policy[RO_PATH_LEN];	/* absolute, "" for none */
	unsigned int nsets;
	char sets[RO_MAX_SETS][RO_SET_LEN];
	struct ro_policy pol;		/* [rollout] of the policy, --rings over it */
	enum ro_state state;
	unsigned int ring, nrings;	/* the ring in progress (1-based), of how many */
	int exit;			/* the rollout's exit code once finished, else -1 */
	int owner_pid;			/* the `patchgate rollout` driving it */
	unsigned long long owner_start;
	double started, updated;	/* wall time */
	unsigned int resumes;		/* times it was resumed */
	char seen_by[8];		/* how new processes are found: "exec", "scan", "" (--pids) */
	unsigned int n;
	struct ro_member m[RO_MAX_MEMBERS];
};

/*
 * Parse a ring list ("1, 25%, 100%").  0, or -EINVAL with one message in
 * @err: empty, not a number, 0 or below, above 100%, more than
 * RO_MAX_RINGS, or a count that goes down.
 */
int ro_rings_parse(const char *s, struct ro_rings *out, char *err, size_t errlen);
/* The list back as text ("1,25%,100%"). */
void ro_rings_format(const struct ro_rings *r, char *buf, size_t len);

/*
 * Split @n members into rings: ends[k] is the cumulative member count at
 * the end of ring k (rings of no new member are dropped; the last ring
 * reaches @n).  Returns the number of rings (0 when @n is 0).
 */
unsigned int ro_rings_plan(const struct ro_rings *r, unsigned int n, unsigned int *ends);

void ro_policy_defaults(struct ro_policy *p);
/* One [rollout] key.  0, -ENOENT for an unknown key, -EINVAL for a bad value; @err says which. */
int ro_policy_set(struct ro_policy *p, const char *key, const char *value, char *err, size_t errlen);

const char *ro_mstate_name(enum ro_mstate s);
int ro_mstate_parse(const char *s);	/* -1 when unknown */
const char *ro_state_name(enum ro_state s);
/* The last ring any member sits in (a process found late may sit past the plan's nrings). */
unsigned int ro_last_ring(const struct ro_run *r);
int ro_state_parse(const char *s);
const char *ro_on_regression_name(enum ro_on_regression v);
const char *ro_on_no_window_name(enum ro_on_no_window v);
const char *ro_new_procs_name(enum ro_new_procs v);

/* A gate's exit code (enum pg_exit) as the member's state; @alive: the process still runs. */
enum ro_mstate ro_member_outcome(int exit_code, bool alive);

/* What a ring's members' outcomes call for. */
enum ro_verdict {
	RO_V_GO = 0,		/* go on to the next ring */
	RO_V_RETRY,		/* some members found no window: gate them again */
	RO_V_REGRESSED,		/* stop, revert per on_regression, exit 2 */
	RO_V_NO_WINDOW,		/* stop (on_no_window = abort), exit 3 */
	RO_V_FAILED,		/* stop: a gate failed or an operator aborted one, exit @exit */
};

struct ro_ring_tally {
	unsigned int members, committed, reverted, no_window, exited, failed, retry;
	int fail_exit;		/* the exit code of the first failed gate */
	int regress_exit;	/* 2, or 4 when a transition timed out */
};

/*
 * The verdict of a finished ring from its tally and the policy.  More
 * than half of a ring's members exiting during their gates counts as a
 * regression (a patch that kills processes); fewer are accounted as
 * exited.  *@exit_code: the rollout's exit code when it stops.
 */
enum ro_verdict ro_ring_verdict(const struct ro_ring_tally *t, const struct ro_policy *p,
				int *exit_code);

#endif
