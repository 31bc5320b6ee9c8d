/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one counting core of the watch probes, shared by bpf/uwatch.bpf.c
 * (uprobes on a process) and bpf/kwatch.bpf.c (fentry/fexit or kprobes on
 * the kernel).  Those files only take the function index (the attach
 * cookie) and the return value and call pg_count_entry()/pg_count_exit().
 *
 * This header also declares the maps and variables that user space reads
 * by name through either skeleton (user/probe/pgmaps.c): stats, hists,
 * inflight, nest, err_mode, generation.  Include it once per BPF object,
 * after LICENSE.
 *
 * Decided once, for both sides:
 *
 * - Task storage first.  A call is counted (calls, in-flight, a frame) only
 *   once its thread's nesting stack is in hand.  bpf_task_storage_get()
 *   returns NULL when the storage is busy (a kernel probe hit inside the
 *   storage code) or cannot allocate; in-flight raised before that lookup
 *   stayed one too high for good, since the return then has no frame to
 *   pop, and in-flight feeds the gate's hang rule.  Such a call's return is
 *   counted as lost instead.
 *
 * - In-flight counts frames: +1 for the function of a frame pushed, -1 for
 *   the function of the frame popped (for calls deeper than the stack, the
 *   returning function).  A return that pops another function's frame (its
 *   own entry found no storage) thus settles the frame's function, not one
 *   that was never raised, and in-flight always agrees with the stacks.
 *
 * - Counts (calls, exits, errors, overflow, lost) are atomic adds.  The
 *   maps are per-CPU, but a program is not alone on its CPU: uprobe and
 *   fentry programs run with migration, not preemption, disabled, so
 *   another thread's hit on the same CPU can come in between a load and a
 *   store, and a kernel probe can be interrupted by one that fires in an
 *   interrupt.  An add to a CPU-local line costs a few ns and keeps the
 *   counts exact, which the gate compares between generations.
 *
 * - Latency (sum_ns, max_ns, histogram buckets) is plain read-modify-write.
 *   The same race can lose one sample's update, which moves no quantile;
 *   making them atomic (two more adds and a compare-exchange loop for the
 *   max) cost ~40 ns per call on the uprobe path (bench/probe_overhead).
 */
#ifndef PG_COUNT_BPF_H
#define PG_COUNT_BPF_H

#include "hist.bpf.h"

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

/* per function: threads (tasks) inside now, and the high-water mark (shared) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PG_MAX_FUNCS);
	__type(key, __u32);
	__type(value, struct pg_inflight);
} inflight SEC(".maps");

/*
 * per thread (task): the frames of the traced calls it is inside.
 * Task-local storage rather than a hash keyed by tid: the lookup is a
 * pointer walk from the current task (no hashing, no LRU bookkeeping) and
 * the storage dies with the thread.  It cannot be iterated from user space;
 * residency unwinds stacks instead (user/probe/ustack.c, kresid.c).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pg_nest);
} nest SEC(".maps");

/* set through skel->rodata before load: enum pg_err_mode per function */
const volatile __u8 err_mode[PG_MAX_FUNCS] = {};

/* bumped by the controller through the mmaped .bss when a patch goes in */
volatile __u32 generation = 0;

/*
 * Bit fn set by the controller (mmaped .bss) once both of function fn's
 * probes are attached, and cleared before they come off.  An entry is
 * counted only while its bit is set: a call that begins while only the
 * entry probe is attached would push a frame whose return is never seen,
 * and under load the two attaches can lie tens of milliseconds apart
 * (175 calls left "in flight" were measured, which the hang rule read as
 * a hang).  A return with no frame is counted as lost, as before.
 */
volatile __u64 armed = 0;

/* Key of (@fn, @slot) in stats and hists: the layout user/probe/pgmaps.c reads. */
static __always_inline __u32 pg_key(__u32 fn, __u32 slot)
{
	return fn * PG_GEN_SLOTS + slot;
}

/* The generation slot of a call beginning now. */
static __always_inline __u32 pg_slot(void)
{
	return generation & (PG_GEN_SLOTS - 1);
}

/* Add @delta (+1 or -1) to @fn's in-flight count; raise its high-water mark. */
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

/* Is @ret an error under @mode?  An int return is zero-extended in rax. */
static __always_inline bool is_error(__u8 mode, __u64 ret)
{
	if (mode == PG_ERR_NEG)
		return (ret >> 32) ? (__s64)ret < 0 : (__s32)ret < 0;
	if (mode == PG_ERR_ZERO)
		return ret == 0;
	return false;
}

/* Count one return of @fn (a masked index) with value @ret in @st. */
static __always_inline void pg_count_return(struct pg_func_stats *st, __u32 fn, __u64 ret)
{
	__sync_fetch_and_add(&st->exits, 1);
	if (is_error(err_mode[fn], ret))
		__sync_fetch_and_add(&st->errors, 1);
}

/*
 * A call of function @fn (the attach cookie) begins on the current thread:
 * count it and push a frame with its generation slot and entry time.
 */
static __always_inline void pg_count_entry(__u32 fn)
{
	struct pg_func_stats *st;
	struct pg_nest *n;
	__u32 slot, key, d;

	fn &= PG_NEST_FN_MASK;
	if (!((armed >> fn) & 1))
		return;
	n = bpf_task_storage_get(&nest, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!n)
		return;
	slot = pg_slot();
	key = pg_key(fn, slot);
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
}

/*
 * A call of function @fn returns @ret on the current thread: pop its frame,
 * count the return in the slot the call began in, and time it.
 */
static __always_inline void pg_count_exit(__u32 fn, __u64 ret)
{
	__u64 now = bpf_ktime_get_ns(), delta;
	struct pg_func_stats *st;
	struct pg_nest *n;
	struct pg_hist *h;
	__u32 key, d;
	__u8 f;

	fn &= PG_NEST_FN_MASK;
	n = bpf_task_storage_get(&nest, bpf_get_current_task_btf(), 0, 0);
	if (!n || !n->depth) {
		/* no frame: began before we attached, or its entry had no storage */
		key = pg_key(fn, pg_slot());
		st = bpf_map_lookup_elem(&stats, &key);
		if (st)
			__sync_fetch_and_add(&st->lost, 1);
		return;
	}
	d = n->depth - 1;
	n->depth = d;
	if (d >= PG_NEST_DEPTH) {
		/* deeper than the stack: counted at entry, not timed */
		count_inflight(fn, -1);
		key = pg_key(fn, pg_slot());
		st = bpf_map_lookup_elem(&stats, &key);
		if (st)
			pg_count_return(st, fn, ret);
		return;
	}
	d &= PG_NEST_DEPTH - 1;
	f = n->fn[d];
	count_inflight(f & PG_NEST_FN_MASK, -1);
	/* the generation the call began in: in-flight calls keep their side */
	key = pg_key(fn, (f >> PG_NEST_GEN_SHIFT) & (PG_GEN_SLOTS - 1));
	st = bpf_map_lookup_elem(&stats, &key);
	if (!st)
		return;
	pg_count_return(st, fn, ret);
	if ((f & PG_NEST_FN_MASK) != fn) {
		/* another function's frame (a lost entry, a longjmp): not timed */
		__sync_fetch_and_add(&st->lost, 1);
		return;
	}
	delta = now - n->ts[d];
	st->sum_ns += delta;
	if (delta > st->max_ns)
		st->max_ns = delta;
	h = bpf_map_lookup_elem(&hists, &key);
	if (h)
		h->slots[pg_hist_bucket(delta)]++;
}

/*
 * The programs around the core.  A pt_regs pair serves kprobe/kretprobe and
 * uprobe/uretprobe alike (a uprobe program is a kprobe-type program, and
 * libbpf 1.1 has no BPF_UPROBE); the attach cookie is the function index.
 * The empty pair does nothing: the cost floor of the overhead benchmarks.
 */
#define PG_REGS_PROGS(entry_sec, exit_sec, entry, exit)			\
	SEC(entry_sec)							\
	int BPF_KPROBE(entry)						\
	{								\
		pg_count_entry((__u32)bpf_get_attach_cookie(ctx));	\
		return 0;						\
	}								\
	SEC(exit_sec)							\
	int BPF_KRETPROBE(exit, long ret)				\
	{								\
		pg_count_exit((__u32)bpf_get_attach_cookie(ctx), (__u64)ret); \
		return 0;						\
	}

#define PG_REGS_EMPTY_PROGS(entry_sec, exit_sec, entry, exit)		\
	SEC(entry_sec)							\
	int BPF_KPROBE(entry)						\
	{								\
		return 0;						\
	}								\
	SEC(exit_sec)							\
	int BPF_KRETPROBE(exit)						\
	{								\
		return 0;						\
	}

#endif
