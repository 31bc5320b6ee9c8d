#!/usr/bin/env bash
# The cost of watching gates with `patchgate top`:
#  1. top's own CPU at 4 Hz (-d 0.25) over 8 gates of 8 functions each, on
#     the overview and on a gate's detail.  The 8 live records are made from
#     a real gate's record (its functions copied to 8) and rewritten 5 times
#     a second, as gates do, by a stand-in writer: top reads files, so the
#     cost does not depend on who writes them.
#  2. The tick cost of real gates (GATES of them, each baking a patch of the
#     demo service): ROUNDS rounds of DUR seconds without top, then DUR with
#     top at 4 Hz, alternating.
# Writes bench/results/top_cost.csv, and the screens top showed over the
# real gates (top_overview.txt, top_detail.txt).  Needs root and tmux.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PG=$ROOT/.output/patchgate
EX=$ROOT/.output/examples
OUT=$ROOT/bench/results/top_cost.csv
DUR=${DUR:-30}
GATES=${GATES:-4}
ROUNDS=${ROUNDS:-4}
PART=${PART:-all}	# 1, 2 or all
HZ=$(getconf CLK_TCK)
TMP=$(mktemp -d)
TS=pgbench-$$
tm() { tmux -L "$TS" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null; kill -9 $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# cpu_pct PID... : CPU of the processes over DUR seconds, in % of one core
cpu_pct() {
	local a=0 b=0 p
	for p in "$@"; do a=$((a + $(ticks "$p"))); done
	sleep "$DUR"
	for p in "$@"; do b=$((b + $(ticks "$p"))); done
	echo "$((b - a)) $HZ $DUR" | awk '{printf "%.2f", $1 * 100 / $2 / $3}'
}
top_start() { # top_start STATE_DIR: top at 4 Hz in tmux; sets TOP
	tm new-session -d -s top -x 80 -y 24 "exec $PG top --state-dir $1 -d 0.25"
	sleep 2
	TOP=$(tm list-panes -t top -F '#{pane_pid}')
}
top_stop() { tm send-keys -t top q; sleep 1; tm kill-server 2>/dev/null; }
svc() { "$EX/demo-service" -t 2 -r 500 >/dev/null 2>&1 & SVCS+=($!); }
POL=(--set min_samples=1000 --set bake=1h --set hang_timeout=5s --set dwell=0.6s --set max_wait=60s)

echo "what,gates,functions,seconds,cpu_pct,per_tick_us" >"$OUT"

echo "-- one real gate, for a real live record"
SVCS=()
svc
sleep 0.5
mkdir -m 0700 "$TMP/one"
"$PG" apply --pid "${SVCS[0]}" "$EX/demo-patches/good.so" --state-dir "$TMP/one" "${POL[@]}" \
	--set bake=8s >/dev/null 2>&1
kill -9 "${SVCS[@]}"; wait 2>/dev/null
rec=$(ls "$TMP"/one/live/[0-9]*[0-9].json)

if [ "$PART" != 2 ]; then
echo "-- 1. top's CPU: 8 gates x 8 functions at 4 Hz, ${DUR} s per screen"
mkdir -m 0700 "$TMP/syn" "$TMP/syn/live"
python3 - "$rec" "$TMP/syn/live" "$((DUR * 2 + 20))" "$$" <<'PY' &
import json, os, random, sys, time
src, d, secs, ppid = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
r = json.load(open(src))
det = json.load(open(src[:-len('.json')] + '.detail.json'))
f0 = r['functions'][0]
r['functions'] = [dict(f0, name='func_%d' % i) for i in range(8)]
d0 = det['functions'][0]
det['functions'] = [dict(d0, name='func_%d' % i) for i in range(8)]
r['done'] = False
r.pop('exit', None)
r['phase'] = 'BAKE'
r['gate_pid'] = ppid            # alive for the whole run: shown as running
r['gate_start'] = int(open('/proc/%d/stat' % ppid).read().rsplit(')', 1)[1].split()[19])
end = time.time() + secs
n = 0
while time.time() < end:
    n += 1
    for g in range(8):
        r['name'] = det['name'] = str(100000 + g); r['target'] = 100000 + g
        r['update'] = det['update'] = n
        for f in r['functions']:
            f['calls_per_s'] = random.uniform(900, 1100)
        files = [(r, '%d.json' % (100000 + g))]
        if n % 5 == 0:   # the detail once a second, as gates write it
            for f in det['functions']:
                f['p99_history_ns'] = (f['p99_history_ns'] + [int(random.uniform(4e5, 6e5))])[-60:]
            files.append((det, '%d.detail.json' % (100000 + g)))
        for rec, name in files:
            tmp = os.path.join(d, '.%s.tmp' % name)
            with open(tmp, 'w') as fh:
                json.dump(rec, fh)
            os.rename(tmp, os.path.join(d, name))
    time.sleep(0.2)
PY
sleep 1
top_start "$TMP/syn"
ov=$(cpu_pct "$TOP")
tm send-keys -t top Enter
de=$(cpu_pct "$TOP")
top_stop
printf '  top, overview: %s%% of a core\n  top, detail:   %s%% of a core\n' "$ov" "$de"
printf 'top_overview,8,8,%s,%s,\ntop_detail,8,8,%s,%s,\n' "$DUR" "$ov" "$DUR" "$de" >>"$OUT"
fi
[ "$PART" = 1 ] && exit 0

echo "-- 2. gate tick cost: $GATES gates baking, ${DUR} s without top, then with top at 4 Hz"
SVCS=()
GPIDS=()
mkdir -m 0700 "$TMP/real"
for _ in $(seq "$GATES"); do
	svc
done
sleep 1
for s in "${SVCS[@]}"; do
	"$PG" apply --pid "$s" "$EX/demo-patches/good.so" --state-dir "$TMP/real" "${POL[@]}" \
		>/dev/null 2>&1 &
	GPIDS+=($!)
done
for _ in $(seq 120); do
	n=$(grep -l '"phase":"BAKE"' "$TMP"/real/live/*.json 2>/dev/null | wc -l)
	[ "$n" -ge "$GATES" ] && break
	sleep 1
done
sleep 2
# alternating rounds, so that the host's own load drifts into both alike
r_without=() r_with=() r_top=()
# with_top: the gates and top over the same DUR seconds (top started first)
with_top() {
	local a_g=0 a_t b_g=0 b_t p
	top_start "$TMP/real"
	a_t=$(ticks "$TOP")
	for p in "${GPIDS[@]}"; do a_g=$((a_g + $(ticks "$p"))); done
	sleep "$DUR"
	b_t=$(ticks "$TOP")
	# the screens, for docs/operator-guide.md
	tm capture-pane -p -t top >"$ROOT/bench/results/top_overview.txt"
	tm send-keys -t top Enter
	sleep 1.5
	tm capture-pane -p -t top >"$ROOT/bench/results/top_detail.txt"
	for p in "${GPIDS[@]}"; do b_g=$((b_g + $(ticks "$p"))); done
	top_stop
	r_with+=("$(pct $((b_g - a_g)))")
	r_top+=("$(pct $((b_t - a_t)))")
}
pct() { echo "$1 $HZ $DUR" | awk '{printf "%.2f", $1 * 100 / $2 / $3}'; }
# rounds in the order ABBA, so that a drift of the host's load over the run weighs on both alike
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then
		r_without+=("$(cpu_pct "${GPIDS[@]}")")
		with_top
	else
		with_top
		r_without+=("$(cpu_pct "${GPIDS[@]}")")
	fi
	echo "   round $r: gates without top ${r_without[-1]}%, gates with top ${r_with[-1]}%, top ${r_top[-1]}%"
done
mean() { echo "$@" | awk '{for (i = 1; i <= NF; i++) s += $i; printf "%.2f", s / NF}'; }
without=$(mean "${r_without[@]}")
with=$(mean "${r_with[@]}")
topreal=$(mean "${r_top[@]}")
# a gate ticks 5 times a second: CPU per tick per gate, in microseconds
pt() { echo "$1 $GATES" | awk '{printf "%.0f", $1 / 100 / $2 / 5 * 1e6}'; }
printf '  gates without top: %s%% of a core (%s us per tick per gate)\n' "$without" "$(pt "$without")"
printf '  gates with top:    %s%% of a core (%s us per tick per gate)\n' "$with" "$(pt "$with")"
printf '  top over %s real gates: %s%% of a core\n' "$GATES" "$topreal"
{
	echo "gates_without_top,$GATES,1,$((DUR * ROUNDS)),$without,$(pt "$without")"
	echo "gates_with_top,$GATES,1,$((DUR * ROUNDS)),$with,$(pt "$with")"
	echo "top_real_gates,$GATES,1,$((DUR * ROUNDS)),$topreal,"
} >>"$OUT"
for s in "${SVCS[@]}"; do
	"$PG" abort "$s" --state-dir "$TMP/real" >/dev/null 2>&1
done
for g in "${GPIDS[@]}"; do
	wait "$g" 2>/dev/null
done
kill -9 "${SVCS[@]}" 2>/dev/null
echo "wrote $OUT"
