// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pgvm-getpid [CALLS [PAUSE_US]]: call the getpid system call in a loop
 * until killed: the load under which a livepatch of getpid goes in and out
 * (VM scenarios).  syscall(2), not getpid(3), so that no library can answer
 * from a cache.  After every CALLS calls (default 1000) it sleeps PAUSE_US
 * microseconds (default 1000; 0: never, a loader that never leaves the CPU).
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long calls = argc > 1 ? atol(argv[1]) : 1000;
	long pause_us = argc > 2 ? atol(argv[2]) : 1000;
	struct timespec ts = { .tv_sec = pause_us / 1000000, .tv_nsec = pause_us % 1000000 * 1000 };

	if (calls <= 0)
		calls = 1000;
	for (;;) {
		for (long i = 0; i < calls; i++)
			syscall(SYS_getpid);
		if (pause_us > 0)
			nanosleep(&ts, NULL);
	}
}
