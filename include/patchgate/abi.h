/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * patchgate BPF <-> user space ABI.
 *
 * Every struct and limit shared by the BPF programs in bpf/ and the
 * controller in user/ lives here and only here.  Plain fixed-width types,
 * no includes: BPF code includes this after vmlinux.h, user code after
 * <stdint.h> (see pg_types below).
 */
#ifndef PATCHGATE_ABI_H
#define PATCHGATE_ABI_H

#ifndef __VMLINUX_H__
#include <stdint.h>
typedef uint8_t  __pg_u8;
typedef uint32_t __pg_u32;
typedef uint64_t __pg_u64;
typedef int64_t  __pg_s64;
#else
typedef __u8  __pg_u8;
typedef __u32 __pg_u32;
typedef __u64 __pg_u64;
typedef __s64 __pg_s64;
#endif

/* ---- limits ----------------------------------------------------------- */

/* Functions traced at once by one controller.  Power of two. */
#define PG_MAX_FUNCS		64
/* Threads (or tasks) tracked at once in the per-thread nesting map. */
#define PG_MAX_THREADS		4096
/*
 * Per-thread nesting depth: entry timestamps kept per thread so that
 * recursion and re-entry time each call correctly.  Deeper calls are
 * counted but not timed (pg_func_stats.overflow).  Power of two.
 */
#define PG_NEST_DEPTH		32
/*
 * Histogram generations kept per function.  The controller bumps the
 * generation when a patch goes in, so pre- and post-patch data live in
 * different slots: slot = gen & (PG_GEN_SLOTS - 1).  Power of two.
 */
#define PG_GEN_SLOTS		2

/* ---- log-linear latency histogram ------------------------------------ */
/*
 * Values are nanoseconds.  Each power of two [2^e, 2^(e+1)) is split into
 * PG_HIST_SUB linear sub-buckets, so a bucket is at most 1/PG_HIST_SUB of
 * its lower bound wide (3.1% for 32) and the midpoint is within 1.6%.
 *
 *   v <  PG_HIST_SUB:  bucket = v                      (exact, 1 ns wide)
 *   v >= PG_HIST_SUB:  e      = floor(log2(v))         (e >= PG_HIST_SUB_BITS)
 *                      sub    = (v >> (e - SUB_BITS)) & (PG_HIST_SUB - 1)
 *                      bucket = (e - SUB_BITS + 1) * PG_HIST_SUB + sub
 *
 * Values at or above 2^(PG_HIST_MAX_EXP + 1) ns (~275 s) land in the last
 * bucket.  In BPF this is a branch-free log2 (5 shift/compare steps), one
 * shift, one mask, one multiply-add: see bpf/hist.bpf.h.
 */
#define PG_HIST_SUB_BITS	5
#define PG_HIST_SUB		(1u << PG_HIST_SUB_BITS)	/* must be 2^SUB_BITS */
#define PG_HIST_MAX_EXP		37				/* 2^37 ns = 137 s */
#define PG_HIST_BUCKETS		((PG_HIST_MAX_EXP - PG_HIST_SUB_BITS + 2) * PG_HIST_SUB)

struct pg_hist {
	__pg_u64 slots[PG_HIST_BUCKETS];
};

/* ---- per-function counters (per-CPU, summed by user space) ----------- */

struct pg_func_stats {
	__pg_u64 calls;		/* entries seen */
	__pg_u64 exits;		/* returns seen (timed or not) */
	__pg_u64 errors;	/* returns classified as errors (see pg_err_mode) */
	__pg_u64 overflow;	/* entries deeper than PG_NEST_DEPTH: counted, not timed */
	__pg_u64 lost;		/* returns with no matching entry (probe attached mid-call) */
	__pg_u64 sum_ns;	/* total timed latency */
	__pg_u64 max_ns;	/* largest timed latency on this CPU */
};

/* In-flight is kept in a shared (not per-CPU) array, updated atomically. */
struct pg_inflight {
	__pg_s64 now;		/* threads inside right now */
	__pg_s64 max;		/* high-water mark since attach */
};

/* How a return value counts as an error. */
enum pg_err_mode {
	PG_ERR_NONE = 0,	/* error counting off */
	PG_ERR_NEG  = 1,	/* (long)ret < 0 */
	PG_ERR_ZERO = 2,	/* ret == 0 */
};

/* Per-function configuration, written by user space before attach. */
struct pg_func_cfg {
	__pg_u32 err_mode;	/* enum pg_err_mode */
	__pg_u32 flags;		/* reserved, 0 */
};

/*
 * Each nesting frame records its function and generation slot in one byte:
 * fn | (slot << PG_NEST_GEN_SHIFT).  Needs PG_MAX_FUNCS <= 64 and
 * PG_GEN_SLOTS <= 4.
 */
#define PG_NEST_FN_MASK		(PG_MAX_FUNCS - 1)
#define PG_NEST_GEN_SHIFT	6

/* Per-thread nesting stack; also what residency reads for processes. */
struct pg_nest {
	__pg_u64 ts[PG_NEST_DEPTH];	/* entry timestamps, ns */
	__pg_u8  fn[PG_NEST_DEPTH];	/* function index of each frame */
	__pg_u32 depth;			/* frames pushed, may exceed PG_NEST_DEPTH */
	__pg_u32 pid;			/* tgid, for filtering */
};

/* Kernel residency: one record per (task, matching frame), see iter/task. */
#define PG_STACK_DEPTH		128	/* frames read per task */
#define PG_COMM_LEN		16

struct pg_resident {
	__pg_u32 pid;		/* tgid */
	__pg_u32 tid;
	__pg_u32 func;		/* index into the target ranges */
	__pg_u32 state;		/* task __state */
	__pg_u32 flags;		/* PG_RES_* */
	__pg_u32 frame;		/* depth of the matching frame */
	char comm[PG_COMM_LEN];
};

#define PG_RES_KTHREAD		(1u << 0)
#define PG_RES_RUNNING		(1u << 1)	/* stack of a running task: best-effort */

/* Address range of one target function, for residency matching. */
struct pg_range {
	__pg_u64 start;
	__pg_u64 end;		/* exclusive */
};

/*
 * Exec events (bpf/execwatch.bpf.c): one per process that execs a new
 * image, through a ring buffer of PG_EXEC_RING bytes.  Rollouts check the
 * process's image by build-id in user space.
 */
#define PG_EXEC_RING		(64 * 1024)

struct pg_exec_event {
	__pg_u32 pid;		/* tgid after the exec */
	__pg_u32 pad;
	__pg_u64 ns;		/* bpf_ktime_get_ns() at the exec */
};

#endif /* PATCHGATE_ABI_H */
