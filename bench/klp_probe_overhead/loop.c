// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Guest helper of the kernel probe benchmark: N getppid() system calls
 * (each runs __x64_sys_getppid once), prints the mean ns per call.
 * Built statically, runs in the VM rig's busybox guest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n);
	return 0;
}
