// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/caps.h"

int pg_caps_effective(uint64_t *mask)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

	*mask = 0;
	if (syscall(SYS_capget, &h, d))
		return -errno;
	*mask = (uint64_t)d[0].effective | (uint64_t)d[1].effective << 32;
	return 0;
}

const char *pg_cap_name(int cap)
{
	static const char *const names[] = {
		[CAP_DAC_OVERRIDE] = "CAP_DAC_OVERRIDE",
		[CAP_SYS_MODULE] = "CAP_SYS_MODULE",
		[CAP_SYS_PTRACE] = "CAP_SYS_PTRACE",
		[CAP_SYS_ADMIN] = "CAP_SYS_ADMIN",
		[CAP_SYS_NICE] = "CAP_SYS_NICE",
		[CAP_PERFMON] = "CAP_PERFMON",
		[CAP_BPF] = "CAP_BPF",
	};

	if (cap >= 0 && cap < (int)(sizeof(names) / sizeof(names[0])) && names[cap])
		return names[cap];
	return "CAP_#?";
}
