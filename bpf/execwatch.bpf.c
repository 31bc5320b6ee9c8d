// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Every exec on the host, as the tgid that now runs a new image, to user
 * space through a ring buffer.  A rollout uses it to see the processes that
 * start while it runs; whether the new image is the rollout's target is a
 * build-id question for user space.  A full ring buffer drops the event and
 * counts it in `lost`, and user space then falls back to a full scan.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <patchgate/abi.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, PG_EXEC_RING);
} events SEC(".maps");

__u64 lost = 0;

/* BTF-typed, so that attaching needs no tracefs: current is the task that exec'd */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(pg_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct pg_exec_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return 0;
	}
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->pad = 0;
	e->ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return 0;
}
