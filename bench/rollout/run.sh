#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Wall time of `patchgate rollout` of the harmless patch (good.so) over 8
# demo-service processes (rings 1, 25%, 100%: 1, 1 and 6 processes) against
# 8 gated applies of it one after another, with the same short gate policy
# (min_samples 2000, bake 3s, dwell 0.4s).  Everything is reverted between
# runs.  Appends one row per run to bench/results/rollout.csv and prints
# the medians as a Markdown table.  Needs root.
#   bench/rollout/run.sh [RUNS]      (default 3)
set -eu
cd "$(dirname "$0")/../.."
RUNS=${1:-3}
PG=$PWD/.output/patchgate
EX=$PWD/.output/examples
OUT=bench/results/rollout.csv
TMP=$(mktemp -d /tmp/pg-bench-rollout.XXXXXX)
S=$TMP/st
N=8
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
GATE=(--set min_samples=2000 --set bake=3s --set hang_timeout=2s --set dwell=0.4s --set max_wait=20s)
for _ in $(seq $N); do
	"$EX/demo-service" -t 2 -r 1000 >/dev/null 2>&1 &
	PIDS+=($!)
done
sleep 1
revert_all() { for p in "${PIDS[@]}"; do "$PG" revert --pid "$p" --state-dir "$S" >/dev/null 2>&1 || true; done; }
now() { echo "$EPOCHREALTIME"; }
[ -f "$OUT" ] || echo "date,mode,processes,rings,seconds,exit" >"$OUT"
for r in $(seq "$RUNS"); do
	t0=$(now)
	rc=0
	"$PG" rollout "$EX/demo-patches/good.so" --exe "$EX/demo-service" --state-dir "$S" "${GATE[@]}" \
		>"$TMP/r$r.out" 2>&1 || rc=$?
	t1=$(now)
	echo "$(date -u +%F),rollout,$N,3,$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }"),$rc" >>"$OUT"
	revert_all
	t0=$(now)
	rc=0
	for p in "${PIDS[@]}"; do
		"$PG" apply --pid "$p" "$EX/demo-patches/good.so" --state-dir "$S" "${GATE[@]}" \
			>>"$TMP/s$r.out" 2>&1 || rc=$?
	done
	t1=$(now)
	echo "$(date -u +%F),sequential,$N,$N,$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }"),$rc" >>"$OUT"
	revert_all
	echo "run $r: $(tail -2 "$OUT" | tr '\n' ' ')"
done
python3 - "$OUT" <<'PY'
import csv, sys, statistics as st
rows = list(csv.DictReader(open(sys.argv[1])))
print("| mode | processes | runs | median (s) | min (s) | max (s) | exit codes |")
print("|---|---:|---:|---:|---:|---:|---|")
for mode in ("rollout", "sequential"):
    v = [float(r["seconds"]) for r in rows if r["mode"] == mode]
    e = sorted({r["exit"] for r in rows if r["mode"] == mode})
    if v:
        print(f"| {mode} | {rows[0]['processes']} | {len(v)} | {st.median(v):.1f} | {min(v):.1f} | {max(v):.1f} | {','.join(e)} |")
PY
