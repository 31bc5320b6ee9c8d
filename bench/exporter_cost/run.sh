#!/usr/bin/env bash
# The cost of `patchgate exporter`: its CPU (/proc/PID/stat utime + stime)
# over DUR seconds (default 60) while a scraper fetches /metrics every
# INTERVAL seconds (default 1), with one synthetic live record of FUNCS
# functions (default 64, gen_live.py) in a temporary state directory.  Once
# with the OpenMetrics Accept header Prometheus sends, once in the text
# format.  Appends to bench/results/exporter_cost.csv.  Run it on a quiet
# host: it measures one process's share of a core.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PG=$ROOT/.output/patchgate
OUT=$ROOT/bench/results/exporter_cost.csv
DUR=${DUR:-60}
INTERVAL=${INTERVAL:-1}
FUNCS=${FUNCS:-64}
HZ=$(getconf CLK_TCK)
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

mkdir -m 0700 "$TMP/state"
"$ROOT/bench/exporter_cost/gen_live.py" "$TMP/state" "$FUNCS" || exit 1
[ -f "$OUT" ] || echo "format,functions,scrape_interval_s,seconds,scrapes,bytes_per_scrape,cpu_pct,ms_per_scrape" >"$OUT"

for fmt in openmetrics prometheus; do
	accept='text/plain;version=0.0.4'
	[ $fmt = openmetrics ] && accept='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
	P=$(port)
	"$PG" exporter --listen 127.0.0.1:"$P" --state-dir "$TMP/state" >/dev/null 2>&1 &
	EXP=$!
	PIDS+=("$EXP")
	sleep 1
	bytes=$(curl -sS --noproxy '*' -H "Accept: $accept" "http://127.0.0.1:$P/metrics" | wc -c)
	a=$(ticks "$EXP")
	t0=$(date +%s.%N)
	n=0
	end=$(($(date +%s) + DUR))
	# a scrape starts every INTERVAL on the clock, however long the last one took (as
	# Prometheus does)
	next=$EPOCHREALTIME
	while [ "$(date +%s)" -lt $end ]; do
		curl -sS --noproxy '*' -o /dev/null -H "Accept: $accept" "http://127.0.0.1:$P/metrics" &
		n=$((n + 1))
		next=$(awk -v a="$next" -v i="$INTERVAL" 'BEGIN { printf "%.6f", a + i }')
		sleep "$(awk -v a="$next" -v t="$EPOCHREALTIME" 'BEGIN { d = a - t; printf("%.3f", (d > 0 ? d : 0)) }')"
	done
	wait %% 2>/dev/null
	b=$(ticks "$EXP")
	t1=$(date +%s.%N)
	kill "$EXP"
	wait "$EXP" 2>/dev/null
	line=$(awk -v f=$fmt -v fn="$FUNCS" -v i="$INTERVAL" -v a="$a" -v b="$b" -v hz="$HZ" \
		-v t0="$t0" -v t1="$t1" -v n=$n -v by="$bytes" 'BEGIN {
		s = t1 - t0; c = (b - a) / hz
		printf "%s,%d,%s,%.1f,%d,%d,%.3f,%.2f", f, fn, i, s, n, by, c * 100 / s, c * 1000 / n }')
	echo "$line" | tee -a "$OUT"
done
