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
# bench/results/detection.csv, and the power curves of the tail-only
# regressions with 1 s ticks (share caught within 1000 * 2^i post-patch
# calls) into bench/results/detection_power.tsv.  No root needed; a few
# minutes.  Draws docs/img/detection-power.png and false-reverts-sim.png
# (bench/plot/draw.sh).
# `run.sh power` runs only the power curves (the same runs, about a minute);
# `run.sh drift` runs only the drift section at the end (about 10 minutes);
# `run.sh plot` redraws the drift table and every plot from bench/results.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/bench/results/detection.csv
POWER=$ROOT/bench/results/detection_power.tsv
BIN=$ROOT/.output/bench/detect_sim
RUNS=${RUNS:-400}
RUNS_NULL=${RUNS_NULL:-1000}

cd "$ROOT"
make -s .output/libpgcore.a
mkdir -p "$(dirname "$BIN")" "$(dirname "$OUT")"
${CC:-cc} -g -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser \
	bench/detection/detect_sim.c .output/libpgcore.a -linih -lm -o "$BIN"
case "${1:-all}" in
drift | plot) ;;
power)
rm -f "$POWER"
for sigma in 0.5 1.0; do
	echo "-- lognormal(20us, sigma $sigma), tail-only regressions, 1 s ticks: power curves"
	"$BIN" --sigma "$sigma" --runs "$RUNS" --null-runs 0 --curve "$POWER" --label tail
done
"$ROOT/bench/plot/draw.sh" detection
exit
;;
*)
rm -f "$OUT" "$POWER"
for sigma in 0.5 1.0; do
	echo "-- lognormal(20us, sigma $sigma), tail-only regressions, 1 s ticks"
	"$BIN" --sigma "$sigma" --runs "$RUNS" --null-runs "$RUNS_NULL" --csv "$OUT" \
		--curve "$POWER" --label tail
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
		user/core/policy.c user/core/duration.c -linih -lm -o "$BIN-m$m"
	for b in $BURSTS; do
		"$BIN-m$m" --rates 1000 --runs 0 --null-runs "$RUNS_NULL" --burst "$b" | tail -1
	done
	"$BIN-m$m" --rates 1000 --shifts 1.25 --runs "$RUNS" --null-runs 0 | tail -1
done
;;
esac
# Drift (docs/statistics.md "Concurrent control"): the load changes at APPLY
# for the function and a control function alike (a step to 2x, a ramp to 2x
# over 30 s, or contention bursts); harmless patch and a 25% tail-only shift,
# without and with the control, 1000 calls/s, the default policy with
# min_post_calls 0 (the bake ends at bake, as measured before that key).
# DRIFT_RUNS per cell.  Then heavy tails (sigma 1.0) with a control and a
# baseline of min_samples = 4000 .. 32000 calls, and sigma 0.5 with a longer
# dwell (a larger baseline).  Writes bench/results/drift_sim.tsv, the power
# curves (share caught within N post-patch calls) into
# bench/results/power.tsv, the table into bench/results/drift_sim.md and the
# plots into docs/img/power-*.png and false-reverts-drift.png
# (bench/plot/draw.sh).  `run.sh plot` only redraws the table and plots
# from those files.
DRIFT_RUNS=${DRIFT_RUNS:-400}
DOUT=$ROOT/bench/results/drift_sim.tsv
CURVE=$ROOT/bench/results/power.tsv
MD=$ROOT/bench/results/drift_sim.md
# bake 300 s at 1000 calls/s: the final look's calls
END_CALLS=300000
cell() { # sigma drift-name ctl(0/1) detect_sim-args...
	local sigma=$1 name=$2 ctl=$3 csv
	shift 3
	csv=$(mktemp)
	local c=()
	[ "$ctl" = 1 ] && c=(--control)
	"$BIN" --sigma "$sigma" --rates 1000 --shifts 1.25 --runs "$DRIFT_RUNS" \
		--null-runs "$DRIFT_RUNS" "${c[@]}" --set min_post_calls=0 "$@" --csv "$csv" \
		--curve "$CURVE" --label "$name/$([ "$ctl" = 1 ] && echo control || echo none)" >/dev/null
	awk -F, -v s="$sigma" -v n="$name" -v c="$ctl" '
		$1 == "detect" { caught = $10; within = $11; c95 = $19 }
		$1 == "null" { rev = $9; runs = $8 }
		END { printf "%s\t%s\t%s\t%d\t%d\t%.4f\t%s\t%s\n", s, n, c, rev, runs, caught,
		      within, c95 == "" ? "-" : c95 }' "$csv" >>"$DOUT"
	rm -f "$csv"
}
if [ "${1:-all}" != plot ]; then
	rm -f "$DOUT" "$CURVE"
	printf 'sigma\tdrift\tcontrol\tfalse_reverts\tnull_runs\tcaught\twithin2000\tcalls95\n' >"$DOUT"
	echo "-- drift with and without a control (1000 calls/s, $DRIFT_RUNS runs per cell)"
	for sigma in 0.5 1.0; do
		for ctl in 0 1; do
			cell "$sigma" none "$ctl"
			cell "$sigma" step2 "$ctl" --drift step,2
			cell "$sigma" ramp2 "$ctl" --drift ramp,2,30
			cell "$sigma" bursts "$ctl" --burst 0.1,0.05,2
		done
	done
	# Heavy tails: how many calls the 95% takes, with the baseline as large
	# as the first look (min_samples) and a control.
	for n in 4000 8000 16000 32000; do
		"$BIN" --sigma 1.0 --rates 1000 --shifts 1.25 --runs "$DRIFT_RUNS" --null-runs 0 \
			--control --set min_post_calls=0 --set "min_samples=$n" --curve "$CURVE" \
			--label "min_samples=$n/control" >/dev/null
	done
	# tail_calls and more controls (docs/benchmarks.md, "Power with tail_calls
	# and more controls"): power curves, and the harmless runs under the step
	for c in "0.5 1 0" "0.5 1 8000" "0.5 4 8000" "1.0 1 8000"; do
		read -r s k t <<<"$c"
		"$BIN" --sigma "$s" --rates 1000 --shifts 1.25 --runs "$DRIFT_RUNS" --null-runs 0 \
			--controls "$k" --set min_post_calls=0 --set "tail_calls=$t" --curve "$CURVE" \
			--label "controls=$k,tail_calls=$t/control" >/dev/null
		[ "$s" = 0.5 ] && "$BIN" --sigma 0.5 --rates 1000 --runs 0 --null-runs "$DRIFT_RUNS" \
			--controls "$k" --set min_post_calls=0 --set "tail_calls=$t" --drift step,2 | tail -1
	done
	# sigma 0.5 with a control: a longer dwell makes a larger baseline
	for d in 5 10 20; do
		"$BIN" --sigma 0.5 --rates 1000 --shifts 1.25 --runs "$DRIFT_RUNS" --null-runs 0 \
			--control --set min_post_calls=0 --set "dwell=${d}s" --set max_wait=600s \
			--curve "$CURVE" --label "dwell=$d/control" >/dev/null
	done
fi
column -t "$DOUT"
{
	echo "| σ | drift | control | false reverts | 1.25x tail caught | ≤ 2000 calls | calls for 95% |"
	echo "|---|---|---|---|---|---|---|"
	tail -n +2 "$DOUT" | awk -F'\t' -v end="$END_CALLS" '{
		c95 = $8 == "-" ? "not reached" : $8 + 0 > end ? "end of bake" : $8
		printf "| %s | %s | %s | %d of %d (%.2f%%) | %.1f%% | %.1f%% | %s |\n",
		$1, $2, $3 == 1 ? "yes" : "no", $4, $5, 100 * $4 / $5, 100 * $6, 100 * $7, c95 }'
	echo
	echo "Share caught within N post-patch calls (lognormal σ 1.0, control, baseline of about min_samples + 1000 calls; the last column is the end of the bake):"
	echo
	echo "| min_samples | 4000 | 8000 | 16000 | 32000 | 64000 | 128000 | 256000 | $END_CALLS |"
	echo "|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '$1 ~ /^min_samples=/ && $5 >= 4000 {
		split($1, a, "[=/]"); row[a[2]] = row[a[2]] sprintf(" %.1f%% |", 100 * $6)
		if (!(a[2] in seen)) { seen[a[2]] = 1; order[++n] = a[2] } }
		END { for (i = 1; i <= n; i++) printf "| %s |%s\n", order[i], row[order[i]] }' "$CURVE"
	echo
	echo "Share caught within N post-patch calls (lognormal σ 0.5, control, no drift; a longer dwell makes a larger baseline, about 2000 + 1000 x dwell calls):"
	echo
	echo "| dwell | 2000 | 4000 | 8000 | $END_CALLS |"
	echo "|---|---|---|---|---|"
	awk -F'\t' '$1 ~ /^dwell=/ && ($5 == 2000 || $5 == 4000 || $5 == 8000 || $5 == 512000) {
		split($1, a, "[=/]"); row[a[2]] = row[a[2]] sprintf(" %.1f%% |", 100 * $6)
		if (!(a[2] in seen)) { seen[a[2]] = 1; order[++n] = a[2] } }
		END { for (i = 1; i <= n; i++) printf "| %s s |%s\n", order[i], row[order[i]] }' "$CURVE"
} >"$MD"
cat "$MD"
case "${1:-all}" in
drift) "$ROOT/bench/plot/draw.sh" drift_sim ;;
*) "$ROOT/bench/plot/draw.sh" detection drift_sim ;;
esac
echo "-- wrote $OUT"
