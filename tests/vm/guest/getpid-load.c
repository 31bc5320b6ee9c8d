// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The guest's syscall load: getpid in a loop, through syscall(2) so that
 * no C library can answer from a cache, until killed.  Statically linked
 * by tests/vm/run.sh into the initramfs as /pg/bin/getpid-load.
 */
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	for (;;)
		syscall(SYS_getpid);
}
