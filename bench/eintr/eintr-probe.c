// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Which blocking calls return EINTR when patchgate stops and resumes the
 * threads (bench/eintr/run.sh).  No signal handler is installed, so any
 * EINTR seen comes from a ptrace stop alone.
 *
 *   eintr-probe calls       one thread per call below, each blocked in it
 *                           in a loop, counting EINTR returns
 *   eintr-probe loop W US   W event-loop workers: epoll_wait (1 ms
 *                           timeout), then US microseconds of work
 * The main thread calls pg_compute() once a millisecond (the function a
 * patch replaces) and serves stdin: "report" prints "NAME EINTR-COUNT"
 * per call, then "end".  Built with nop5 entries, and with the statics
 * that tests/host/ulp/patches/good.c uses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

__attribute__((used)) static int pg_bias = 1000000;
static volatile int pg_zero;

__attribute__((noinline, used)) static int helper_add(int a, int b)
{
	return a + b;
}

__attribute__((noinline)) int pg_compute(int x)
{
	return x * 3 + pg_zero;
}

enum { C_EPOLL_INF, C_EPOLL_TMO, C_SIGTIMEDWAIT, C_RECV_RCVTIMEO, C_ACCEPT_RCVTIMEO, C_RECV, C_POLL,
       C_SELECT, C_READ_PIPE, C_NANOSLEEP, C_CLOCK_NANOSLEEP, C_COND_WAIT, C_COND_TIMEDWAIT, C_N };
static const char *names[C_N] = {
	"epoll_wait(-1)", "epoll_wait(60s)", "sigtimedwait(60s)", "recv(SO_RCVTIMEO)", "accept(SO_RCVTIMEO)",
	"recv", "poll(-1)", "select(NULL)", "read(pipe)", "nanosleep", "clock_nanosleep",
	"pthread_cond_wait", "pthread_cond_timedwait",
};
static atomic_long eintr[C_N], calls[C_N];
static int pipefd[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static int udp_sock(int rcvtimeo)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 60, 0 };
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)))
		exit(1);
	if (rcvtimeo)
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

static int tcp_listener(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 60, 0 };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 1))
		exit(1);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return s;
}

static long one_call(int c, int fd)
{
	struct epoll_event ev;
	struct timespec ts = { 60, 0 };
	char buf[8];
	sigset_t set;

	switch (c) {
	case C_EPOLL_INF:
		return epoll_wait(fd, &ev, 1, -1);
	case C_EPOLL_TMO:
		return epoll_wait(fd, &ev, 1, 60000);
	case C_SIGTIMEDWAIT:
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		return sigtimedwait(&set, NULL, &ts);
	case C_RECV_RCVTIMEO:
	case C_RECV:
		return recv(fd, buf, sizeof(buf), 0);
	case C_ACCEPT_RCVTIMEO:
		return accept(fd, NULL, NULL);
	case C_POLL: {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		return poll(&p, 1, -1);
	}
	case C_SELECT: {
		fd_set r;

		FD_ZERO(&r);
		FD_SET(fd, &r);
		return select(fd + 1, &r, NULL, NULL, NULL);
	}
	case C_READ_PIPE:
		return read(fd, buf, sizeof(buf));
	case C_NANOSLEEP:
		return nanosleep(&ts, NULL);
	case C_CLOCK_NANOSLEEP: {
		int e = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);

		errno = e;
		return e ? -1 : 0;
	}
	case C_COND_WAIT:
	case C_COND_TIMEDWAIT: {
		int e;

		pthread_mutex_lock(&mu);
		if (c == C_COND_WAIT) {
			e = pthread_cond_wait(&cv, &mu);
		} else {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 60;
			e = pthread_cond_timedwait(&cv, &mu, &until);
		}
		pthread_mutex_unlock(&mu);
		errno = e;
		return e ? -1 : 0;
	}
	}
	return 0;
}

static void *caller(void *arg)
{
	int c = (int)(long)arg, fd = -1;

	if (c == C_EPOLL_INF || c == C_EPOLL_TMO)
		fd = epoll_create1(0);
	else if (c == C_RECV_RCVTIMEO || c == C_RECV)
		fd = udp_sock(c == C_RECV_RCVTIMEO);
	else if (c == C_ACCEPT_RCVTIMEO)
		fd = tcp_listener();
	else if (c == C_POLL || c == C_SELECT || c == C_READ_PIPE)
		fd = pipefd[0];
	for (;;) {
		long r = one_call(c, fd);

		atomic_fetch_add(&calls[c], 1);
		if (r < 0 && errno == EINTR)
			atomic_fetch_add(&eintr[c], 1);
	}
	return NULL;
}

static long busy_us;

static void *worker(void *arg)
{
	int efd = epoll_create1(0);
	struct epoll_event ev;

	(void)arg;
	for (;;) {
		struct timespec t0, t;

		epoll_wait(efd, &ev, 1, 1);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do
			clock_gettime(CLOCK_MONOTONIC, &t);
		while ((t.tv_sec - t0.tv_sec) * 1000000 + (t.tv_nsec - t0.tv_nsec) / 1000 < busy_us);
	}
	return NULL;
}

static void *serve(void *arg)
{
	char line[64];

	(void)arg;
	while (fgets(line, sizeof(line), stdin)) {
		if (strncmp(line, "report", 6))
			continue;
		for (int c = 0; c < C_N; c++)
			printf("%s %ld %ld\n", names[c], (long)eintr[c], (long)calls[c]);
		printf("end\n");
		fflush(stdout);
	}
	exit(0);
}

int main(int argc, char **argv)
{
	sigset_t set;
	pthread_t th;

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* sigtimedwait's signal: never sent */
	if (pipe(pipefd))
		return 1;
	if (argc > 1 && !strcmp(argv[1], "calls")) {
		for (int c = 0; c < C_N; c++)
			pthread_create(&th, NULL, caller, (void *)(long)c);
	} else if (argc > 3 && !strcmp(argv[1], "loop")) {
		busy_us = atol(argv[3]);
		for (int i = 0; i < atoi(argv[2]); i++)
			pthread_create(&th, NULL, worker, NULL);
	} else {
		fprintf(stderr, "usage: eintr-probe calls | loop WORKERS BUSY_US\n");
		return 2;
	}
	pthread_create(&th, NULL, serve, NULL);
	printf("ready %d\n", getpid());
	for (;;) {
		struct timespec d = { 0, 1000000 };

		if (pg_compute(2) == 0)
			printf("impossible\n");
		nanosleep(&d, NULL);
	}
	return (int)(helper_add(0, 0) + pg_bias * 0);
}
