// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `patchgate rollout`: one patch over every process of one binary, ring by
 * ring.  The members are found by build-id (their executable, or a library
 * they map).  A ring's members are gated at the same time, each by a gate
 * of its own (gate_apply_main in a forked child, its output kept in
 * <state-dir>/rollout/gate-PID.log), each with an unpatched member of a
 * later ring as its concurrent control; the last ring's gates judge before
 * against after.  The plan and every change of a member's state go to the
 * journal (gate/rollout_journal.c) before the change takes effect, so a
 * rollout killed at any point can be resumed (--resume) or reported
 * (--status).
 *
 * Phases: plan (members, rings, journal) → per ring: scan for processes
 * that started since, launch the ring's gates, reap them, judge the ring
 * (core/rollout.h), audit it → stop (revert per on_regression) or commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "backend/backend.h"
#include "gate/opts.h"
#include "gate/policy_load.h"
#include "gate/preflight.h"
#include "gate/rollout.h"
#include "view/rollout.h"
#include "lib/file.h"
#include "lib/procmaps.h"
#include "lib/statedir.h"
#include "lib/symbols.h"
#include "probe/execwatch.h"

#define RO_POLL_US		100000
#define RO_REVERT_WAIT_S	10.0	/* a clear stack scan for the revert of a committed member */
#define RO_RESUME_WAIT_S	120.0	/* a killed rollout's gates finish reverting */

static volatile sig_atomic_t ro_cancel;

static void on_cancel(int sig)
{
	(void)sig;
	ro_cancel++;
}

/* A process that exec'd during the rollout, not (yet) seen mapping the target. */
struct ro_exec {
	int pid;
	double seen;		/* wall time it was first looked at */
};

/* How long a process that exec'd is looked at again for a target it does not map yet. */
#define RO_EXEC_GRACE_S		5.0
/* Exec'd processes kept for another look (RO_EXEC_GRACE_S each); more means a full scan. */
#define RO_EXEC_PENDING		1024
/* Exec events read at once from the ring buffer; more means a full scan. */
#define RO_EXEC_BATCH		4096

struct ro {
	struct pg_ctx *ctx;
	struct ro_run *r;
	bool journal_failed;
	struct pg_execwatch *xw;	/* NULL: new processes are found by a /proc scan */
	bool rescan;			/* the next look is a full scan (first look, lost events) */
	bool looked;			/* the first look (a full scan) was made */
	double rechecked;		/* wall time pend[] was last looked at again */
	unsigned int npend, nfound;
	struct ro_exec pend[RO_EXEC_PENDING];
	int found[RO_MAX_MEMBERS];	/* exec'd and mapping the target, not yet taken */
};

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Journal the current state; a failure stops the rollout (nothing may go on unrecorded). */
static int journal(struct ro *ro)
{
	int e = ro_journal_write(ro->ctx, ro->r);

	if (e && !ro->journal_failed) {
		ro->journal_failed = true;
		pg_err(ro->ctx, PG_EXIT_SYSTEM, "rollout: cannot write the journal %s/%s: %s",
		       ro->ctx->state_dir, RO_JOURNAL, strerror(-e));
	}
	return e;
}

/* One "rollout_ring" record in the audit log (fsynced), and on stdout. */
static int ring_audit(struct ro *ro, unsigned int ring, const char *verdict)
{
	double wall = wall_now();
	json_object *o = view_rollout_ring_json(ro->r, ring, verdict, wall);
	char why[1024];
	int dfd, fd, e;

	dfd = pg_statedir_open(ro->ctx->state_dir, true, why, sizeof(why));
	e = dfd;
	if (dfd >= 0) {
		fd = pg_statedir_openat(dfd, "audit.log", O_WRONLY | O_APPEND | O_CREAT, 0600);
		e = fd < 0 ? -errno : pg_file_append_line(fd, json_object_to_json_string_ext(o,
					JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		if (fd >= 0)
			close(fd);
		close(dfd);
	}
	json_object_put(o);
	if (e)
		pg_err(ro->ctx, PG_EXIT_SYSTEM, "rollout: cannot write the audit log %s/audit.log: %s",
		       ro->ctx->state_dir, strerror(-e));
	view_rollout_ring_print(ro->ctx, ro->r, ring, verdict, wall);
	return e;
}

/* ---- members ---------------------------------------------------------- */

static struct ro_member *member_find(struct ro_run *r, int pid, unsigned long long start)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (r->m[i].pid == pid && r->m[i].start == start)
			return &r->m[i];
	return NULL;
}

static int member_add(struct ro_run *r, int pid, unsigned int ring, bool late)
{
	unsigned long long start;

	if (r->n >= RO_MAX_MEMBERS || pg_proc_starttime(pid, &start))
		return -1;
	if (member_find(r, pid, start))
		return 0;
	r->m[r->n++] = (struct ro_member){ .pid = pid, .start = start, .ring = ring, .exit = -1,
					   .late = late };
	return 1;
}

/*
 * The processes of the target now: by build-id (--exe), or the pids given
 * (--pids, which are never rescanned).  Up to @max into @out; the count,
 * or a negative errno.
 */
static int members_scan(const struct ro_run *r, int *out, int max)
{
	return pg_procs_mapping_build_id(r->build_id, 0, out, max);
}

/* One look at pend[@from..]: a hit goes to ro->found, a hit, a stale or a gone one leaves pend. */
static void exec_look(struct ro *ro, unsigned int from, double now)
{
	for (unsigned int i = from; i < ro->npend;) {
		struct ro_exec *x = &ro->pend[i];
		bool hit = pg_proc_maps_build_id(x->pid, ro->r->build_id);

		if (hit && ro->nfound < RO_MAX_MEMBERS)
			ro->found[ro->nfound++] = x->pid;
		else if (hit)
			ro->rescan = true;
		if (hit || now - x->seen > RO_EXEC_GRACE_S || kill(x->pid, 0))
			*x = ro->pend[--ro->npend];
		else
			i++;
	}
}

/*
 * Read the exec events (ro->xw): each process that exec'd is looked at now
 * and, while it maps no target, again once a second (and at each ring's
 * start, @all) until RO_EXEC_GRACE_S has passed: its loader may not have
 * mapped the library yet.  Those that map the target wait in ro->found for
 * members_new().  Events lost, or more than the lists hold, make the next
 * look a full scan.
 */
static void exec_poll(struct ro *ro, bool all)
{
	static int pids[RO_EXEC_BATCH];
	double now = wall_now();
	unsigned int old;
	bool lost = false;
	int n;

	if (!ro->xw)
		return;
	n = pg_execwatch_drain(ro->xw, pids, RO_EXEC_BATCH, &lost);
	if (lost)
		ro->rescan = true;
	/* the pending ones again, at most once a second: each look reads /proc/PID/maps */
	if (all || now - ro->rechecked >= 1.0) {
		ro->rechecked = now;
		exec_look(ro, 0, now);
	}
	old = ro->npend;
	for (int i = 0; i < n; i++) {
		if (ro->npend == RO_EXEC_PENDING) {
			ro->rescan = true;
			break;
		}
		ro->pend[ro->npend++] = (struct ro_exec){ .pid = pids[i], .seen = now };
	}
	exec_look(ro, old, now);	/* the new ones, once now */
}

/*
 * The processes that started since the last look and map the target: from
 * the exec events, or by a full scan on the first look, after lost events,
 * or without the tracepoint.  Up to @max into @out; the count.
 */
static int members_new(struct ro *ro, int *out, int max)
{
	int n = 0;

	exec_poll(ro, true);
	if (!ro->xw || ro->rescan) {
		if (ro->xw && ro->looked)
			pg_info(ro->ctx, "rollout: exec events were lost: a full scan for new processes");
		ro->looked = true;
		ro->rescan = false;
		ro->npend = ro->nfound = 0;
		return members_scan(ro->r, out, max);
	}
	for (unsigned int i = 0; i < ro->nfound && n < max; i++)
		out[n++] = ro->found[i];
	ro->nfound = 0;
	return n;
}

/*
 * Processes of the binary that started since the plan: with new_processes =
 * patch they join ring @ring (the last one, or one after it once the last
 * ring is done), else they are only reported.  Returns how many were found.
 */
static unsigned int members_late(struct ro *ro, unsigned int ring)
{
	struct ro_run *r = ro->r;
	int pids[RO_MAX_MEMBERS], n;
	unsigned int found = 0;

	if (!r->exe[0])
		return 0;
	n = members_new(ro, pids, RO_MAX_MEMBERS);
	for (int i = 0; i < n && i < RO_MAX_MEMBERS; i++) {
		if (member_add(r, pids[i], ring, true) != 1)
			continue;
		found++;
		if (r->pol.new_processes == RO_NEW_REPORT) {
			r->m[r->n - 1].state = RO_M_REPORTED;
			pg_info(ro->ctx, "rollout: pid %d started during the rollout: reported only "
				"(new_processes = report)", pids[i]);
		} else {
			pg_info(ro->ctx, "rollout: pid %d started during the rollout: joins ring %u",
				pids[i], ring);
		}
	}
	return found;
}

/*
 * How new processes will be found: by the exec tracepoint when it loads,
 * else by a scan at each ring, said once.  Not with --pids.
 */
static void exec_watch_open(struct ro *ro)
{
	char err[256];

	if (!ro->r->exe[0]) {
		ro->r->seen_by[0] = '\0';
		return;
	}
	ro->xw = pg_execwatch_open(err, sizeof(err));
	ro->rescan = true;
	snprintf(ro->r->seen_by, sizeof(ro->r->seen_by), "%s", ro->xw ? "exec" : "scan");
	if (!ro->xw)
		pg_warn(ro->ctx, "rollout: %s: processes that start during the rollout are found by a "
			"/proc scan at each ring instead", err);
}

/* The patch as the ulp journal has it in @pid: applied (or partly), or not. */
static bool member_patched(struct ro *ro, int pid)
{
	struct pg_backend_opts bo = { .pid = pid, .state_dir = ro->ctx->state_dir };
	struct pg_patch_status *v = NULL;
	struct pg_be_result res;
	bool on = false;
	int n = 0;

	if (pg_ulp_ops.status(&bo, &v, &n, &res))
		return false;
	for (int i = 0; i < n; i++)
		if (!strcmp(v[i].patch, ro->r->patch) && strcmp(v[i].actual, "not-applied"))
			on = true;
	free(v);
	return on;
}

/* Revert the patch in member @m (ungated, as `patchgate revert` does).  0 or -errno. */
static int member_revert(struct ro *ro, struct ro_member *m)
{
	struct pg_backend_opts bo = { .pid = m->pid, .patch = ro->r->patch, .for_revert = true,
				      .state_dir = ro->ctx->state_dir };
	struct pg_backend *b = NULL;
	struct pg_be_result res;
	int e;

	if (!ro_proc_alive(m->pid, m->start))
		return 0;
	e = pg_ulp_ops.open(&bo, &b, &res);
	if (!e)
		e = pg_ulp_ops.revert(b, RO_REVERT_WAIT_S, &res);
	pg_ulp_ops.close(b);
	if (e && member_patched(ro, m->pid)) {
		pg_warn(ro->ctx, "rollout: cannot revert pid %d: %s", m->pid, res.msg);
		return e;
	}
	return 0;
}

/* ---- one ring's gates ---------------------------------------------------- */

/* An unpatched member of a later ring, alive, for control @k of this ring (round robin). */
static int control_pick(const struct ro_run *r, unsigned int ring, unsigned int k)
{
	int cand[RO_MAX_MEMBERS];
	unsigned int n = 0;

	for (unsigned int i = 0; i < r->n; i++)
		if (r->m[i].ring > ring && r->m[i].state == RO_M_PENDING &&
		    ro_proc_alive(r->m[i].pid, r->m[i].start))
			cand[n++] = r->m[i].pid;
	return n ? cand[k % n] : 0;
}

/*
 * The child: wait for the parent's go (the journal names this gate by
 * then; EOF means the parent died first: do nothing), then gate the member
 * with the parent's death as a cancel (SIGTERM: the gate reverts what it
 * has not committed).  Never returns.
 */
static void gate_child(struct ro *ro, const struct ro_member *m, int go_fd, pid_t parent)
{
	struct pg_ctx cctx = *ro->ctx;
	struct pg_apply_opts ao = { .pid = m->pid, .patch_path = ro->r->patch, .max_wait_s = -1.0,
				    .control_pid = m->control };
	char name[64], why[256], c;
	int dfd, ldfd, fd;

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
		_exit(PG_EXIT_SYSTEM);
	if (read(go_fd, &c, 1) != 1)
		_exit(PG_EXIT_SYSTEM);
	close(go_fd);
	signal(SIGINT, SIG_IGN);	/* the rollout relays a Ctrl-C as SIGTERM, once */
	dfd = pg_statedir_open(ro->ctx->state_dir, false, why, sizeof(why));
	ldfd = dfd < 0 ? -1 : pg_statedir_subdir(dfd, RO_LOG_DIR, 0700, why, sizeof(why));
	snprintf(name, sizeof(name), "gate-%d.log", m->pid);
	fd = ldfd < 0 ? -1 : pg_statedir_openat(ldfd, name, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	ao.policy_path = ro->r->policy[0] ? ro->r->policy : NULL;
	ao.nsets = (int)ro->r->nsets;
	for (unsigned int i = 0; i < ro->r->nsets; i++)
		ao.sets[i] = ro->r->sets[i];
	cctx.json = true;
	fflush(NULL);
	_exit(gate_apply_main(&cctx, &ao));
}

/*
 * Launch the gates of ring @ring's pending members (at most one per
 * member): fork each (held on a pipe), journal them as running with their
 * gate's pid, then let them go.  Returns how many run, or -1 (the journal
 * failed; the children held are let go with EOF and do nothing).
 */
static int ring_launch(struct ro *ro, unsigned int ring)
{
	struct ro_run *r = ro->r;
	int go[RO_MAX_MEMBERS], ngo = 0, k = 0;
	pid_t parent = getpid();

	for (unsigned int i = 0; i < r->n; i++) {
		struct ro_member *m = &r->m[i];
		int p[2];
		pid_t c;

		if (m->ring != ring || m->state != RO_M_PENDING)
			continue;
		if (!ro_proc_alive(m->pid, m->start)) {
			m->state = RO_M_EXITED;
			pg_info(ro->ctx, "rollout: pid %d exited before its gate", m->pid);
			continue;
		}
		m->control = control_pick(r, ring, (unsigned int)k++);
		if (pipe2(p, O_CLOEXEC))
			break;
		fflush(NULL);
		c = fork();
		if (c < 0) {
			close(p[0]);
			close(p[1]);
			break;
		}
		if (!c) {
			close(p[1]);
			for (int j = 0; j < ngo; j++)
				close(go[j]);
			gate_child(ro, m, p[0], parent);
		}
		close(p[0]);
		go[ngo++] = p[1];
		m->state = RO_M_RUNNING;
		m->gate_pid = c;
		pg_proc_starttime(c, &m->gate_start);
		m->exit = -1;
		m->tries++;
		m->t0 = wall_now();
		m->t1 = 0;
	}
	if (journal(ro)) {
		for (int j = 0; j < ngo; j++)
			close(go[j]);
		return -1;
	}
	for (int j = 0; j < ngo; j++) {
		if (write(go[j], "g", 1) != 1)
			pg_warn(ro->ctx, "rollout: cannot start a gate: %s", strerror(errno));
		close(go[j]);
	}
	return ngo;
}

static struct ro_member *member_by_gate(struct ro_run *r, pid_t gate)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (r->m[i].state == RO_M_RUNNING && r->m[i].gate_pid == gate)
			return &r->m[i];
	return NULL;
}

/* Reap the ring's gates as they end, journalling each member's outcome; relay a cancel once. */
static void ring_reap(struct ro *ro, int running)
{
	bool relayed = false;

	while (running > 0) {
		struct ro_member *m;
		int status, code;
		pid_t c;

		if (ro_cancel && !relayed) {
			relayed = true;
			for (unsigned int i = 0; i < ro->r->n; i++)
				if (ro->r->m[i].state == RO_M_RUNNING && ro->r->m[i].gate_pid > 0)
					kill(ro->r->m[i].gate_pid, SIGTERM);
		}
		c = waitpid(-1, &status, WNOHANG);
		if (c == 0 || (c < 0 && errno == EINTR)) {
			exec_poll(ro, false);
			usleep(RO_POLL_US);
			continue;
		}
		if (c < 0)
			break;
		m = member_by_gate(ro->r, c);
		if (!m)
			continue;
		running--;
		code = WIFEXITED(status) ? WEXITSTATUS(status) : PG_EXIT_SYSTEM;
		m->exit = code;
		m->gate_pid = 0;
		m->gate_start = 0;
		m->t1 = wall_now();
		m->state = ro_member_outcome(code, ro_proc_alive(m->pid, m->start));
		/* a gate that failed must not have left the patch: make sure of it */
		if (m->state == RO_M_FAILED || m->state == RO_M_EXITED)
			member_revert(ro, m);
		journal(ro);
	}
}

/* The tally of ring @ring's members (the members found no window this try: @retry of them may retry). */
static void ring_tally(const struct ro_run *r, unsigned int ring, struct ro_ring_tally *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < r->n; i++) {
		const struct ro_member *m = &r->m[i];

		if (m->ring != ring || m->state == RO_M_REPORTED)
			continue;
		t->members++;
		switch (m->state) {
		case RO_M_COMMITTED:
			t->committed++;
			break;
		case RO_M_REVERTED:
			t->reverted++;
			if (!t->regress_exit || m->exit != PG_EXIT_REGRESSED)
				t->regress_exit = m->exit;
			break;
		case RO_M_NO_WINDOW:
			t->no_window++;
			if (m->tries <= r->pol.retries)
				t->retry++;
			break;
		case RO_M_EXITED:
			/* gone before its gate began: not this ring's doing */
			if (m->tries)
				t->exited++;
			else
				t->members--;
			break;
		case RO_M_FAILED:
			t->failed++;
			if (!t->fail_exit)
				t->fail_exit = m->exit;
			break;
		default:
			break;
		}
	}
}

/* ---- stopping ------------------------------------------------------------ */

/*
 * Stop the rollout: mark what on_regression (or, for any other stop, the
 * ring alone) takes back as rolling back, journal, revert each, journal.
 * Resumable: a member still rolling back is reverted again (idempotent).
 */
static void rollout_stop(struct ro *ro, unsigned int ring, bool all)
{
	struct ro_run *r = ro->r;

	if (r->state == RO_RUNNING) {
		r->state = RO_STOPPING;
		for (unsigned int i = 0; i < r->n; i++)
			if (r->m[i].state == RO_M_COMMITTED && (r->m[i].ring == ring || all))
				r->m[i].state = RO_M_ROLLING_BACK;
		journal(ro);
	}
	for (unsigned int i = 0; i < r->n; i++) {
		struct ro_member *m = &r->m[i];

		if (m->state != RO_M_ROLLING_BACK)
			continue;
		if (member_revert(ro, m))
			continue;	/* stays rolling back: said, and the exit is a system error */
		m->state = RO_M_ROLLED_BACK;
		pg_info(ro->ctx, "rollout: pid %d reverted (ring %u, on_regression)", m->pid, m->ring);
		journal(ro);
	}
	for (unsigned int i = 0; i < r->n; i++)
		if (r->m[i].state == RO_M_ROLLING_BACK)
			r->exit = PG_EXIT_SYSTEM;
	r->state = r->exit == PG_EXIT_REGRESSED || r->exit == PG_EXIT_TRANSITION ? RO_REVERTED : RO_ABORTED;
	journal(ro);
}

/* ---- the rings ----------------------------------------------------------- */

static const char *verdict_name(enum ro_verdict v)
{
	static const char *const n[] = { "go", "retry", "regressed", "no_window", "failed" };

	return n[v];
}

/* Gate ring @ring (again for members that found no window, by policy).  The verdict. */
static enum ro_verdict ring_run(struct ro *ro, unsigned int ring, int *exit_code)
{
	struct ro_ring_tally t;
	enum ro_verdict v;
	int n;

	for (;;) {
		n = ring_launch(ro, ring);
		if (n < 0) {
			*exit_code = PG_EXIT_SYSTEM;
			return RO_V_FAILED;
		}
		ring_reap(ro, n);
		if (ro_cancel) {
			*exit_code = PG_EXIT_OPERATOR;
			return RO_V_FAILED;
		}
		if (ro->journal_failed) {
			*exit_code = PG_EXIT_SYSTEM;
			return RO_V_FAILED;
		}
		ring_tally(ro->r, ring, &t);
		v = ro_ring_verdict(&t, &ro->r->pol, exit_code);
		if (v != RO_V_RETRY)
			return v;
		for (unsigned int i = 0; i < ro->r->n; i++) {
			struct ro_member *m = &ro->r->m[i];

			if (m->ring == ring && m->state == RO_M_NO_WINDOW && m->tries <= ro->r->pol.retries)
				m->state = RO_M_PENDING;
		}
		pg_info(ro->ctx, "rollout: ring %u: %u member%s found no safe window: again "
			"(on_no_window = retry)", ring, t.retry, t.retry == 1 ? "" : "s");
	}
}

/* The rings from r->ring on; the rollout's exit code. */
static int rollout_run(struct ro *ro)
{
	struct ro_run *r = ro->r;

	while (r->ring <= r->nrings) {
		enum ro_verdict v;
		int code;

		members_late(ro, r->nrings);
		if (journal(ro))
			return PG_EXIT_SYSTEM;
		v = ring_run(ro, r->ring, &code);
		ring_audit(ro, r->ring, verdict_name(v));
		if (v != RO_V_GO) {
			r->exit = code;
			rollout_stop(ro, r->ring, v == RO_V_REGRESSED && r->pol.on_regression == RO_REVERT_ALL);
			return r->exit;
		}
		/* the last ring done: processes that started meanwhile get one ring more */
		if (r->ring == r->nrings && r->nrings < RO_MAX_RINGS &&
		    r->pol.new_processes == RO_NEW_PATCH && members_late(ro, r->nrings + 1))
			r->nrings++;
		else if (r->ring == r->nrings)
			members_late(ro, r->nrings + 1);
		r->ring++;
		if (journal(ro))
			return PG_EXIT_SYSTEM;
	}
	r->ring = r->nrings;
	r->state = RO_COMMITTED;
	r->exit = PG_EXIT_OK;
	for (unsigned int i = 0; i < r->n; i++)
		if (r->m[i].state == RO_M_NO_WINDOW)
			r->exit = PG_EXIT_NO_WINDOW;
	journal(ro);
	return r->exit;
}

/* ---- plan ---------------------------------------------------------------- */

struct ini_ctx {
	struct ro_policy *p;
	const char *path;
	char *err;
	size_t errlen;
	bool failed;
};

static int ini_rollout(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *c = user;
	char msg[256];

	if (c->failed || strcmp(section, RO_SECTION))
		return 1;
	if (ro_policy_set(c->p, name, value, msg, sizeof(msg))) {
		snprintf(c->err, c->errlen, "%s: [%s]: %s", c->path, RO_SECTION, msg);
		c->failed = true;
	}
	return 1;
}

/*
 * The policy: the gate's part validated as each member's gate will load it
 * (defaults, --policy, --set), the [rollout] section into r->pol, then
 * --rings over it.  PG_EXIT_USAGE with the error printed, or 0.
 */
static int plan_policy(struct ro *ro, const struct pg_rollout_opts *o)
{
	struct pg_apply_opts ao = { .policy_path = o->policy_path, .max_wait_s = -1.0, .nsets = o->nsets };
	struct ro_run *r = ro->r;
	struct pg_policy gp;
	char err[1024];
	struct ini_ctx c = { &r->pol, o->policy_path, err, sizeof(err), false };

	for (int i = 0; i < o->nsets; i++)
		ao.sets[i] = o->sets[i];
	if (policy_load_apply(&gp, &ao, err, sizeof(err))) {
		pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: %s", err);
		return PG_EXIT_USAGE;
	}
	ro_policy_defaults(&r->pol);
	if (o->policy_path && (ini_parse(o->policy_path, ini_rollout, &c) || c.failed)) {
		if (!c.failed)
			snprintf(err, sizeof(err), "%s: cannot parse", o->policy_path);
		pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: %s", err);
		return PG_EXIT_USAGE;
	}
	if (o->rings && ro_policy_set(&r->pol, "rings", o->rings, err, sizeof(err))) {
		pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: --rings: %s", err + strlen("bad value for key 'rings': "));
		return PG_EXIT_USAGE;
	}
	if (o->policy_path && !realpath(o->policy_path, r->policy)) {
		pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: policy %s: %s", o->policy_path, strerror(errno));
		return PG_EXIT_USAGE;
	}
	r->nsets = (unsigned int)o->nsets;
	for (int i = 0; i < o->nsets; i++)
		snprintf(r->sets[i], RO_SET_LEN, "%s", o->sets[i]);
	return 0;
}

/*
 * The members: by build-id of --exe, or the --pids (which must all run one
 * binary, whose build-id is kept).  PG_EXIT_USAGE with the error printed,
 * or 0 with r->m filled.
 */
static int plan_members(struct ro *ro, const struct pg_rollout_opts *o)
{
	struct ro_run *r = ro->r;
	int pids[RO_MAX_MEMBERS], n, e;
	char path[64], id[128];

	if (o->exe) {
		if (!realpath(o->exe, r->exe)) {
			pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: --exe %s: %s", o->exe, strerror(errno));
			return PG_EXIT_USAGE;
		}
		e = sym_elf_build_id(r->exe, r->build_id, sizeof(r->build_id));
		if (e < 0) {
			pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: --exe %s: no build-id to find its processes "
			       "by: %s", o->exe, strerror(-e));
			return PG_EXIT_USAGE;
		}
		n = members_scan(r, pids, RO_MAX_MEMBERS);
		if (n < 0) {
			pg_err(ro->ctx, PG_EXIT_SYSTEM, "rollout: cannot scan /proc: %s", strerror(-n));
			return PG_EXIT_SYSTEM;
		}
		if (n > RO_MAX_MEMBERS) {
			pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: %d processes map %s: at most %d in one "
			       "rollout", n, o->exe, RO_MAX_MEMBERS);
			return PG_EXIT_USAGE;
		}
		for (int i = 0; i < n; i++)
			member_add(r, pids[i], 1, false);
	} else {
		for (int i = 0; i < o->npids; i++) {
			snprintf(path, sizeof(path), "/proc/%d/exe", o->pids[i]);
			e = sym_elf_build_id(path, i ? id : r->build_id, i ? sizeof(id) : sizeof(r->build_id));
			if (e < 0) {
				pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: --pids: process %d: %s", o->pids[i],
				       e == -ENOENT ? "no such process, or no build-id" : strerror(-e));
				return PG_EXIT_USAGE;
			}
			if (i && strcmp(id, r->build_id)) {
				pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: --pids: process %d runs another "
				       "binary than process %d (build-id %s, not %s)", o->pids[i], o->pids[0],
				       id, r->build_id);
				return PG_EXIT_USAGE;
			}
			if (member_add(r, o->pids[i], 1, false) < 0) {
				pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: --pids: process %d is gone", o->pids[i]);
				return PG_EXIT_USAGE;
			}
		}
	}
	if (!r->n) {
		pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: no process maps %s (build-id %s): nothing to roll "
		       "out to", r->exe, r->build_id);
		return PG_EXIT_USAGE;
	}
	return 0;
}

/* Rings over the members in pid order. */
static void plan_rings(struct ro_run *r)
{
	unsigned int ends[RO_MAX_RINGS], k = 0;

	r->nrings = ro_rings_plan(&r->pol.rings, r->n, ends);
	for (unsigned int i = 0; i < r->n; i++) {
		while (k + 1 < r->nrings && i >= ends[k])
			k++;
		r->m[i].ring = k + 1;
	}
	r->ring = 1;
}

/* A new rollout's plan, journalled.  0, or the exit code with the error printed. */
static int plan(struct ro *ro, const struct pg_rollout_opts *o)
{
	struct ro_run *r = ro->r, *old;
	int e;

	if (!realpath(o->patch_path, r->patch) || access(r->patch, R_OK)) {
		pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: patch %s: %s; nothing changed", o->patch_path,
		       strerror(errno));
		return PG_EXIT_USAGE;
	}
	e = plan_policy(ro, o);
	if (!e)
		e = plan_members(ro, o);
	if (e)
		return e;
	old = calloc(1, sizeof(*old));
	if (old && !ro_journal_read(ro->ctx, old) &&
	    (old->state == RO_RUNNING || old->state == RO_STOPPING)) {
		pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: rollout %s in %s is %s: %s", old->id,
		       ro->ctx->state_dir, ro_owner_alive(old) ? "still running" : "unfinished",
		       ro_owner_alive(old) ? "one rollout at a time per state directory" :
		       "patchgate rollout --resume, or --status");
		free(old);
		return PG_EXIT_USAGE;
	}
	free(old);
	plan_rings(r);
	r->started = wall_now();
	snprintf(r->id, sizeof(r->id), "rollout-%lld-%d", (long long)r->started, (int)getpid());
	r->state = RO_RUNNING;
	r->exit = -1;
	return 0;
}

/* ---- resume -------------------------------------------------------------- */

/* Was @m's last gate's final phase COMMITTED (its phase file gate-PID.json, since it began)? */
static bool member_gate_committed(struct ro *ro, const struct ro_member *m)
{
	char path[4200];
	json_object *o, *v;
	bool yes = false;

	snprintf(path, sizeof(path), "%s/gate-%d.json", ro->ctx->state_dir, m->pid);
	o = json_object_from_file(path);
	if (!o)
		return false;
	if (json_object_object_get_ex(o, "to", &v) && !strcmp(json_object_get_string(v), "COMMITTED") &&
	    json_object_object_get_ex(o, "wall_time", &v) && json_object_get_double(v) + 1 >= m->t0)
		yes = true;
	json_object_put(o);
	return yes;
}

/*
 * A member whose gate ran when the rollout was killed: wait for that gate
 * (it got SIGTERM when the rollout died, and reverts what it has not
 * committed), then take what the process holds: committed when its gate
 * recorded the commit; otherwise whatever is applied is reverted and the
 * member is gated again.  Conservative: no uncommitted patch stays.
 */
static int member_recover(struct ro *ro, struct ro_member *m)
{
	double deadline = wall_now() + RO_RESUME_WAIT_S;

	while (ro_proc_alive(m->gate_pid, m->gate_start)) {
		if (wall_now() > deadline) {
			pg_err(ro->ctx, PG_EXIT_SYSTEM, "rollout: --resume: the gate of pid %d (pid %d) "
			       "still runs after %.0fs", m->pid, m->gate_pid, RO_RESUME_WAIT_S);
			return -1;
		}
		usleep(RO_POLL_US);
	}
	m->gate_pid = 0;
	m->gate_start = 0;
	m->t1 = wall_now();
	if (!ro_proc_alive(m->pid, m->start)) {
		m->state = RO_M_EXITED;
	} else if (member_patched(ro, m->pid) && member_gate_committed(ro, m)) {
		m->state = RO_M_COMMITTED;
		m->exit = PG_EXIT_OK;
	} else if (member_revert(ro, m)) {
		return -1;
	} else {
		m->state = RO_M_PENDING;
	}
	pg_info(ro->ctx, "rollout: --resume: pid %d: its gate was interrupted: %s", m->pid,
		m->state == RO_M_PENDING ? "nothing committed, gated again" : ro_mstate_name(m->state));
	return 0;
}

/* --resume: is there a journal?  Checked before the state directory is touched. */
static int resume_check(struct ro *ro)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", ro->ctx->state_dir, RO_JOURNAL);
	if (!access(path, F_OK))
		return 0;
	pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: --resume: no rollout journal in %s", ro->ctx->state_dir);
	return PG_EXIT_USAGE;
}

static int resume(struct ro *ro)
{
	struct ro_run *r = ro->r;
	int e = ro_journal_read(ro->ctx, r);

	if (e) {
		pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: --resume: %s in %s", e == -ENOENT ?
		       "no rollout journal" : "an unreadable rollout journal", ro->ctx->state_dir);
		return PG_EXIT_USAGE;
	}
	if (r->state != RO_RUNNING && r->state != RO_STOPPING) {
		pg_info(ro->ctx, "rollout %s has finished (%s): nothing to resume", r->id,
			ro_state_name(r->state));
		return r->exit;
	}
	if (ro_owner_alive(r)) {
		pg_err(ro->ctx, PG_EXIT_USAGE, "rollout: --resume: rollout %s still runs (pid %d)", r->id,
		       r->owner_pid);
		return PG_EXIT_USAGE;
	}
	r->owner_pid = getpid();
	pg_proc_starttime(getpid(), &r->owner_start);
	r->resumes++;
	if (journal(ro))
		return PG_EXIT_SYSTEM;
	for (unsigned int i = 0; i < r->n; i++)
		if (r->m[i].state == RO_M_RUNNING && member_recover(ro, &r->m[i]))
			return PG_EXIT_SYSTEM;
	if (journal(ro))
		return PG_EXIT_SYSTEM;
	if (r->state == RO_STOPPING) {
		rollout_stop(ro, r->ring, false);
		return r->exit;
	}
	return -1;	/* go on with the rings */
}

/* ---- entry ----------------------------------------------------------------- */

int rollout_main(struct pg_ctx *ctx, const struct pg_rollout_opts *o)
{
	struct sigaction sa = { .sa_handler = on_cancel }, old_int, old_term, old_hup;
	struct ro ro = { .ctx = ctx };
	int code;

	ro.r = calloc(1, sizeof(*ro.r));
	if (!ro.r) {
		pg_err(ctx, PG_EXIT_SYSTEM, "rollout: out of memory");
		return PG_EXIT_SYSTEM;
	}
	if (o->status) {
		code = ro_journal_read(ctx, ro.r);
		if (code)
			pg_err(ctx, PG_EXIT_USAGE, "rollout: --status: %s in %s", code == -ENOENT ?
			       "no rollout journal" : "an unreadable rollout journal", ctx->state_dir);
		else
			view_rollout_print(ctx, ro.r, ro_owner_alive(ro.r));
		free(ro.r);
		return code ? PG_EXIT_USAGE : PG_EXIT_OK;
	}
	/* a new rollout's input is checked before anything, the state directory included, is touched */
	code = o->resume ? resume_check(&ro) : plan(&ro, o);
	if (!code)
		code = gate_preflight(ctx, "rollout", GATE_NEED_PTRACE | GATE_NEED_MEM | GATE_NEED_UPROBE |
				      GATE_NEED_STATEDIR, 0);
	if (code) {
		ro.r->id[0] = '\0';
		goto out;
	}
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, NULL, &old_hup);
	if (old_hup.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
	if (o->resume) {
		code = resume(&ro);
	} else {
		ro.r->owner_pid = getpid();
		pg_proc_starttime(getpid(), &ro.r->owner_start);
		code = journal(&ro) ? PG_EXIT_SYSTEM : -1;
		if (code < 0)
			pg_info(ctx, "rollout %s: %s to %u process%s in %u ring%s", ro.r->id, ro.r->patch,
				ro.r->n, ro.r->n == 1 ? "" : "es", ro.r->nrings, ro.r->nrings == 1 ? "" : "s");
	}
	if (code < 0) {
		exec_watch_open(&ro);
		code = rollout_run(&ro);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	if (ro.r->id[0])
		view_rollout_print(ctx, ro.r, -1);
out:
	pg_execwatch_free(ro.xw);
	free(ro.r);
	return code;
}
