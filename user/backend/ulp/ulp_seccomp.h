/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The seccomp state of the thread syscalls are injected into: its mode
 * (/proc/PID/task/TID/status) and its filters (PTRACE_SECCOMP_GET_FILTER),
 * and a classic-BPF evaluator that tells, before a syscall is injected,
 * whether every filter lets it through.  An injected syscall that a
 * filter would kill, trap, fail or hand to a tracer is never run.
 */
#ifndef PG_BACKEND_ULP_SECCOMP_H
#define PG_BACKEND_ULP_SECCOMP_H

#include <stddef.h>
#include <stdint.h>

/* One syscall as it will be injected. */
struct ulp_sc_call {
	long nr;
	uint64_t a[6];
	unsigned int known;	/* bit i: a[i] is the exact value (else not known yet) */
};

#define ULP_SC_ALL_KNOWN 0x3fu

struct ulp_seccomp;

/*
 * Read the seccomp state of the ptrace-stopped thread @tid of @pid.
 * *@out is NULL when the thread has no seccomp at all.  -EPERM with a
 * message in @why when injecting into it cannot be made safe: strict
 * mode, or a filter that cannot be read (no CAP_SYS_ADMIN, a kernel
 * without CONFIG_CHECKPOINT_RESTORE).  Other -errno on failure.
 */
int ulp_seccomp__read(int pid, int tid, struct ulp_seccomp **out, char *why, size_t whylen);
/* Accepts NULL. */
void ulp_seccomp__free(struct ulp_seccomp *sc);

/*
 * 0 when every filter of @sc (NULL: none) returns ALLOW or LOG for @c
 * made at @ip (the address after the syscall instruction) on x86-64.
 * -EPERM with a message in @why when a filter returns anything else, or
 * when its verdict depends on an argument not known yet (@c->known) or
 * the filter is malformed.
 */
int ulp_seccomp__allows(const struct ulp_seccomp *sc, const struct ulp_sc_call *c, uint64_t ip, char *why,
			size_t whylen);

#endif
