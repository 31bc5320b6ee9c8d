// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `patchgate exporter` (gate/exporter.h): a libmicrohttpd daemon on its
 * own thread answers GET /metrics from the live records read at that
 * moment; the main thread writes the node_exporter textfile at its
 * interval and waits for a signal.  Neither ever touches a gate: the
 * records are replaced by rename, so a scrape reads whole files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "gate/exporter.h"
#include "gate/live.h"
#include "core/outcome.h"
#include "lib/statedir.h"

#define EXPORTER_TICK_MS	200	/* the main thread's sleep between looks at the stop flag */

static volatile sig_atomic_t exporter_stop;

static void on_stop(int sig)
{
	(void)sig;
	exporter_stop = 1;
}

/* ---- the listening address --------------------------------------------- */

static int parse_port(const char *s, in_port_t *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v < 1 || v > 65535 || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	*port = htons((in_port_t)v);
	return 0;
}

int exporter_parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			  bool *loopback, char *why, size_t whylen)
{
	char host[64] = "127.0.0.1";
	const char *port = s, *colon;
	in_port_t p;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			goto bad;
		snprintf(host, sizeof(host), "%.*s", (int)(close - s - 1), s + 1);
		port = close + 2;
	} else if ((colon = strrchr(s, ':'))) {
		if ((size_t)(colon - s) >= sizeof(host) || memchr(s, ':', (size_t)(colon - s)))
			goto bad;
		if (colon > s)
			snprintf(host, sizeof(host), "%.*s", (int)(colon - s), s);
		port = colon + 1;
	}
	if (parse_port(port, &p)) {
		snprintf(why, whylen, "invalid port in '%s': a number from 1 to 65535", s);
		return -EINVAL;
	}
	if (!strcmp(host, "localhost"))
		snprintf(host, sizeof(host), "127.0.0.1");
	if (s[0] != '[') {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			goto bad;
		in->sin_family = AF_INET;
		in->sin_port = p;
		*len = sizeof(*in);
		*loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			goto bad;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = p;
		*len = sizeof(*in6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
			    (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
	}
	return 0;
bad:
	snprintf(why, whylen, "invalid listen address '%s': use PORT, ADDR:PORT or [ADDR6]:PORT "
		 "with a numeric address (e.g. 127.0.0.1:%d, [::1]:%d)", s, EXPORTER_PORT_DEFAULT,
		 EXPORTER_PORT_DEFAULT);
	return -EINVAL;
}

/* A listening socket on @ss; -errno with a sentence in @why. */
static int listen_on(const struct sockaddr_storage *ss, socklen_t len, const char *addr,
		     char *why, size_t whylen)
{
	int one = 1, fd, e;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		e = -errno;
		snprintf(why, whylen, "cannot open a socket: %s", strerror(-e));
		return e;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!bind(fd, (const struct sockaddr *)ss, len) && !listen(fd, 64))
		return fd;
	e = -errno;
	close(fd);
	snprintf(why, whylen, "cannot listen on %s: %s%s", addr, strerror(-e),
		 e == -EADDRINUSE ? " -- another process holds this port; pick another one" :
		 e == -EADDRNOTAVAIL ? " -- no interface of this host has that address" :
		 e == -EACCES ? " -- a port below 1024 needs CAP_NET_BIND_SERVICE" : "");
	return e;
}

/* ---- one scrape -------------------------------------------------------- */

/* The metrics of every live record now: a buffer to free, or NULL with -errno in @err. */
static char *scrape(const char *state_dir, enum metrics_format fmt, size_t *len, int *err)
{
	struct metrics_gate *g = NULL;
	struct live_entry *v = NULL;
	char *buf = NULL;
	int n = 0;

	*err = live_read_all(state_dir, &v, &n);
	if (*err)
		return NULL;
	if (n) {
		g = calloc((size_t)n, sizeof(*g));
		if (!g) {
			*err = -ENOMEM;
			goto out;
		}
	}
	for (int i = 0; i < n; i++)
		g[i] = (struct metrics_gate){ .rec = v[i].rec, .health = live_health_name(v[i].health) };
	buf = metrics_render(g, n, fmt, len);
	if (!buf)
		*err = -ENOMEM;
out:
	free(g);
	live_entries_free(v, n);
	return buf;
}

/* ---- HTTP -------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     char *body, size_t len, bool owned)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = owned ? MHD_create_response_from_buffer_with_free_callback(len, body, free) :
		    MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	static char seen, index_page[] = "patchgate exporter: the metrics are at /metrics\n",
		not_found[] = "not found: the metrics are at /metrics\n",
		not_allowed[] = "only GET and HEAD\n";
	const char *state_dir = cls;
	enum metrics_format fmt;
	char *body, msg[300];
	size_t len;
	int err;

	(void)version;
	(void)upload;
	if (!*con_cls) {
		/* the headers are in: answer on the next call, as libmicrohttpd wants */
		*con_cls = &seen;
		return MHD_YES;
	}
	if (*upload_size)
		return MHD_NO;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed,
			     strlen(not_allowed), false);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/plain", index_page, strlen(index_page), false);
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", not_found, strlen(not_found), false);
	fmt = metrics_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
	body = scrape(state_dir, fmt, &len, &err);
	if (!body) {
		snprintf(msg, sizeof(msg), "cannot read the live records in %s/%s: %s\n", state_dir,
			 LIVE_DIR, strerror(-err));
		body = strdup(msg);
		return body ? reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", body, strlen(body),
				    true) : MHD_NO;
	}
	return reply(c, MHD_HTTP_OK, fmt == METRICS_OPENMETRICS ? METRICS_CT_OM : METRICS_CT_PROM, body,
		     len, true);
}

/* ---- the textfile ------------------------------------------------------ */

/* Write <dir>/patchgate.prom now (temporary file + rename, 0644). 0 or -errno. */
static int textfile_write(const char *state_dir, int dfd)
{
	size_t len;
	int err;
	char *buf = scrape(state_dir, METRICS_PROM, &len, &err);

	if (!buf)
		return err;
	err = pg_statedir_replace_mode(dfd, EXPORTER_TEXTFILE, buf, len, 0644);
	free(buf);
	return err;
}

static int textfile_open(struct pg_ctx *ctx, const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0 || faccessat(dfd, ".", W_OK, AT_EACCESS)) {
		int e = errno;

		if (dfd >= 0)
			close(dfd);
		pg_err(ctx, PG_EXIT_USAGE, "exporter: cannot write to the textfile directory %s: %s", dir,
		       strerror(e));
		return -e;
	}
	return dfd;
}

/* ---- the loop ---------------------------------------------------------- */

/* The state directory must be one (not created here: the gates create it). */
static int state_dir_check(struct pg_ctx *ctx)
{
	char why[512];
	int dfd = pg_statedir_open(ctx->state_dir, false, why, sizeof(why));

	if (dfd < 0) {
		pg_err(ctx, PG_EXIT_USAGE, "exporter: %s%s", why, dfd == -ENOENT ?
		       " -- no gate has run with it yet: create it (install -d -m 0700 DIR) or give "
		       "--state-dir" : "");
		return PG_EXIT_USAGE;
	}
	close(dfd);
	return 0;
}

static int print_once(struct pg_ctx *ctx, enum metrics_format fmt)
{
	size_t len;
	int err;
	char *buf = scrape(ctx->state_dir, fmt, &len, &err);

	if (!buf) {
		pg_err(ctx, PG_EXIT_SYSTEM, "exporter: cannot read the live records in %s/%s: %s",
		       ctx->state_dir, LIVE_DIR, strerror(-err));
		return PG_EXIT_SYSTEM;
	}
	fwrite(buf, 1, len, stdout);
	fflush(stdout);
	free(buf);
	return PG_EXIT_OK;
}

/* Sleep @ms in EXPORTER_TICK_MS steps; false once a signal asked to stop. */
static bool nap(long ms)
{
	while (ms > 0 && !exporter_stop) {
		long step = ms < EXPORTER_TICK_MS ? ms : EXPORTER_TICK_MS;
		struct timespec ts = { .tv_sec = step / 1000, .tv_nsec = (step % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		ms -= step;
	}
	return !exporter_stop;
}

int exporter_main(struct pg_ctx *ctx, const struct pg_exporter_opts *o)
{
	struct sigaction sa = { .sa_handler = on_stop };
	struct MHD_Daemon *d = NULL;
	struct sockaddr_storage ss;
	bool loopback = true, warned = false;
	int r, fd = -1, tfd = -1, e;
	socklen_t sl = 0;
	char why[512];

	r = state_dir_check(ctx);
	if (r)
		return r;
	if (o->print >= 0)
		return print_once(ctx, (enum metrics_format)o->print);
	if (o->listen) {
		if (exporter_parse_listen(o->listen, &ss, &sl, &loopback, why, sizeof(why))) {
			pg_err(ctx, PG_EXIT_USAGE, "exporter: %s", why);
			return PG_EXIT_USAGE;
		}
		if (!loopback && !o->allow_remote) {
			pg_err(ctx, PG_EXIT_USAGE, "exporter: %s is not a loopback address: the metrics "
			       "name every patch and target on this host; add --allow-remote to serve "
			       "them there", o->listen);
			return PG_EXIT_USAGE;
		}
	}
	if (o->textfile_dir) {
		tfd = textfile_open(ctx, o->textfile_dir);
		if (tfd < 0)
			return PG_EXIT_USAGE;
	}
	if (o->listen) {
		fd = listen_on(&ss, sl, o->listen, why, sizeof(why));
		if (fd < 0) {
			pg_err(ctx, PG_EXIT_USAGE, "exporter: %s", why);
			r = PG_EXIT_USAGE;
			goto out;
		}
		d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
				     (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
				     on_request, (void *)ctx->state_dir,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT, 32u,
				     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				     MHD_OPTION_END);
		if (!d) {
			pg_err(ctx, PG_EXIT_SYSTEM, "exporter: libmicrohttpd would not start on %s",
			       o->listen);
			r = PG_EXIT_SYSTEM;
			goto out;
		}
		fd = -1;	/* the daemon's now */
		pg_info(ctx, "patchgate: exporter serving http://%s/metrics from %s/%s", o->listen,
			ctx->state_dir, LIVE_DIR);
	}
	if (tfd >= 0)
		pg_info(ctx, "patchgate: exporter writing %s/%s every %gs", o->textfile_dir,
			EXPORTER_TEXTFILE, o->interval_s);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * A scrape's text (300 KB at 64 functions) and records come and go at
	 * every scrape: kept in the heap rather than mapped and unmapped each
	 * time, they cost no page faults (a third of a scrape's CPU otherwise).
	 */
	mallopt(M_MMAP_THRESHOLD, 64 << 20);
	mallopt(M_TRIM_THRESHOLD, 128 << 20);
	do {
		if (tfd >= 0) {
			e = textfile_write(ctx->state_dir, tfd);
			/* said once per run of failures; the next write may succeed */
			if (e && !warned)
				pg_warn(ctx, "exporter: cannot write %s/%s: %s", o->textfile_dir,
					EXPORTER_TEXTFILE, strerror(-e));
			warned = e != 0;
		}
	} while (nap(tfd >= 0 ? (long)(o->interval_s * 1000) : 3600000L));
	r = PG_EXIT_OK;
out:
	if (d)
		MHD_stop_daemon(d);
	if (fd >= 0)
		close(fd);
	if (tfd >= 0)
		close(tfd);
	return r;
}
