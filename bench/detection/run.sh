#!/usr/bin/env bash
# Detection benchmark: the real gate and statistics (.output/libpgcore.a)
# driven by bench/detection/detect_sim.c in simulated time.  For tail-only
# regressions (the slowest 3% of calls F times slower: p99 x F, p50 unchanged)
# of 25%, 50% and 2x at 100, 1000 and 10000 calls/s: how often and after how
# many post-patch calls and seconds the gate reverts; and how often it
# reverts a harmless patch (RUNS_NULL runs per rate, default 1000), also under
# contention bursts (--burst; docs/statistics.md "Load shifts").  Two latency shapes:
# lognormal sigma 0.5 (p99/p50 = 3.2) and sigma 1.0 (heavy, p99/p50 = 10).
# Default policy (docs/policy.md); the controller's 1 s SAMPLES tick, and
# 100 ms ticks at 10000/s.  Prints tables; writes
# bench/results/detection.csv.  No root needed; a few minutes.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/bench/results/detection.csv
BIN=$ROOT/.output/bench/detect_sim
RUNS=${RUNS:-400}
RUNS_NULL=${RUNS_NULL:-1000}

cd "$ROOT"
make -s .output/libpgcore.a
mkdir -p "$(dirname "$BIN")" "$(dirname "$OUT")"
${CC:-cc} -g -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser \
	bench/detection/detect_sim.c .output/libpgcore.a -linih -lm -o "$BIN"
rm -f "$OUT"
for sigma in 0.5 1.0; do
	echo "-- lognormal(20us, sigma $sigma), tail-only regressions, 1 s ticks"
	"$BIN" --sigma "$sigma" --runs "$RUNS" --null-runs "$RUNS_NULL" --csv "$OUT"
done
# At 10000/s one 1 s tick already holds 10000 calls; 100 ms ticks show how
# many calls the statistics need there.
for sigma in 0.5 1.0; do
	echo "-- lognormal(20us, sigma $sigma), 10000/s with 100 ms ticks"
	"$BIN" --sigma "$sigma" --rates 10000 --tick-ms 100 --runs "$RUNS" \
		--null-runs "$RUNS_NULL" --csv "$OUT"
done
# For contrast: every call slower (p50 and p99 x F), caught by the bulk test too.
echo "-- lognormal(20us, sigma 0.5), every call slower, 1 s ticks"
"$BIN" --sigma 0.5 --model all --runs "$RUNS" --null-runs 0 --csv "$OUT"
# Non-stationary null: contention bursts (Poisson, 0.2-3 s long) in baseline
# and bake alike; harmless patch, 1000 calls/s.  Then the same with the
# block rule waiting for 4 and 6 blocks (GATE_TAIL_MIN_BLOCKS, built from
# the core sources), with the 25% tail case for its cost.
BURSTS="0.05,0.1,3 0.1,0.05,2 0.3,0.2,3"
echo "-- harmless patch under contention bursts (rate/s, share of calls, mean delay ms)"
for b in $BURSTS; do
	"$BIN" --rates 1000 --runs 0 --null-runs "$RUNS_NULL" --burst "$b" --csv "$OUT"
done
# The host tests' false-revert check in simulation: 50 us median, 4000 calls/s,
# 200 ms ticks, min_samples 300, bake 2 s.
LIVE=(--median 50000 --rates 4000 --tick-ms 200 --set min_samples=300 --set bake=2s
	--set dwell=0.4s --set hang_timeout=2s --set max_wait=20s)
echo "-- the host tests' policy (min_samples 300, bake 2 s) at 4000 calls/s, 200 ms ticks"
for b in $BURSTS; do
	"$BIN" "${LIVE[@]}" --runs 0 --null-runs "$RUNS_NULL" --burst "$b" --csv "$OUT"
done
"$BIN" "${LIVE[@]}" --shifts 1.25,1.5 --runs "$RUNS" --null-runs "$RUNS_NULL" --csv "$OUT"
for m in 4 6; do
	echo "-- variant: tail-only verdicts wait for $m blocks (not the default)"
	${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser -DGATE_TAIL_MIN_BLOCKS=$m \
		bench/detection/detect_sim.c user/core/gate.c user/core/stats.c user/core/hist.c \
		user/core/policy.c -linih -lm -o "$BIN-m$m"
	for b in $BURSTS; do
		"$BIN-m$m" --rates 1000 --runs 0 --null-runs "$RUNS_NULL" --burst "$b" | tail -1
	done
	"$BIN-m$m" --rates 1000 --shifts 1.25 --runs "$RUNS" --null-runs 0 | tail -1
done
echo "-- wrote $OUT"
