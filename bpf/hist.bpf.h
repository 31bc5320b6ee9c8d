/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Log-linear bucket index in BPF: the layout of include/patchgate/abi.h. */
#ifndef PG_HIST_BPF_H
#define PG_HIST_BPF_H

/* floor(log2(v)) for v > 0: five shift/compare steps, no loop for the verifier. */
static __always_inline __u32 pg_log2(__u64 v)
{
	__u32 r = 0, s;

	s = (v > 0xffffffffULL) << 5; v >>= s; r |= s;
	s = (v > 0xffffULL) << 4; v >>= s; r |= s;
	s = (v > 0xffULL) << 3; v >>= s; r |= s;
	s = (v > 0xfULL) << 2; v >>= s; r |= s;
	s = (v > 0x3ULL) << 1; v >>= s; r |= s;
	r |= (__u32)(v >> 1);
	return r;
}

/* Bucket of @v ns; always < PG_HIST_BUCKETS (bounded for the verifier). */
static __always_inline __u32 pg_hist_bucket(__u64 v)
{
	__u32 e, b;

	if (v < PG_HIST_SUB)
		return (__u32)v;
	e = pg_log2(v);
	if (e > PG_HIST_MAX_EXP)
		return PG_HIST_BUCKETS - 1;
	b = (e - PG_HIST_SUB_BITS + 1) * PG_HIST_SUB +
	    (__u32)((v >> (e - PG_HIST_SUB_BITS)) & (PG_HIST_SUB - 1));
	/* provably in range already; the mask keeps the verifier convinced */
	return b < PG_HIST_BUCKETS ? b : PG_HIST_BUCKETS - 1;
}

#endif
