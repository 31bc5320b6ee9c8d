#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# EINTR after a ptrace stop (issue 10, item 8).  Needs root.
#  1. Which blocking calls return EINTR at an apply or a revert: one thread
#     of eintr-probe blocked in each call, CYCLES apply/revert cycles with
#     --no-gate, EINTR returns counted per call (no signal handler at all).
#  2. Could patchgate wait for a moment when no thread sits in such a call?
#     Event-loop workers (epoll_wait with a 1 ms timeout, then BUSY us of
#     work) sampled through /proc/PID/task/*/syscall: the share of samples
#     with no worker in epoll_wait, and how often a worker seen busy was in
#     epoll_wait again 100 us later (the time it takes to stop the threads).
# Writes bench/results/eintr.csv.  CYCLES=20 SAMPLE_S=2 by default.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
OUT=$ROOT/.output/bench
CYCLES=${CYCLES:-20}
SAMPLE_S=${SAMPLE_S:-2}
CSV=$ROOT/bench/results/eintr.csv
[ "$(id -u)" -eq 0 ] || { echo "eintr: needs root (ptrace)" >&2; exit 1; }
mkdir -p "$OUT"
make -s -j2 .output/patchgate >/dev/null || exit 1
make -s -C tests/host/ulp OUT="$ROOT/.output/ulp-tests" >/dev/null || exit 1
cc -O2 -g -fno-pie -pg -mfentry -mnop-mcount -c bench/eintr/eintr-probe.c -o "$OUT/eintr-probe.o" &&
	cc -no-pie "$OUT/eintr-probe.o" -o "$OUT/eintr-probe" -lpthread || exit 1
TMP=$(mktemp -d /tmp/pg-eintr.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
PG=$ROOT/.output/patchgate
P=$ROOT/.output/ulp-tests/good-any.so

echo "-- 1. EINTR per call, over $CYCLES apply/revert cycles (2 operations each)"
mkfifo "$TMP/in"
"$OUT/eintr-probe" calls <"$TMP/in" >"$TMP/out" &
PIDS+=($!)
exec {FD}>"$TMP/in"
for _ in $(seq 50); do grep -q '^ready' "$TMP/out" && break; sleep 0.1; done
T=$(awk '/^ready/ {print $2}' "$TMP/out")
sleep 0.5
fails=0
for _ in $(seq "$CYCLES"); do
	"$PG" apply --state-dir "$TMP/sd" --pid "$T" "$P" --no-gate >/dev/null 2>&1 || fails=$((fails + 1))
	"$PG" revert --state-dir "$TMP/sd" --pid "$T" >/dev/null 2>&1 || fails=$((fails + 1))
done
sleep 0.5
: >"$TMP/out"
echo report >&"$FD"
for _ in $(seq 50); do grep -q '^end' "$TMP/out" && break; sleep 0.1; done
echo "call,eintr,operations,eintr_per_operation" >"$CSV"
printf '  %-26s %8s %12s\n' call EINTR per-operation
ops=$((2 * CYCLES))
while read -r name n _; do
	[ "$name" = end ] && break
	printf '  %-26s %8s %12s\n' "$name" "$n" "$(awk -v n="$n" -v o="$ops" 'BEGIN {printf "%.2f", n / o}')"
	echo "$name,$n,$ops,$(awk -v n="$n" -v o="$ops" 'BEGIN {printf "%.2f", n / o}')" >>"$CSV"
done <"$TMP/out"
echo "  ($fails failed operations)"
kill -9 "$T"
wait "$T" 2>/dev/null

echo "-- 2. event-loop workers: share of time with no worker in epoll_wait"
echo "workers,busy_us,samples,share_none_in_epoll,reentered_within_100us" >>"$CSV"
printf '  %-8s %-8s %-8s %-22s %s\n' workers busy_us samples "no worker in epoll" "busy->epoll in 100us"
for cfg in 1:0 1:1000 4:1000 4:9000 16:9000; do
	set -- "${cfg%:*}" "${cfg#*:}"
	rm -f "$TMP/loop.in" && mkfifo "$TMP/loop.in"
	"$OUT/eintr-probe" loop "$1" "$2" <"$TMP/loop.in" >"$TMP/loop.out" &
	lp=$!
	PIDS+=("$lp")
	exec {LFD}>"$TMP/loop.in"
	sleep 0.5
	python3 - "$lp" "$SAMPLE_S" "$1" "$2" "$CSV" <<'PY'
import os, sys, time
pid, secs, w, busy, csv = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
EPOLL = {"232", "281", "441"}	# epoll_wait, epoll_pwait, epoll_pwait2 (x86_64)
main = str(pid)
def nr(t):
    try:
        return os.pread(fds[t], 64, 0).split(b" ")[0].decode().strip()
    except OSError:
        return "?"
tasks = [t for t in os.listdir(f"/proc/{pid}/task") if t != main]
fds = {t: os.open(f"/proc/{pid}/task/{t}/syscall", os.O_RDONLY) for t in tasks}
# the workers: every thread but main and serve (blocked in read, syscall 0) for a while
seen_other = {t: False for t in tasks}
for _ in range(200):
    for t in tasks:
        seen_other[t] |= nr(t) != "0"
ws = [t for t in tasks if seen_other[t]]
n = none = back = 0
end = time.monotonic() + secs
while time.monotonic() < end:
    n += 1
    if any(nr(t) in EPOLL for t in ws):
        continue
    none += 1
    t0 = time.monotonic()
    while time.monotonic() - t0 < 100e-6:
        pass
    if any(nr(t) in EPOLL for t in ws):
        back += 1
busy_seen = none
share = none / n if n else 0
re = back / busy_seen if busy_seen else 0
print(f"  {w:<8} {busy:<8} {n:<8} {share * 100:>6.1f} %{'':<14} {re * 100:5.1f} %")
open(csv, "a").write(f"{w},{busy},{n},{share:.4f},{re:.4f}\n")
PY
	kill -9 "$lp"
	wait "$lp" 2>/dev/null
	exec {LFD}>&-
done
echo "results: $CSV"
