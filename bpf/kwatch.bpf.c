// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel-side probes: fentry/fexit on each target function, or
 * kprobe/kretprobe when fentry cannot load (no BTF for the function, a
 * kernel without trampolines).  The controller loads one pair; for fentry
 * it clones the pair per function (a trampoline program is bound to one
 * function at load), for kprobes it attaches the same pair everywhere.
 * The attach cookie carries the function index.  The counting, maps and
 * ABI are bpf/count.bpf.h's, the same as for process targets: this only
 * counts.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <patchgate/abi.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#include "count.bpf.h"

/* The attach target is set by the controller (bpf_program__set_attach_target). */
SEC("fentry")
int BPF_PROG(pg_fentry)
{
	pg_count_entry((__u32)bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("fexit")
int BPF_PROG(pg_fexit)
{
	__u64 ret = 0;

	/* the return value sits after the arguments; the helper knows how many */
	bpf_get_func_ret(ctx, &ret);
	pg_count_exit((__u32)bpf_get_attach_cookie(ctx), ret);
	return 0;
}

/* the fallback where fentry cannot load */
PG_REGS_PROGS("kprobe", "kretprobe", pg_kprobe, pg_kretprobe)

/* Empty pairs: the cost floor for the overhead benchmark. */
SEC("fentry")
int BPF_PROG(pg_empty_fentry)
{
	return 0;
}

SEC("fexit")
int BPF_PROG(pg_empty_fexit)
{
	return 0;
}

PG_REGS_EMPTY_PROGS("kprobe", "kretprobe", pg_empty_kprobe, pg_empty_kretprobe)
