// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * demo-service: a small multi-threaded service whose functions have known
 * behaviour, for patchgate's tests, demo and benchmarks.
 *
 * Every function below is built with -pg -mfentry -mnop-mcount, so each
 * starts with a 5-byte NOP where a uprobe costs ~190 ns instead of ~14 us.
 *
 * Workers call one workload in a loop.  With --calls N each worker makes
 * exactly N calls and the process exits, printing what it measured itself
 * as one JSON line on stdout, so tests can compare patchgate's figures with
 * the truth.  With --wait-signal the workers wait for SIGUSR1 before their
 * first call (so a watcher can attach first).  --block N parks N extra
 * threads inside pg_block() until SIGUSR2 (they too wait for SIGUSR1 with
 * --wait-signal, and print their tids on stderr).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#define NOINLINE __attribute__((noinline, used))

static struct {
	int threads;
	long calls;		/* per worker; 0 = forever */
	double rate;		/* calls/s per worker; 0 = flat out */
	const char *work;
	int depth;
	long error_every;
	int block;
	unsigned busy_us;
	unsigned sleep_us;
	int wait_signal;
	double duration;
} cfg = {
	.threads = 2,
	.work = "request",
	.depth = 10,
	.error_every = 10,
	.busy_us = 200,
	.sleep_us = 1000,
};

static volatile sig_atomic_t go, release_blocked, stop;
static atomic_long call_seq;		/* global call number, for error_every */
static atomic_long errors_returned;
static atomic_int blocked_now;
static long long *lat_ns;		/* per call, for self-measured quantiles */
static atomic_long lat_n;
static long lat_cap;
static atomic_long hot_calls;
/* request outcomes, for --status: what the target answers */
static atomic_long req_total, req_ok, req_bug, req_rejected, req_failed;
static const char *status_path;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- the functions with known behaviour ------------------------------- */

/* Busy-works for about @us microseconds; returns a checksum. */
NOINLINE long pg_busy(unsigned us)
{
	long long end = now_ns() + us * 1000LL;
	long x = 0;

	while (now_ns() < end)
		for (int i = 0; i < 64; i++)
			x += i ^ (x >> 3);
	return x;
}

/* Sleeps about @us microseconds (1 ms by default). */
NOINLINE int pg_sleep(unsigned us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return 0;
}

/* Recurses @depth levels; each level busy-works 20 us before going deeper. */
NOINLINE int pg_recurse(int depth)
{
	int r;

	pg_busy(20);
	if (depth <= 1)
		return 1;
	r = pg_recurse(depth - 1);
	__asm__ volatile("" ::: "memory");	/* keep the call out of tail position */
	return r + 1;
}

/* Returns -EIO on every @every-th call (exactly 1/every of calls), else 0. */
NOINLINE int pg_maybe_fail(long seq, long every)
{
	if (every > 0 && seq % every == every - 1)
		return -EIO;
	return 0;
}

/* Blocks the calling thread until SIGUSR2 sets release_blocked. */
NOINLINE int pg_block(void)
{
	atomic_fetch_add(&blocked_now, 1);
	while (!release_blocked && !stop)
		pg_sleep(2000);
	atomic_fetch_sub(&blocked_now, 1);
	return 0;
}

/* A tiny function for probe-overhead benchmarks. */
NOINLINE long pg_hot(long x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 2 + 1;
}

/* An input that parks the caller inside compute_answer() (see --block). */
#define PARK_INPUT (-1000000)

/*
 * What a request computes: the function the demo's patches replace.  The
 * bug that examples/demo-patches/good.c fixes: a negative input should be
 * rejected with -EINVAL, but is answered (its double is then used as an
 * index by a caller in the story).
 */
NOINLINE int compute_answer(int x)
{
	if (x == PARK_INPUT) {
		int r = pg_block();

		/* not a tail call: the parked thread must be *inside* compute_answer */
		__asm__ volatile("" ::: "memory");
		return r;
	}
	pg_busy(50);
	return x * 2;
}

/*
 * Reading a request, before compute_answer() sees it: on the same threads,
 * about as long, and left alone by every demo patch, so that the gate can
 * use it as a concurrent control (policy key control = parse_request).
 */
NOINLINE int parse_request(int x)
{
	pg_busy(40);
	return x;
}

/* One request: parse, compute, then answer (the demo's unit of work). */
NOINLINE int handle_request(int x)
{
	int r = compute_answer(parse_request(x));

	/* errors pass through; inputs are -10..89, so 2x never collides with them */
	if (r == -EINVAL || r == -EIO)
		return r;
	return r + 1;
}

/* ---- workers ----------------------------------------------------------- */

static void record(long long t0)
{
	long i = atomic_fetch_add(&lat_n, 1);

	if (i < lat_cap)
		lat_ns[i] = now_ns() - t0;
}

static void one_call(long i)
{
	long long t0 = now_ns();
	int r;

	if (!strcmp(cfg.work, "sleep")) {
		pg_sleep(cfg.sleep_us);
	} else if (!strcmp(cfg.work, "busy")) {
		pg_busy(cfg.busy_us);
	} else if (!strcmp(cfg.work, "recurse")) {
		pg_recurse(cfg.depth);
	} else if (!strcmp(cfg.work, "error")) {
		r = pg_maybe_fail(atomic_fetch_add(&call_seq, 1), cfg.error_every);
		if (r < 0)
			atomic_fetch_add(&errors_returned, 1);
	} else if (!strcmp(cfg.work, "hot")) {
		pg_hot(i);
		return;
	} else {	/* request: one input in ten is negative */
		int x = (int)(i % 100) - 10;

		r = handle_request(x);
		atomic_fetch_add(&req_total, 1);
		if (x < 0 && r == -EINVAL)
			atomic_fetch_add(&req_rejected, 1);	/* fixed behaviour */
		else if (x < 0 && r == 2 * x + 1)
			atomic_fetch_add(&req_bug, 1);		/* the bug */
		else if (x >= 0 && r == 2 * x + 1)
			atomic_fetch_add(&req_ok, 1);
		else {
			atomic_fetch_add(&req_failed, 1);	/* an error or a wrong answer */
			atomic_fetch_add(&errors_returned, 1);
		}
	}
	record(t0);
}

static void *worker(void *arg)
{
	long long period = cfg.rate > 0 ? (long long)(1e9 / cfg.rate) : 0, next = now_ns();
	unsigned int seed = (unsigned int)(uintptr_t)&period ^ (unsigned int)next;

	(void)arg;
	while (!go && !stop)
		usleep(1000);
	long i;

	for (i = 0; !stop && (!cfg.calls || i < cfg.calls); i++) {
		one_call(i);
		if (period) {
			long long d;

			/*
			 * Poisson arrivals: exponential gaps with the mean period.  A
			 * fixed period would let one stop-the-world pause (a live
			 * patch, a debugger) line all workers up for good, so that
			 * they collide on the CPUs from then on: a latency change
			 * that has nothing to do with the code.
			 */
			next += (long long)(-log(1.0 - rand_r(&seed) / ((double)RAND_MAX + 1.0)) * period);
			d = next - now_ns();
			if (d > 0) {
				struct timespec ts = { d / 1000000000LL, d % 1000000000LL };

				nanosleep(&ts, NULL);
			}
		}
	}
	if (!strcmp(cfg.work, "hot"))
		atomic_fetch_add(&hot_calls, i);
	return NULL;
}

static void *blocker(void *arg)
{
	(void)arg;
	while (!go && !stop)
		usleep(1000);
	fprintf(stderr, "demo-service: blocker tid %ld entering pg_block\n", (long)syscall(SYS_gettid));
	/* parked inside compute_answer() -> pg_block(): a patch to either must wait */
	compute_answer(PARK_INPUT);
	return NULL;
}

/* Write what the service has answered so far, atomically (tmp + rename). */
static void write_status(void)
{
	char tmp[4200];
	FILE *f;

	if (!status_path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", status_path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "{\"pid\":%d,\"requests\":%ld,\"ok\":%ld,\"bug\":%ld,\"rejected\":%ld,"
		"\"failed\":%ld,\"blocked\":%d}\n", getpid(), atomic_load(&req_total),
		atomic_load(&req_ok), atomic_load(&req_bug), atomic_load(&req_rejected),
		atomic_load(&req_failed), atomic_load(&blocked_now));
	fclose(f);
	rename(tmp, status_path);
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		go = 1;
	else if (sig == SIGUSR2)
		release_blocked = 1;
	else
		stop = 1;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void usage(void)
{
	printf("Usage: demo-service [OPTIONS]\n\n"
	       "  -t, --threads N       worker threads (default 2)\n"
	       "  -n, --calls N         calls per worker, then exit (default: forever)\n"
	       "  -r, --rate R          calls/s per worker (default: flat out)\n"
	       "  -w, --work KIND       request|sleep|busy|recurse|error|hot (default request)\n"
	       "      --depth D         recursion depth for 'recurse' (default 10)\n"
	       "      --error-every K   'error' fails every K-th call (default 10)\n"
	       "      --busy-us US      'busy' duration (default 200)\n"
	       "      --sleep-us US     'sleep' duration (default 1000)\n"
	       "  -b, --block N         park N threads inside pg_block() until SIGUSR2\n"
	       "  -s, --wait-signal     start calling only after SIGUSR1\n"
	       "  -d, --duration S      stop after S seconds\n"
	       "      --status FILE     keep FILE updated (every 100 ms) with the request\n"
	       "                        outcomes: ok, bug (negative input answered),\n"
	       "                        rejected (negative input refused), failed\n\n"
	       "On exit prints {\"calls\":..,\"errors\":..,\"p50_ns\":..,...} measured by itself.\n"
	       "Example: demo-service -t 1 -n 200 -w sleep --wait-signal\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "calls", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "work", required_argument, NULL, 'w' },
		{ "depth", required_argument, NULL, 'D' },
		{ "error-every", required_argument, NULL, 'E' },
		{ "busy-us", required_argument, NULL, 'B' },
		{ "sleep-us", required_argument, NULL, 'S' },
		{ "block", required_argument, NULL, 'b' },
		{ "wait-signal", no_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "status", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	pthread_t *tids, *btids;
	long long t_start;
	int c;

	while ((c = getopt_long(argc, argv, "t:n:r:w:b:sd:h", opts, NULL)) != -1) {
		switch (c) {
		case 't': cfg.threads = atoi(optarg); break;
		case 'n': cfg.calls = atol(optarg); break;
		case 'r': cfg.rate = atof(optarg); break;
		case 'w': cfg.work = optarg; break;
		case 'D': cfg.depth = atoi(optarg); break;
		case 'E': cfg.error_every = atol(optarg); break;
		case 'B': cfg.busy_us = (unsigned)atoi(optarg); break;
		case 'S': cfg.sleep_us = (unsigned)atoi(optarg); break;
		case 'b': cfg.block = atoi(optarg); break;
		case 's': cfg.wait_signal = 1; break;
		case 'd': cfg.duration = atof(optarg); break;
		case 'F': status_path = optarg; break;
		case 'h': usage(); return 0;
		default: usage(); return 1;
		}
	}
	if (cfg.threads < 0 || cfg.threads > 4096 || cfg.block < 0 || cfg.block > 4096) {
		fprintf(stderr, "demo-service: bad thread count\n");
		return 1;
	}
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	lat_cap = cfg.calls ? cfg.calls * cfg.threads : 1000000;
	lat_ns = calloc(lat_cap, sizeof(*lat_ns));
	tids = calloc(cfg.threads + 1, sizeof(*tids));
	btids = calloc(cfg.block + 1, sizeof(*btids));
	if (!lat_ns || !tids || !btids)
		return 1;
	for (int i = 0; i < cfg.block; i++)
		pthread_create(&btids[i], NULL, blocker, NULL);
	go = !cfg.wait_signal;
	fprintf(stderr, "demo-service: pid %d ready (%d workers, work=%s%s)\n", getpid(),
		cfg.threads, cfg.work, cfg.wait_signal ? ", waiting for SIGUSR1" : "");
	for (int i = 0; i < cfg.threads; i++)
		pthread_create(&tids[i], NULL, worker, NULL);
	while (!go && !stop)
		usleep(1000);
	t_start = now_ns();
	if (cfg.duration > 0 || status_path) {
		/* with --status and no --duration: until the workers finish or a signal */
		while (!stop && (cfg.duration <= 0 || now_ns() - t_start < cfg.duration * 1e9)) {
			usleep(100000);
			write_status();
			if (cfg.duration <= 0 && cfg.calls)
				break;
		}
		if (cfg.duration > 0)
			stop = 1;
	}
	for (int i = 0; i < cfg.threads; i++)
		pthread_join(tids[i], NULL);
	if (cfg.block && !cfg.threads)
		while (!release_blocked && !stop)
			usleep(10000);
	for (int i = 0; i < cfg.block; i++)
		pthread_join(btids[i], NULL);
	write_status();

	long n = atomic_load(&lat_n);
	double elapsed = (now_ns() - t_start) / 1e9;

	if (n > lat_cap)
		n = lat_cap;
	if (!strcmp(cfg.work, "hot")) {
		long h = atomic_load(&hot_calls);

		printf("{\"calls\":%ld,\"elapsed_s\":%.6f,\"ns_per_call\":%.2f}\n",
		       h, elapsed, h ? elapsed * 1e9 / h * (cfg.threads ? cfg.threads : 1) : 0.0);
		return 0;
	}
	qsort(lat_ns, n, sizeof(*lat_ns), cmp_ll);
	printf("{\"calls\":%ld,\"errors\":%ld,\"p50_ns\":%lld,\"p90_ns\":%lld,\"p99_ns\":%lld,"
	       "\"max_ns\":%lld,\"elapsed_s\":%.3f}\n",
	       n, atomic_load(&errors_returned), n ? lat_ns[n / 2] : 0, n ? lat_ns[n * 9 / 10] : 0,
	       n ? lat_ns[n * 99 / 100] : 0, n ? lat_ns[n - 1] : 0, elapsed);
	free(lat_ns);
	free(tids);
	free(btids);
	return 0;
}
