// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pgvm-getpid: call the getpid system call in a loop until killed: the
 * load under which a livepatch of getpid goes in and out (VM scenarios).
 * syscall(2), not getpid(3), so that no library can answer from a cache.
 */
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	for (;;)
		syscall(SYS_getpid);
}
