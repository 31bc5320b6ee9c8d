// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/outcome.h"
#include "gate/preflight.h"
#include "lib/caps.h"
#include "lib/statedir.h"

/* One capability a need brings, and why, as the message says it. */
struct need_cap {
	unsigned int need;
	int cap;
	int or_cap;		/* also satisfies it (-1: none) */
	const char *why;
};

static const struct need_cap need_caps[] = {
	{ GATE_NEED_PTRACE, CAP_SYS_PTRACE, -1,
	  "to read the target's maps and memory and to stop its threads" },
	{ GATE_NEED_UPROBE, CAP_BPF, CAP_SYS_ADMIN, "to load the BPF programs" },
	{ GATE_NEED_UPROBE, CAP_PERFMON, CAP_SYS_ADMIN, "for BPF tracing programs" },
	{ GATE_NEED_UPROBE, CAP_SYS_ADMIN, -1, "the kernel creates uprobe perf events for CAP_SYS_ADMIN only" },
	{ GATE_NEED_KBPF, CAP_BPF, CAP_SYS_ADMIN, "to load the BPF programs" },
	{ GATE_NEED_KBPF, CAP_PERFMON, CAP_SYS_ADMIN, "for BPF tracing programs and kprobes" },
	{ GATE_NEED_MODULE, CAP_SYS_MODULE, -1, "to load and remove livepatch modules" },
	{ GATE_NEED_MEM, CAP_DAC_OVERRIDE, -1, "/proc/PID/mem of a process of another uid is mode 0600" },
};

static bool has(uint64_t eff, int cap)
{
	return cap >= 0 && (eff >> cap) & 1;
}

static int check_caps(struct pg_ctx *ctx, const char *cmd, unsigned int need, int pid)
{
	char missing[256] = "", why[512] = "";
	size_t m = 0, w = 0;
	uint64_t eff;
	int e;

	if (need & GATE_NEED_MEM) {
		char path[32];
		struct stat st;

		snprintf(path, sizeof(path), "/proc/%d", pid);
		/* the same uid opens its own processes' memory without DAC_OVERRIDE */
		if (!pid || stat(path, &st) || st.st_uid == getuid())
			need &= ~GATE_NEED_MEM;
	}
	e = pg_caps_effective(&eff);
	if (e) {
		pg_err(ctx, PG_EXIT_SYSTEM, "%s: cannot read this process's capabilities: %s", cmd, strerror(-e));
		return PG_EXIT_SYSTEM;
	}
	for (size_t i = 0; i < sizeof(need_caps) / sizeof(need_caps[0]); i++) {
		const struct need_cap *c = &need_caps[i];

		if (!(need & c->need) || has(eff, c->cap) || has(eff, c->or_cap) || strstr(missing, pg_cap_name(c->cap)))
			continue;
		m += snprintf(missing + m, m < sizeof(missing) ? sizeof(missing) - m : 0, "%s%s", m ? ", " : "",
			      pg_cap_name(c->cap));
		w += snprintf(why + w, w < sizeof(why) ? sizeof(why) - w : 0, "%s%s: %s", w ? "; " : "",
			      pg_cap_name(c->cap), c->why);
	}
	if (!m)
		return 0;
	pg_err(ctx, PG_EXIT_USAGE, "%s: missing capabilit%s %s (%s) -- see docs/security.md; nothing was done",
	       cmd, strchr(missing, ',') ? "ies" : "y", missing, why);
	return PG_EXIT_USAGE;
}

static int check_statedir(struct pg_ctx *ctx, const char *cmd, bool create)
{
	char why[1024];
	int fd;

	fd = pg_statedir_open(ctx->state_dir ? ctx->state_dir : PG_STATE_DIR_DEFAULT, create, why, sizeof(why));
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (fd == -ENOENT && !create)
		return 0;	/* nothing recorded yet */
	pg_err(ctx, fd == -EPERM ? PG_EXIT_USAGE : PG_EXIT_SYSTEM, "%s: %s", cmd, why);
	return fd == -EPERM ? PG_EXIT_USAGE : PG_EXIT_SYSTEM;
}

int gate_preflight(struct pg_ctx *ctx, const char *cmd, unsigned int need, int pid)
{
	int e = check_caps(ctx, cmd, need, pid);

	if (!e && (need & (GATE_NEED_STATEDIR | GATE_NEED_STATEDIR_RO)))
		e = check_statedir(ctx, cmd, need & GATE_NEED_STATEDIR);
	return e;
}
