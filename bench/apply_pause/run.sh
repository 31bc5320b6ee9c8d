#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Stop-the-world pause and total time of `patchgate apply --no-gate` /
# `revert` on a process with 1, 8, 64 and 256 threads.
#   bench/apply_pause/run.sh [RUNS]     (default 30 apply+revert pairs per size)
#   bench/apply_pause/run.sh summary    only the summary and the plot, from the CSV
# The target is tests/host/ulp/ulp-target: N threads calling pg_compute()
# once a millisecond (plus its main thread).  Writes
# bench/results/apply_pause.csv (one row per operation), the summary per
# thread count and operation (medians and p90) into
# bench/results/apply_pause_summary.csv, prints it as a Markdown table, and
# draws docs/img/apply-pause.png (bench/plot/draw.sh).
set -eu
cd "$(dirname "$0")/../.."
OUT=bench/results/apply_pause.csv
SUMMARY=bench/results/apply_pause_summary.csv

# summary: apply_pause.csv -> apply_pause_summary.csv and a Markdown table
summary() {
	python3 - "$OUT" "$SUMMARY" <<'PY'
import csv, sys, statistics as st
rows = list(csv.DictReader(open(sys.argv[1])))
def q(v, p):
    v = sorted(v); return v[min(len(v) - 1, int(p * len(v)))]
out = csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n")
out.writerow(["threads", "op", "runs", "pause_p50_us", "pause_p90_us", "stop_p50_us", "scan_p50_us",
              "write_p50_us", "resume_p50_us", "inject_p50_us", "total_p50_ms"])
print("| threads | op | pause p50 (us) | pause p90 (us) | stop | scan | write | resume | inject p50 (us) | total p50 (ms) |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for n in sorted({int(r["threads"]) for r in rows}):
    for op in ("apply", "revert"):
        rs = [r for r in rows if int(r["threads"]) == n and r["op"] == op]
        if not rs:
            continue
        f = lambda k: [float(r[k]) for r in rs]
        m = {k: st.median(f(k)) for k in ("pause_us", "stop_us", "scan_us", "write_us", "resume_us",
                                          "inject_us", "total_ms")}
        p90 = q(f("pause_us"), .9)
        out.writerow([n, op, len(rs), f"{m['pause_us']:.1f}", f"{p90:.1f}", f"{m['stop_us']:.1f}",
                      f"{m['scan_us']:.1f}", f"{m['write_us']:.1f}", f"{m['resume_us']:.1f}",
                      f"{m['inject_us']:.1f}", f"{m['total_ms']:.2f}"])
        print(f"| {n} | {op} | {m['pause_us']:.0f} | {p90:.0f} | {m['stop_us']:.0f} | {m['scan_us']:.0f} | "
              f"{m['write_us']:.0f} | {m['resume_us']:.0f} | {m['inject_us']:.0f} | {m['total_ms']:.1f} |")
PY
	echo "wrote $SUMMARY"
	bench/plot/draw.sh apply_pause
}
if [ "${1:-}" = summary ]; then
	summary
	exit
fi

RUNS=${1:-30}
PG=$PWD/.output/patchgate
FX=$PWD/.output/ulp-tests
SD=$(mktemp -d /run/pg-bench.XXXXXX)	# where the default state dir lives
[ -n "${PG_NO_BUILD:-}" ] || make -s -j2 .output/patchgate >/dev/null
make -s -C tests/host/ulp OUT="$FX" >/dev/null
T=
cleanup() { [ -n "$T" ] && kill "$T" 2>/dev/null; wait 2>/dev/null; rm -rf "$SD"; }
trap cleanup EXIT

echo "threads,op,run,pause_us,stop_us,scan_us,write_us,resume_us,inject_us,total_ms,rounds" >"$OUT"
for n in 1 8 64 256; do
	rm -f "$SD/in" "$SD/t.out"
	mkfifo "$SD/in"
	"$FX/ulp-target" 0 "$n" 0 <"$SD/in" >"$SD/t.out" &
	T=$!
	exec 9>"$SD/in"
	until grep -q ready "$SD/t.out" 2>/dev/null; do sleep 0.05; done
	sleep 0.5
	for i in $(seq "$RUNS"); do
		for op in apply revert; do
			if [ $op = apply ]; then j=$("$PG" apply --state-dir "$SD" --pid "$T" "$FX/good.so" --no-gate -j)
			else j=$("$PG" revert --state-dir "$SD" --pid "$T" -j); fi
			python3 -c 'import json,sys
o=json.loads(sys.argv[1])
assert o["state"] in ("applied","reverted"), o
print(",".join(str(x) for x in (sys.argv[2],sys.argv[3],sys.argv[4],o["pause_us"],o["stop_us"],o["scan_us"],o["write_us"],o["resume_us"],o["inject_us"],o["total_ms"],o["rounds"])))' "$j" "$((n + 1))" $op "$i" >>"$OUT"
		done
	done
	kill "$T"
	wait "$T" 2>/dev/null || true
	T=
	exec 9>&-
done
summary
