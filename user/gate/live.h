/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live model and the control channel of running gates, both under
 * <state-dir>/live/ (docs/operator-guide.md, "Watching and steering gates"):
 *
 *   <name>.json   the "live" record (view/live.h), replaced atomically at
 *                 every tick (temporary file + rename, mode 0600);
 *   <name>.detail.json  the "live_detail" record (p99 history, histograms),
 *                 replaced the same way once a second;
 *   <name>.sock   the gate's control socket (SOCK_SEQPACKET): one request
 *                 ("promote", "abort", "hold", "resume") per connection, one
 *                 reply ("ok ...", "refused ...", "denied ..."); only root
 *                 and the gate's own uid may act (SO_PEERCRED).
 *
 * <name> is the target pid, or "kernel-<module>" for a livepatch.  The
 * gate never waits on either: the socket is polled without blocking, and
 * a reader cannot hold up a rename.
 */
#ifndef PG_GATE_LIVE_H
#define PG_GATE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>
#include "core/gate.h"
#include "view/output.h"

#define LIVE_DIR "live"
#define LIVE_DETAIL_SUFFIX ".detail.json"

/* ---- the gate's side (gate_run.c) ---- */

struct gate_live;

struct gate_live_opts {
	const char *state_dir;
	const char *name;		/* "<pid>" or "kernel-<module>" */
	int target_pid;			/* 0: the kernel */
	const char *patch;		/* the patch's name */
	const char *path;		/* the patch file as given, or the livepatch's name */
	const char *build_id;		/* the patch file's build-id, or "" */
};

/* Open live/ (0711) and the control socket.  NULL with errno and @why. */
struct gate_live *gate_live__open(const struct gate_live_opts *o, char *why, size_t whylen);
/* Removes the socket, keeps the last record (done).  Accepts NULL. */
void gate_live__free(struct gate_live *l);

/* A decision was taken (kept among the last LIVE_DECISIONS). */
void gate_live_decision(struct gate_live *l, const struct gate_audit *a);
/* The patch went in now (the apply mark in the p99 history). */
void gate_live_applied(struct gate_live *l);
/*
 * Publish the gate's state now (and a history point when one is due);
 * @done with the run's @exit_code for the last one.  0 or -errno; a
 * failure is the caller's to report once, never a reason to stop.
 */
int gate_live_publish(struct gate_live *l, struct gate *gt, uint64_t now_ns, bool done,
		      int exit_code);

/* One operator request read from the socket, waiting for its reply. */
struct gate_live_req {
	int fd;
	enum gate_op op;
	int64_t uid;
};

/*
 * A request that came in, if any, without blocking: 1 with @req filled (the
 * peer is allowed to act), 0 when there is none.  Requests from a peer
 * that may not act are answered ("denied") here and never returned.
 */
int gate_live_poll(struct gate_live *l, struct gate_live_req *req);
/* Answer @req ("ok ..." when @err is 0, else "refused ...") and close it. */
void gate_live_reply(struct gate_live_req *req, int err, const char *msg);

/* ---- the readers' side (status, top, the control commands) ---- */

enum live_health {
	LIVE_RUNNING = 0,	/* its gate is running */
	LIVE_FINISHED,		/* the gate ended and left its last record */
	LIVE_GONE,		/* the gate died without a last record (killed) */
};

struct live_entry {
	json_object *rec;	/* the "live" record as published */
	enum live_health health;
	char name[128];
};

/*
 * Every record under <state_dir>/live/, sorted by name, with its gate's
 * health.  0 (none: *n = 0) or -errno.  live_entries_free() releases.
 */
int live_read_all(const char *state_dir, struct live_entry **out, int *n);
void live_entries_free(struct live_entry *v, int n);
/* The "live_detail" record of the gate @name, or NULL. */
json_object *live_read_detail(const char *state_dir, const char *name);
const char *live_health_name(enum live_health h);

/*
 * Send @op to the gate of @name (a pid, or a module's name with or without
 * "kernel-" and ".ko") and wait up to @timeout_ms for its answer in
 * @reply.  0: taken; -EBUSY / -EALREADY: refused by the gate (nothing
 * changed); -EACCES: not allowed; -ENOENT: no gate running there;
 * -ETIMEDOUT, or another -errno.  @why says it in one line either way.
 */
int live_control(const char *state_dir, const char *name, enum gate_op op, int timeout_ms,
		 char *reply, size_t len);

/*
 * `patchgate promote|abort|hold|resume TARGET`: send @action, print the
 * answer (an "operator" record with -j).  Returns an outcome: OK (taken),
 * USAGE (refused, not allowed, no gate: nothing changed), SYSTEM.
 */
int live_control_main(struct pg_ctx *ctx, const char *action, const char *target, double timeout_s);

#endif
