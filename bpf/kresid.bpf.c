// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel residency: an iter/task program that reads the kernel stack of
 * every task and writes one pg_resident record per (task, target
 * function) found on it, for the innermost matching frame.  Ranges come
 * from kallsyms through user space.  A running task's stack is read while
 * it changes: such records are flagged best-effort, as the livepatch core
 * itself refuses to trust them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <patchgate/abi.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define PF_KTHREAD	0x00200000	/* include/linux/sched.h */

/* target function address ranges, index = function id */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PG_MAX_FUNCS);
	__type(key, __u32);
	__type(value, struct pg_range);
} ranges SEC(".maps");

/*
 * Per-CPU scratch: the stack (1 KiB is over the 512-byte BPF stack), and
 * the functions found on it with their innermost frame.
 */
struct scratch {
	__u64 ips[PG_STACK_DEPTH];
	__u64 found;			/* bit per function */
	__u32 nips;
	__u8 frame[PG_MAX_FUNCS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

const volatile __u32 nranges = 0;

/* tasks walked, for the benchmark (per run; user space reads .bss) */
__u64 tasks_seen = 0;

/*
 * bpf_loop() callback: match frame @i against every range.  A loop
 * callback is verified once, where an open-coded 128 x 64 nest would be
 * walked path by path past the verifier's budget.
 */
static long scan_frame(__u32 i, void *unused)
{
	__u32 zero = 0;
	struct scratch *sc = bpf_map_lookup_elem(&scratch, &zero);
	__u64 ip;

	if (!sc || i >= sc->nips)
		return 1;
	ip = sc->ips[i & (PG_STACK_DEPTH - 1)];
	for (__u32 j = 0; j < PG_MAX_FUNCS && j < nranges; j++) {
		__u32 k = j;
		struct pg_range *r = bpf_map_lookup_elem(&ranges, &k);

		if (!r)
			break;
		if (ip < r->start || ip >= r->end)
			continue;
		if (!(sc->found & (1ULL << j))) {
			sc->found |= 1ULL << j;
			sc->frame[j] = i;
		}
		break;
	}
	return 0;
}

SEC("iter/task")
int pg_resid(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct pg_resident rec = {};
	struct scratch *sc;
	__u32 zero = 0;
	long n;

	if (!task)
		return 0;
	tasks_seen++;
	sc = bpf_map_lookup_elem(&scratch, &zero);
	if (!sc)
		return 0;
	n = bpf_get_task_stack(task, sc->ips, sizeof(sc->ips), 0);
	if (n <= 0)
		return 0;
	sc->nips = n / sizeof(__u64);
	sc->found = 0;
	bpf_loop(PG_STACK_DEPTH, scan_frame, NULL, 0);
	if (!sc->found)
		return 0;
	rec.pid = BPF_CORE_READ(task, tgid);
	rec.tid = BPF_CORE_READ(task, pid);
	rec.state = BPF_CORE_READ(task, __state);
	rec.flags = (BPF_CORE_READ(task, flags) & PF_KTHREAD) ? PG_RES_KTHREAD : 0;
	if (rec.state == 0)	/* TASK_RUNNING: the stack may be moving under us */
		rec.flags |= PG_RES_RUNNING;
	BPF_CORE_READ_STR_INTO(&rec.comm, task, comm);
	for (__u32 j = 0; j < PG_MAX_FUNCS && j < nranges; j++) {
		if (!(sc->found & (1ULL << j)))
			continue;
		rec.func = j;
		rec.frame = sc->frame[j];
		bpf_seq_write(seq, &rec, sizeof(rec));
	}
	return 0;
}
