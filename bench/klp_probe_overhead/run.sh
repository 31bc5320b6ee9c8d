#!/usr/bin/env bash
# Kernel probe overhead and residency scan time, measured in the VM rig's
# QEMU guest (TCG: absolute figures are emulator figures, only ratios mean
# anything).  Per call of __x64_sys_getppid (a getppid() loop):
#   none             no probe
#   fentry-empty     empty fentry + fexit (the floor)
#   fentry-patchgate patchgate watch --kernel's fentry/fexit
#   kprobe-*         the same with kprobe/kretprobe (PATCHGATE_KPROBE=1)
# ratio_to_empty = (patchgate - none) / (empty - none).  Modes interleave
# over 7 rounds; each takes its best round (the host is shared).
# Residency: one iter/task scan, idle guest and with 1000 more tasks.
# Writes bench/results/klp_probe_overhead.csv and klp_residency.csv.  Needs root.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/bench/klp_probe_overhead
OUT=$ROOT/.output/vm/bench
mkdir -p "$OUT"
cp "$HERE/guest.sh" "$OUT/guest.sh"
cc -O2 -static -o "$OUT/loop" "$HERE/loop.c"
make -C "$ROOT" -s all
# TCG on a loaded 2-core machine is slow: give the guest time
PGVM_TIMEOUT=${PGVM_TIMEOUT:-1800} PGVM_BENCH_DIR=$OUT "$ROOT/tests/vm/run.sh" 00-boot
log=$ROOT/.output/vm/console.log.txt
grep -a '^PGVM BENCH probe,' "$log" | sed 's/^PGVM BENCH probe,//' >"$ROOT/bench/results/klp_probe_overhead.csv"
grep -a '^PGVM BENCH resid,' "$log" | sed 's/^PGVM BENCH resid,//' >"$ROOT/bench/results/klp_residency.csv"
[ "$(wc -l <"$ROOT/bench/results/klp_probe_overhead.csv")" -ge 6 ] || { echo "klp bench: no figures (see $log)" >&2; exit 1; }
column -s, -t "$ROOT/bench/results/klp_probe_overhead.csv"
column -s, -t "$ROOT/bench/results/klp_residency.csv"
