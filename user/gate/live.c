// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The live model and the control channel (gate/live.h): the gate's side
 * publishes and listens without ever blocking; the readers' side lists the
 * records with their gates' health and sends operator requests.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "gate/live.h"
#include "view/live.h"
#include "core/outcome.h"
#include "lib/procmaps.h"
#include "lib/statedir.h"

#define LIVE_STEP_NS	1000000000ULL	/* one p99 history point and one rate per second */
#define LIVE_PENDING	4		/* connections whose request has not come in yet */
#define LIVE_PENDING_NS	2000000000ULL	/* ... dropped after this long */
#define LIVE_MAX_BYTES	(1 << 20)	/* a record larger than this is not ours */

struct live_pending {
	int fd;
	int64_t uid;
	uint64_t since;
};

struct gate_live {
	int ldfd;			/* <state-dir>/live */
	int sfd;			/* the listening socket, or -1 */
	char name[128];
	char json_name[160], sock_name[160], detail_name[160];
	char patch[256], path[4096], build_id[64];
	uid_t uid;
	uint64_t last_step, last_rate;
	uint64_t last_calls[PG_MAX_FUNCS];
	bool rated;
	int npending;
	struct live_pending pending[LIVE_PENDING];
	struct live_frame f;
};

/* ---- the gate's side --------------------------------------------------- */

/* A path that reaches @name in the directory @dfd, for bind and connect (sun_path is short). */
static int fd_path(struct sockaddr_un *sa, int dfd, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dfd, name) >=
	    (int)sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

static int listen_open(struct gate_live *l, char *why, size_t whylen)
{
	struct sockaddr_un sa;
	int e;

	if (fd_path(&sa, l->ldfd, l->sock_name)) {
		snprintf(why, whylen, "the control socket's name %s is too long", l->sock_name);
		return -ENAMETOOLONG;
	}
	l->sfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->sfd < 0)
		goto fail;
	/* a socket left by a gate that was killed: ours now */
	unlinkat(l->ldfd, l->sock_name, 0);
	if (bind(l->sfd, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	/* anyone may connect; SO_PEERCRED decides who may act (gate_live_poll) */
	if (fchmodat(l->ldfd, l->sock_name, 0666, 0) || listen(l->sfd, 8))
		goto fail;
	return 0;
fail:
	e = -errno;
	snprintf(why, whylen, "cannot open the control socket %s/%s: %s", LIVE_DIR, l->sock_name,
		 strerror(-e));
	return e;
}

struct gate_live *gate_live__open(const struct gate_live_opts *o, char *why, size_t whylen)
{
	struct gate_live *l = calloc(1, sizeof(*l));
	unsigned long long start = 0;
	int dfd = -1, e;

	if (!l) {
		snprintf(why, whylen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	l->ldfd = l->sfd = -1;
	snprintf(l->name, sizeof(l->name), "%s", o->name);
	snprintf(l->json_name, sizeof(l->json_name), "%s.json", o->name);
	snprintf(l->sock_name, sizeof(l->sock_name), "%s.sock", o->name);
	snprintf(l->detail_name, sizeof(l->detail_name), "%s" LIVE_DETAIL_SUFFIX, o->name);
	snprintf(l->patch, sizeof(l->patch), "%s", o->patch);
	snprintf(l->path, sizeof(l->path), "%s", o->path ? o->path : o->patch);
	snprintf(l->build_id, sizeof(l->build_id), "%s", o->build_id ? o->build_id : "");
	l->uid = geteuid();
	dfd = pg_statedir_open(o->state_dir, false, why, whylen);
	if (dfd < 0) {
		e = dfd;
		goto fail;
	}
	/* searchable by all, so that a refused uid hears why (the records are 0600) */
	l->ldfd = pg_statedir_subdir(dfd, LIVE_DIR, 0711, why, whylen);
	close(dfd);
	if (l->ldfd < 0) {
		e = l->ldfd;
		goto fail;
	}
	e = listen_open(l, why, whylen);
	if (e)
		goto fail;
	pg_proc_starttime(getpid(), &start);
	l->f.name = l->name;
	l->f.patch = l->patch;
	l->f.patch_path = l->path;
	l->f.build_id = l->build_id;
	l->f.target_pid = o->target_pid;
	l->f.gate_pid = getpid();
	l->f.gate_uid = (unsigned int)l->uid;
	l->f.gate_start = start;
	l->f.step_s = (double)LIVE_STEP_NS / 1e9;
	l->f.apply_index = -1;
	return l;
fail:
	gate_live__free(l);
	errno = -e;
	return NULL;
}

void gate_live__free(struct gate_live *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->npending; i++)
		close(l->pending[i].fd);
	if (l->sfd >= 0) {
		unlinkat(l->ldfd, l->sock_name, 0);
		close(l->sfd);
	}
	if (l->ldfd >= 0)
		close(l->ldfd);
	free(l);
}

void gate_live_decision(struct gate_live *l, const struct gate_audit *a)
{
	struct live_decision *d;

	if (!l)
		return;
	if (a->reason < GATE_NREASONS)
		l->f.decisions[a->reason]++;
	if (l->f.ndec == LIVE_DECISIONS) {
		memmove(&l->f.dec[0], &l->f.dec[1], sizeof(l->f.dec[0]) * (LIVE_DECISIONS - 1));
		l->f.ndec--;
	}
	d = &l->f.dec[l->f.ndec++];
	d->seq = a->seq;
	d->elapsed_s = (double)a->elapsed_ns / 1e9;
	d->from = a->from;
	d->to = a->to;
	d->reason = a->reason;
	d->operator_uid = a->operator_uid;
	snprintf(d->detail, sizeof(d->detail), "%s", a->detail);
}

void gate_live_applied(struct gate_live *l)
{
	if (l)
		l->f.apply_index = (int)l->f.nhist;
}

/* One point of p99 history per function: the bake's once it has calls, else the baseline's. */
static void history_step(struct gate_live *l, const struct gate_audit *a)
{
	struct live_frame *f = &l->f;

	if (f->nhist == LIVE_HISTORY) {
		for (unsigned int i = 0; i < a->nfuncs; i++)
			memmove(&f->p99_hist[i][0], &f->p99_hist[i][1],
				sizeof(f->p99_hist[i][0]) * (LIVE_HISTORY - 1));
		f->nhist--;
		if (f->apply_index >= 0)
			f->apply_index--;	/* -1 once the mark scrolls out */
	}
	for (unsigned int i = 0; i < a->nfuncs; i++) {
		const struct stats_verdict *v = &a->fn[i].v;

		f->p99_hist[i][f->nhist] = a->to >= GATE_BAKE && v->n_post ? v->p99_post : v->p99_base;
	}
	f->nhist++;
}

static void rates(struct gate_live *l, const struct gate_audit *a, uint64_t now)
{
	double dt = (double)(now - l->last_rate) / 1e9;

	for (unsigned int i = 0; i < a->nfuncs; i++) {
		uint64_t c = a->fn[i].calls_base + a->fn[i].calls_post;

		/* the new generation after apply starts from 0: no rate across it */
		if (l->rated && c >= l->last_calls[i] && dt > 0)
			l->f.calls_per_s[i] = (double)(c - l->last_calls[i]) / dt;
		l->last_calls[i] = c;
	}
	l->rated = true;
	l->last_rate = now;
}

int gate_live_publish(struct gate_live *l, struct gate *gt, uint64_t now_ns, bool done,
		      int exit_code)
{
	const struct gate_audit *a;
	bool step = false;
	json_object *o;
	const char *s;
	int e = 0;

	if (!l)
		return 0;
	a = gate_snapshot(gt, now_ns);
	if (!l->last_step || now_ns - l->last_step >= LIVE_STEP_NS) {
		history_step(l, a);
		rates(l, a, now_ns);
		l->last_step = now_ns;
		step = true;
	}
	for (unsigned int i = 0; i < a->nfuncs && i < PG_MAX_FUNCS; i++)
		if (gate_fn_hists(gt, i, &l->f.base[i], &l->f.post[i]))
			l->f.base[i] = l->f.post[i] = NULL;
	l->f.snap = a;
	l->f.wall_time = (int64_t)time(NULL);
	l->f.update++;
	l->f.done = done;
	l->f.exit_code = exit_code;
	/* the detail changes once a history step, and at the end */
	if (step || done) {
		o = live_detail_to_json(&l->f);
		if (!o)
			return -ENOMEM;
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		e = pg_statedir_replace(l->ldfd, l->detail_name, s, strlen(s));
		json_object_put(o);
	}
	o = live_to_json(&l->f);
	if (!o)
		return -ENOMEM;
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!e)
		e = pg_statedir_replace(l->ldfd, l->json_name, s, strlen(s));
	json_object_put(o);
	return e;
}

static void reply_str(int fd, const char *s)
{
	/* a SEQPACKET message of a few bytes: never waits */
	(void)!send(fd, s, strlen(s), MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Read the request of pending connection @i: 1 (filled @req), 0 (not yet), -1 (dropped). */
static int pending_read(struct gate_live *l, int i, uint64_t now, struct gate_live_req *req)
{
	struct live_pending *p = &l->pending[i];
	char buf[64], msg[160];
	ssize_t n;
	int op;

	n = recv(p->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && now - p->since < LIVE_PENDING_NS)
		return 0;
	if (n <= 0)
		goto drop;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	op = gate_op_parse(buf);
	if (op < 0) {
		reply_str(p->fd, "refused unknown action (promote, abort, hold, resume)");
		goto drop;
	}
	if (p->uid != 0 && p->uid != (int64_t)l->uid) {
		snprintf(msg, sizeof(msg), "denied uid %lld may not act on this gate: only root and "
			 "uid %u may", (long long)p->uid, (unsigned int)l->uid);
		reply_str(p->fd, msg);
		goto drop;
	}
	req->fd = p->fd;
	req->op = (enum gate_op)op;
	req->uid = p->uid;
	l->pending[i] = l->pending[--l->npending];
	return 1;
drop:
	close(p->fd);
	l->pending[i] = l->pending[--l->npending];
	return -1;
}

int gate_live_poll(struct gate_live *l, struct gate_live_req *req)
{
	struct timespec ts;
	uint64_t now;

	if (!l || l->sfd < 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	while (l->npending < LIVE_PENDING) {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		int fd = accept4(l->sfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len)) {
			close(fd);
			continue;
		}
		l->pending[l->npending++] = (struct live_pending){ .fd = fd, .uid = cr.uid, .since = now };
	}
	for (int i = 0; i < l->npending;) {
		int r = pending_read(l, i, now, req);

		if (r == 1)
			return 1;
		if (r == 0)
			i++;
	}
	return 0;
}

void gate_live_reply(struct gate_live_req *req, int err, const char *msg)
{
	char buf[400];

	snprintf(buf, sizeof(buf), "%s %s", err ? "refused" : "ok", msg ? msg : "");
	reply_str(req->fd, buf);
	close(req->fd);
	req->fd = -1;
}

/* ---- the readers' side ------------------------------------------------- */

const char *live_health_name(enum live_health h)
{
	switch (h) {
	case LIVE_RUNNING:
		return "running";
	case LIVE_FINISHED:
		return "finished";
	case LIVE_GONE:
		return "gone";
	}
	return "?";
}

static int64_t jint(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

/* Is the gate that wrote @rec still the process it was? */
static enum live_health health_of(json_object *rec)
{
	json_object *v;
	unsigned long long start;
	int pid = (int)jint(rec, "gate_pid");

	if (json_object_object_get_ex(rec, "done", &v) && json_object_get_boolean(v))
		return LIVE_FINISHED;
	if (pid <= 0 || (kill(pid, 0) && errno != EPERM))
		return LIVE_GONE;
	/* a pid reused by another process since */
	if (pg_proc_starttime(pid, &start) || start != (unsigned long long)jint(rec, "gate_start"))
		return LIVE_GONE;
	return LIVE_RUNNING;
}

static json_object *read_record(int dfd, const char *name, const char *type)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	json_object *o = NULL;
	int fd = pg_statedir_openat(dfd, name, O_RDONLY | O_NONBLOCK, 0);

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n;

		if (len + 4096 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > LIVE_MAX_BYTES || !(nb = realloc(buf, cap)))
				goto out;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	o = json_tokener_parse(buf);
	if (o && (!json_object_is_type(o, json_type_object) ||
		  strcmp(json_object_get_string(json_object_object_get(o, "type")) ?: "", type))) {
		json_object_put(o);
		o = NULL;
	}
out:
	free(buf);
	close(fd);
	return o;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct live_entry *x = a, *y = b;
	bool xd = isdigit((unsigned char)x->name[0]), yd = isdigit((unsigned char)y->name[0]);

	if (xd && yd)
		return atoi(x->name) - atoi(y->name);
	return strcmp(x->name, y->name);
}

int live_read_all(const char *state_dir, struct live_entry **out, int *n)
{
	struct live_entry *v = NULL;
	char path[4200];
	struct dirent *de;
	int cap = 0, cnt = 0, dfd;
	DIR *d;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/%s", state_dir, LIVE_DIR);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		json_object *rec;

		if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") ||
		    len - 5 >= sizeof(v->name) || (len > strlen(LIVE_DETAIL_SUFFIX) &&
		    !strcmp(de->d_name + len - strlen(LIVE_DETAIL_SUFFIX), LIVE_DETAIL_SUFFIX)))
			continue;
		rec = read_record(dirfd(d), de->d_name, "live");
		if (!rec)
			continue;
		if (cnt == cap) {
			struct live_entry *nv = realloc(v, sizeof(*v) * (size_t)(cap = cap ? cap * 2 : 16));

			if (!nv) {
				json_object_put(rec);
				break;
			}
			v = nv;
		}
		v[cnt].rec = rec;
		v[cnt].health = health_of(rec);
		snprintf(v[cnt].name, sizeof(v[cnt].name), "%.*s", (int)(len - 5), de->d_name);
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, (size_t)cnt, sizeof(*v), entry_cmp);
	*out = v;
	*n = cnt;
	return 0;
}

json_object *live_read_detail(const char *state_dir, const char *name)
{
	char path[4200], file[200];
	json_object *o;
	int dfd;

	snprintf(path, sizeof(path), "%s/%s", state_dir, LIVE_DIR);
	if (snprintf(file, sizeof(file), "%s" LIVE_DETAIL_SUFFIX, name) >= (int)sizeof(file) ||
	    strchr(name, '/'))
		return NULL;
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	o = read_record(dfd, file, "live_detail");
	close(dfd);
	return o;
}

void live_entries_free(struct live_entry *v, int n)
{
	for (int i = 0; v && i < n; i++)
		json_object_put(v[i].rec);
	free(v);
}

/* "4242" stays; "fix", "fix.ko", "kernel-fix" become "kernel-fix". */
static void live_name(const char *in, char *out, size_t len)
{
	size_t n;

	if (in[0] && strspn(in, "0123456789") == strlen(in)) {
		snprintf(out, len, "%s", in);
		return;
	}
	if (!strncmp(in, "kernel-", 7))
		in += 7;
	n = strlen(in);
	if (n > 3 && !strcmp(in + n - 3, ".ko"))
		n -= 3;
	snprintf(out, len, "kernel-%.*s", (int)n, in);
}

int live_control(const char *state_dir, const char *target, enum gate_op op, int timeout_ms,
		 char *reply, size_t len)
{
	char path[4200], name[160], buf[512];
	struct sockaddr_un sa;
	struct pollfd pfd;
	int dfd = -1, fd = -1, e;
	ssize_t n;

	live_name(target, name, sizeof(name) - 5);
	strcat(name, ".sock");
	snprintf(path, sizeof(path), "%s/%s", state_dir, LIVE_DIR);
	/* O_PATH: search permission is enough, as it is for the socket itself */
	dfd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		e = -errno;
		snprintf(reply, len, "cannot reach %s: %s", path, e == -ENOENT ?
			 "no gate has run with this state directory" : strerror(-e));
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || (e = fd_path(&sa, dfd, name)) != 0) {
		e = fd < 0 ? -errno : e;
		snprintf(reply, len, "cannot open a socket: %s", strerror(-e));
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		e = -errno;
		if (e == -ENOENT || e == -ECONNREFUSED) {
			snprintf(reply, len, "no gate is running for %s (no live control socket %s/%s)",
				 target, path, name);
			e = -ENOENT;
		} else {
			snprintf(reply, len, "cannot connect to the gate of %s: %s", target, strerror(-e));
		}
		goto out;
	}
	if (send(fd, gate_op_name(op), strlen(gate_op_name(op)), MSG_NOSIGNAL) < 0) {
		e = -errno;
		snprintf(reply, len, "cannot send to the gate of %s: %s", target, strerror(-e));
		goto out;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	e = poll(&pfd, 1, timeout_ms);
	if (e <= 0) {
		e = e < 0 ? -errno : -ETIMEDOUT;
		snprintf(reply, len, "no answer from the gate of %s within %d ms%s", target, timeout_ms,
			 e == -ETIMEDOUT ? " -- it polls once a tick; is it stopped?" : "");
		goto out;
	}
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0) {
		e = n < 0 ? -errno : -ECONNRESET;
		snprintf(reply, len, "the gate of %s closed without an answer", target);
		goto out;
	}
	buf[n] = '\0';
	if (!strncmp(buf, "ok ", 3)) {
		e = 0;
		snprintf(reply, len, "%s", buf + 3);
	} else if (!strncmp(buf, "denied ", 7)) {
		e = -EACCES;
		snprintf(reply, len, "%s", buf + 7);
	} else {
		e = strstr(buf, "already") ? -EALREADY : -EBUSY;
		snprintf(reply, len, "%s", !strncmp(buf, "refused ", 8) ? buf + 8 : buf);
	}
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	return e;
}

int live_control_main(struct pg_ctx *ctx, const char *action, const char *target, double timeout_s)
{
	char reply[512];
	int op = gate_op_parse(action), e;

	if (op < 0) {
		pg_err(ctx, PG_EXIT_USAGE, "unknown action '%s'", action);
		return PG_EXIT_USAGE;
	}
	e = live_control(ctx->state_dir, target, (enum gate_op)op, (int)(timeout_s * 1000), reply,
			 sizeof(reply));
	switch (e) {
	case 0:
		view_operator_result(ctx, action, target, "ok", reply);
		return PG_EXIT_OK;
	case -EBUSY:
	case -EALREADY:
		view_operator_result(ctx, action, target, "refused", reply);
		return PG_EXIT_USAGE;
	case -EACCES:
		if (strncmp(reply, "uid ", 4))
			break;	/* the socket itself: a plain error below */
		view_operator_result(ctx, action, target, "denied", reply);
		return PG_EXIT_USAGE;
	case -ENOENT:
		pg_err(ctx, PG_EXIT_USAGE, "%s: %s", action, reply);
		return PG_EXIT_USAGE;
	default:
		break;
	}
	if (e == -EACCES) {
		pg_err(ctx, PG_EXIT_USAGE, "%s: %s -- only root and the gate's own uid may act", action,
		       reply);
		return PG_EXIT_USAGE;
	}
	pg_err(ctx, PG_EXIT_SYSTEM, "%s: %s", action, reply);
	return PG_EXIT_SYSTEM;
}
