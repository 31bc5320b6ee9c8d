// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Process-side probes: a uprobe and a uretprobe on each target function.
 * One program pair serves every function; the attach cookie carries the
 * function index.  All thresholds live in user space: this only counts.
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

/* per function: threads inside now, and the high-water mark (shared, atomic) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PG_MAX_FUNCS);
	__type(key, __u32);
	__type(value, struct pg_inflight);
} inflight SEC(".maps");

/*
 * per thread: entry timestamps of the calls it is inside.  Task-local
 * storage rather than a hash keyed by tid: the lookup is a pointer walk
 * from the current task (no hashing, no LRU bookkeeping) and the storage
 * dies with the thread.  It cannot be iterated from user space; residency
 * unwinds stacks instead (user/observe/ustack.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pg_nest);
} nest SEC(".maps");

/*
 * Set through skel->rodata before load.  There is no pid check here: the
 * uprobes are attached for one pid, and the kernel's uprobe filter runs
 * the programs for that process only (a pid/tgid helper call would cost
 * ~20 ns per hit on this machine, 10% of the budget).
 */
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

SEC("uprobe")
int BPF_KPROBE(pg_entry)
{
	__u32 fn, slot, key, d;
	struct pg_func_stats *st;
	struct pg_nest *n;

	fn = (__u32)bpf_get_attach_cookie(ctx) & PG_NEST_FN_MASK;
	slot = generation & (PG_GEN_SLOTS - 1);
	key = fn * PG_GEN_SLOTS + slot;

	n = bpf_task_storage_get(&nest, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!n)
		return 0;
	st = bpf_map_lookup_elem(&stats, &key);
	if (st)
		__sync_fetch_and_add(&st->calls, 1);
	count_inflight(fn, 1);

	d = n->depth;
	if (d < PG_NEST_DEPTH) {
		/* the mask is a no-op after the check; the verifier wants it */
		n->fn[d & (PG_NEST_DEPTH - 1)] = fn | (slot << PG_NEST_GEN_SHIFT);
		n->ts[d & (PG_NEST_DEPTH - 1)] = bpf_ktime_get_ns();
	} else if (st) {
		__sync_fetch_and_add(&st->overflow, 1);
	}
	n->depth = d + 1;
	return 0;
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

SEC("uretprobe")
int BPF_KRETPROBE(pg_exit, long ret_)
{
	__u64 now = bpf_ktime_get_ns(), delta, ret = (__u64)ret_;
	__u32 fn, slot, key, d, b;
	struct pg_func_stats *st;
	struct pg_nest *n;
	struct pg_hist *h;
	__u8 f;

	fn = (__u32)bpf_get_attach_cookie(ctx) & PG_NEST_FN_MASK;
	n = bpf_task_storage_get(&nest, bpf_get_current_task_btf(), 0, 0);
	if (!n || !n->depth) {
		/* a call that began before we attached: no entry to match */
		slot = generation & (PG_GEN_SLOTS - 1);
		key = fn * PG_GEN_SLOTS + slot;
		st = bpf_map_lookup_elem(&stats, &key);
		if (st)
			__sync_fetch_and_add(&st->lost, 1);
		return 0;
	}
	d = n->depth - 1;
	n->depth = d;
	count_inflight(fn, -1);
	if (d >= PG_NEST_DEPTH) {
		/* deeper than the cap: counted at entry, not timed */
		slot = generation & (PG_GEN_SLOTS - 1);
		key = fn * PG_GEN_SLOTS + slot;
		st = bpf_map_lookup_elem(&stats, &key);
		if (st) {
			__sync_fetch_and_add(&st->exits, 1);
			if (is_error(err_mode[fn], ret))
				__sync_fetch_and_add(&st->errors, 1);
		}
		return 0;
	}
	d &= PG_NEST_DEPTH - 1;
	f = n->fn[d];
	/* the generation the call began in: in-flight calls keep their side */
	slot = (f >> PG_NEST_GEN_SHIFT) & (PG_GEN_SLOTS - 1);
	key = fn * PG_GEN_SLOTS + slot;
	st = bpf_map_lookup_elem(&stats, &key);
	if (!st)
		return 0;
	__sync_fetch_and_add(&st->exits, 1);
	if (is_error(err_mode[fn], ret))
		__sync_fetch_and_add(&st->errors, 1);
	if ((f & PG_NEST_FN_MASK) != fn) {
		/* a frame we did not see return (longjmp): drop the timing */
		__sync_fetch_and_add(&st->lost, 1);
		return 0;
	}
	delta = now - n->ts[d];
	/*
	 * Per-CPU, but a uprobe program can be preempted by another thread's
	 * hit on the same CPU: the counts above are atomic so they stay exact;
	 * the latency sums and buckets below accept a rare lost update, which
	 * saves ~40 ns per call (bench/probe_overhead).
	 */
	st->sum_ns += delta;
	if (delta > st->max_ns)
		st->max_ns = delta;
	h = bpf_map_lookup_elem(&hists, &key);
	if (h) {
		b = pg_hist_bucket(delta);
		h->slots[b]++;
	}
	return 0;
}

/*
 * (BPF_KPROBE/BPF_KRETPROBE only unpack pt_regs: libbpf 1.1 has no
 * BPF_UPROBE; a uprobe program is a kprobe-type program.)
 *
 * Empty pair, for the overhead benchmark's floor (bench/probe_overhead). */
SEC("uprobe")
int BPF_KPROBE(pg_empty_entry)
{
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(pg_empty_exit)
{
	return 0;
}
