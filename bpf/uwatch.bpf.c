// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Process-side probes: a uprobe and a uretprobe on each target function.
 * One program pair serves every function; the attach cookie carries the
 * function index.  The counting is bpf/count.bpf.h's, the same as for
 * kernel targets; all thresholds live in user space.
 *
 * There is no pid check here: the uprobes are attached for one pid, and the
 * kernel's uprobe filter runs the programs for that process only (a
 * pid/tgid helper call would cost ~20 ns per hit on this machine, 10% of
 * the budget).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <patchgate/abi.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#include "count.bpf.h"

/* uprobe/uretprobe on every target function of the process */
PG_REGS_PROGS("uprobe", "uretprobe", pg_entry, pg_exit)

/* the cost floor for bench/probe_overhead */
PG_REGS_EMPTY_PROGS("uprobe", "uretprobe", pg_empty_entry, pg_empty_exit)
