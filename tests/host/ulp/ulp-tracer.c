// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Holds PID traced (PTRACE_SEIZE, no stop) until killed: "another tracer" fixture. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	if (ptrace(PTRACE_SEIZE, atoi(argv[1]), 0, 0)) {
		perror("ulp-tracer: PTRACE_SEIZE");
		return 1;
	}
	printf("tracing\n");
	fflush(stdout);
	for (;;)
		pause();
}
