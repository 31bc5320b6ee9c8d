// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Target process for the ulp host tests and the apply_pause benchmark.
 *
 *   ulp-target HOT IDLE CHURN
 *
 * HOT threads call pg_compute() in a hot loop and abort() on any result
 * that is neither the old (3x) nor the patched (3x + PG_BUMP) behaviour.
 * IDLE threads call it once a millisecond.  CHURN (0/1) adds one thread
 * churning malloc/free and one churning dlopen/dlclose of libulpchurn.so.
 * Commands on stdin, one answer line each on stdout:
 *   check old|new  every hot call started after this command returned the
 *                  named behaviour ("ok", or "bad N")
 *   block          a thread enters pg_blockme() and stays ("blocked TID")
 *   release        it leaves ("released")
 *   quit
 * Built with -pg -mfentry -mnop-mcount, so functions start with a nop5.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PG_BUMP 1000000
#define MAX_HOT 64

static atomic_long epoch = 1;
static atomic_long done_epoch[MAX_HOT];
static atomic_long old_epoch[MAX_HOT];
static atomic_long new_epoch[MAX_HOT];
__attribute__((used)) static atomic_int block_flag;
__attribute__((used)) static atomic_int in_block;
static int nhot;
static const char *churn_lib;

/* patched by patches/good.c; reached by the patch through its static name */
__attribute__((used)) static int pg_bias = PG_BUMP;

__attribute__((noinline, used)) static int helper_add(int a, int b)
{
	return a + b;
}

/* always 0; read so that pg_compute is long enough for a jump without nop5 (PIE build) */
static volatile int pg_zero;

__attribute__((noinline)) int pg_compute(int x)
{
	return x * 3 + pg_zero;
}

/* ten functions for patches/wide.c: a patch of more functions than a report once held (8) */
#define PG_WIDE(n) __attribute__((noinline, used)) int pg_wide##n(int x) { return x + n + pg_zero; }
PG_WIDE(0) PG_WIDE(1) PG_WIDE(2) PG_WIDE(3) PG_WIDE(4)
PG_WIDE(5) PG_WIDE(6) PG_WIDE(7) PG_WIDE(8) PG_WIDE(9)

/* a 1-byte function: too short for any jump */
__asm__(".globl pg_tiny\n.type pg_tiny,@function\npg_tiny: ret\n.size pg_tiny,1\n");

__attribute__((noinline)) int pg_blockme(void)
{
	atomic_store(&in_block, 1);
	while (atomic_load(&block_flag))
		usleep(1000);
	atomic_store(&in_block, 0);
	return 1;
}

static void spin(int n)
{
	for (volatile int i = 0; i < n; i++)
		;
}

static void *hot(void *arg)
{
	int id = (int)(long)arg;

	for (int x = 1;; x = (x + 7) & 0xffff) {
		long e = atomic_load(&epoch);
		int r = pg_compute(x);

		if (r == x * 3)
			atomic_store(&old_epoch[id], e);
		else if (r == x * 3 + pg_bias)
			atomic_store(&new_epoch[id], e);
		else {
			fprintf(stderr, "ulp-target: pg_compute(%d) = %d: neither old nor new\n", x, r);
			abort();
		}
		atomic_store(&done_epoch[id], e);
		spin(200);
	}
	return NULL;
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;) {
		if (pg_compute(2) != 6 && pg_compute(2) != 6 + pg_bias)
			abort();
		usleep(1000);
	}
	return NULL;
}

static void *churn_malloc(void *arg)
{
	(void)arg;
	for (unsigned i = 0;; i++) {
		void *p[16];

		for (int k = 0; k < 16; k++)
			p[k] = malloc(16 + (i * 37 + k * 101) % 8192);
		for (int k = 0; k < 16; k++)
			free(p[k]);
	}
	return NULL;
}

static void *churn_dl(void *arg)
{
	(void)arg;
	for (;;) {
		void *h = dlopen(churn_lib, RTLD_NOW | RTLD_LOCAL);

		if (!h) {
			fprintf(stderr, "ulp-target: dlopen: %s\n", dlerror());
			abort();
		}
		dlclose(h);
	}
	return NULL;
}

static void *blocker(void *arg)
{
	(void)arg;
	printf("blocked %ld\n", (long)syscall(SYS_gettid));
	fflush(stdout);
	pg_blockme();
	return NULL;
}

static void check(const char *want)
{
	long e = atomic_fetch_add(&epoch, 1) + 1;
	int bad = 0;

	for (int i = 0; i < nhot; i++)
		while (atomic_load(&done_epoch[i]) < e)
			usleep(100);
	for (int i = 0; i < nhot; i++) {
		if (!strcmp(want, "new") && atomic_load(&old_epoch[i]) >= e)
			bad++;
		if (!strcmp(want, "old") && atomic_load(&new_epoch[i]) >= e)
			bad++;
	}
	if (bad)
		printf("bad %d\n", bad);
	else
		printf("ok\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int nidle = argc > 2 ? atoi(argv[2]) : 0;
	int churn = argc > 3 ? atoi(argv[3]) : 0;
	char line[128], lib[4096];
	pthread_t th;

	nhot = argc > 1 ? atoi(argv[1]) : 0;
	if (nhot > MAX_HOT)
		nhot = MAX_HOT;
	snprintf(lib, sizeof(lib), "%s", argv[0]);
	strcpy(strrchr(lib, '/') ? strrchr(lib, '/') + 1 : lib, "libulpchurn.so");
	churn_lib = lib;
	for (int i = 0; i < nhot; i++)
		pthread_create(&th, NULL, hot, (void *)(long)i);
	for (int i = 0; i < nidle; i++) {
		pthread_attr_t a;

		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 64 << 10);
		pthread_create(&th, &a, idle, NULL);
		pthread_attr_destroy(&a);
	}
	if (churn) {
		pthread_create(&th, NULL, churn_malloc, NULL);
		pthread_create(&th, NULL, churn_dl, NULL);
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "check ", 6)) {
			line[strcspn(line, "\n")] = '\0';
			check(line + 6);
		} else if (!strncmp(line, "block", 5)) {
			atomic_store(&block_flag, 1);
			pthread_create(&th, NULL, blocker, NULL);
			while (!atomic_load(&in_block))
				usleep(100);
		} else if (!strncmp(line, "release", 7)) {
			atomic_store(&block_flag, 0);
			while (atomic_load(&in_block))
				usleep(100);
			printf("released\n");
			fflush(stdout);
		} else if (!strncmp(line, "quit", 4)) {
			break;
		}
	}
	return (int)(helper_add(0, 0) + pg_bias * 0);
}
