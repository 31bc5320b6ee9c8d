/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel residency: which tasks have a target function on their kernel
 * stack right now, by an iter/task program (bpf/kresid.bpf.c) matching
 * each task's stack (bpf_get_task_stack, PG_STACK_DEPTH frames) against
 * the functions' kallsyms address ranges.
 */
#ifndef PG_OBSERVE_KRESID_H
#define PG_OBSERVE_KRESID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <patchgate/abi.h>

struct kresid;

struct kresid_target {
	char name[128];
	char module[64];	/* "" for vmlinux */
	unsigned long sympos;	/* 0: must be unique */
};

/*
 * Resolve the targets' ranges (kallsyms; -ENOENT / -ENOTUNIQ with a
 * message in @err), load and attach the iterator.  NULL with errno set.
 */
struct kresid *kresid__open(const struct kresid_target *t, int n, char *err, size_t errlen);
void kresid__free(struct kresid *kr);

/*
 * One scan: every task.  Fills up to @max records (pg_resident, func =
 * target index) and returns how many were found, or -errno.  @tasks gets
 * the number of tasks walked.
 */
int kresid__scan(struct kresid *kr, struct pg_resident *out, int max, uint64_t *tasks);

/* "R", "S", "D", "I", "T", "t", "P", "Z", "X" for a task __state value. */
const char *kresid_state_str(uint32_t state);

#endif
