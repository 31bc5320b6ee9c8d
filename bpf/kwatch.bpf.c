// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel-side probes: fentry/fexit on each target function, or
 * kprobe/kretprobe when fentry cannot load (no BTF for the function, a
 * kernel without trampolines).  The controller loads one pair; for fentry
 * it clones the pair per function (a trampoline program is bound to one
 * function at load), for kprobes it attaches the same pair everywhere.
 * The attach cookie carries the function index.  Same maps and ABI as the
 * process side (bpf/uwatch.bpf.c): this only counts.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <patchgate/abi.h>
#include "hist.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* per (function, generation slot): calls, exits, errors, latency sums */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PG_MAX_FUNCS * PG_GEN_SLOTS);
	__type(key, __u32);
	__type(value, struct pg_func_stats);
} stats SEC(".maps");

/* per (function, generation slot): log-linear latency histogram */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PG_MAX_FUNCS * PG_GEN_SLOTS);
	__type(key, __u32);
	__type(value, struct pg_hist);
} hists SEC(".maps");

/* per function: tasks inside now, and the high-water mark (shared, atomic) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PG_MAX_FUNCS);
	__type(key, __u32);
	__type(value, struct pg_inflight);
} inflight SEC(".maps");

/* per task: entry timestamps of the traced calls it is inside */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pg_nest);
} nest SEC(".maps");

/* set through skel->rodata before load */
const volatile __u8 err_mode[PG_MAX_FUNCS] = {};

/* bumped by the controller through the mmaped .bss when a patch goes in */
volatile __u32 generation = 0;

static __always_inline void count_inflight(__u32 fn, long delta)
{
	struct pg_inflight *inf = bpf_map_lookup_elem(&inflight, &fn);
	__s64 now;

	if (!inf)
		return;
	now = __sync_fetch_and_add(&inf->now, delta) + delta;
	/* racy high-water mark: good enough for a gauge */
	if (delta > 0 && now > inf->max)
		inf->max = now;
}

static __always_inline void on_entry(__u32 fn)
{
	__u32 slot = generation & (PG_GEN_SLOTS - 1), key, d;
	struct pg_func_stats *st;
	struct pg_nest *n;

	fn &= PG_NEST_FN_MASK;
	key = fn * PG_GEN_SLOTS + slot;
	st = bpf_map_lookup_elem(&stats, &key);
	if (st)
		st->calls += 1;
	count_inflight(fn, 1);
	/* NULL when the storage is busy (a probe hit inside the storage code) */
	n = bpf_task_storage_get(&nest, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!n)
		return;
	d = n->depth;
	if (d < PG_NEST_DEPTH) {
		/* the mask is a no-op after the check; the verifier wants it */
		n->fn[d & (PG_NEST_DEPTH - 1)] = fn | (slot << PG_NEST_GEN_SHIFT);
		n->ts[d & (PG_NEST_DEPTH - 1)] = bpf_ktime_get_ns();
	} else if (st) {
		st->overflow += 1;
	}
	n->depth = d + 1;
}

/* Is @ret an error under @mode?  An int return is zero-extended in rax. */
static __always_inline bool is_error(__u8 mode, __u64 ret)
{
	if (mode == PG_ERR_NEG)
		return (ret >> 32) ? (__s64)ret < 0 : (__s32)ret < 0;
	if (mode == PG_ERR_ZERO)
		return ret == 0;
	return false;
}

static __always_inline void on_exit(__u32 fn, __u64 ret)
{
	__u64 now = bpf_ktime_get_ns(), delta;
	__u32 slot, key, d, b;
	struct pg_func_stats *st;
	struct pg_nest *n;
	struct pg_hist *h;
	__u8 f;

	fn &= PG_NEST_FN_MASK;
	n = bpf_task_storage_get(&nest, bpf_get_current_task_btf(), 0, 0);
	if (!n || !n->depth) {
		/* a call that began before we attached: no entry to match */
		key = fn * PG_GEN_SLOTS + (generation & (PG_GEN_SLOTS - 1));
		st = bpf_map_lookup_elem(&stats, &key);
		if (st)
			st->lost += 1;
		return;
	}
	count_inflight(fn, -1);
	d = n->depth - 1;
	n->depth = d;
	if (d >= PG_NEST_DEPTH) {
		/* deeper than the cap: counted at entry, not timed */
		key = fn * PG_GEN_SLOTS + (generation & (PG_GEN_SLOTS - 1));
		st = bpf_map_lookup_elem(&stats, &key);
		if (st) {
			st->exits += 1;
			if (is_error(err_mode[fn], ret))
				st->errors += 1;
		}
		return;
	}
	d &= PG_NEST_DEPTH - 1;
	f = n->fn[d];
	/* the generation the call began in: in-flight calls keep their side */
	slot = (f >> PG_NEST_GEN_SHIFT) & (PG_GEN_SLOTS - 1);
	key = fn * PG_GEN_SLOTS + slot;
	st = bpf_map_lookup_elem(&stats, &key);
	if (!st)
		return;
	st->exits += 1;
	if (is_error(err_mode[fn], ret))
		st->errors += 1;
	if ((f & PG_NEST_FN_MASK) != fn) {
		/* an unmatched frame (entry lost to a busy storage): drop the timing */
		st->lost += 1;
		return;
	}
	delta = now - n->ts[d];
	st->sum_ns += delta;
	if (delta > st->max_ns)
		st->max_ns = delta;
	h = bpf_map_lookup_elem(&hists, &key);
	if (h) {
		b = pg_hist_bucket(delta);
		h->slots[b]++;
	}
}

/* The attach target is set by the controller (bpf_program__set_attach_target). */
SEC("fentry")
int BPF_PROG(pg_fentry)
{
	on_entry((__u32)bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("fexit")
int BPF_PROG(pg_fexit)
{
	__u64 ret = 0;

	/* the return value sits after the arguments; the helper knows how many */
	bpf_get_func_ret(ctx, &ret);
	on_exit((__u32)bpf_get_attach_cookie(ctx), ret);
	return 0;
}

SEC("kprobe")
int BPF_KPROBE(pg_kprobe)
{
	on_entry((__u32)bpf_get_attach_cookie(ctx));
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(pg_kretprobe, long ret)
{
	on_exit((__u32)bpf_get_attach_cookie(ctx), (__u64)ret);
	return 0;
}

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

SEC("kprobe")
int BPF_KPROBE(pg_empty_kprobe)
{
	return 0;
}

SEC("kretprobe")
int BPF_KRETPROBE(pg_empty_kretprobe)
{
	return 0;
}
