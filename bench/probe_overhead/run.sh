#!/usr/bin/env bash
# Probe overhead: ns per call of a hot function (pg_hot in the demo service),
# side by side in one run, at a nop5 site and at a trapping site:
#   none      no probe
#   empty     empty uprobe + uretprobe (the floor)
#   patchgate patchgate watch's probes
#   bpftrace  uprobe/uretprobe with hist()
#   funclatency  libbpf-tools funclatency
# Each configuration runs ROUNDS times, interleaved; the median is reported.
# Writes bench/results/probe_overhead.csv and draws docs/img/probe-overhead.png
# (bench/plot/draw.sh).  Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PG=$ROOT/.output/patchgate
EX=$ROOT/.output/examples
OUT=$ROOT/bench/results/probe_overhead.csv
ROUNDS=${ROUNDS:-3}
TMP=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf $TMP' EXIT

# one BIN CALLS TOOL -> prints ns/call
one() {
	local bin=$1 calls=$2 tool=$3 svc tp=""
	"$bin" -t 1 -n "$calls" -w hot --wait-signal >"$TMP/svc.out" 2>"$TMP/svc.err" &
	svc=$!
	while ! grep -q ready "$TMP/svc.err" 2>/dev/null; do sleep 0.05; done
	: >"$TMP/tool.out"
	case $tool in
	none) ;;
	empty) "$PG" watch --pid $svc --empty-probes -j -i 100 pg_hot >"$TMP/tool.out" 2>&1 & tp=$!
		until grep -q attached "$TMP/tool.out"; do sleep 0.05; done ;;
	patchgate) "$PG" watch --pid $svc -j -i 100 pg_hot >"$TMP/tool.out" 2>&1 & tp=$!
		until grep -q attached "$TMP/tool.out"; do sleep 0.05; done ;;
	bpftrace) bpftrace -p $svc -e "uprobe:$bin:pg_hot { @s[tid] = nsecs; }
		uretprobe:$bin:pg_hot /@s[tid]/ { @h = hist(nsecs - @s[tid]); delete(@s[tid]); }
		BEGIN { printf(\"ATTACHED\\n\"); }" >"$TMP/tool.out" 2>&1 & tp=$!
		until grep -q ATTACHED "$TMP/tool.out"; do sleep 0.05; done ;;
	# ":FUNC" is funclatency's form for the binary of -p PID; it prints
	# "Tracing" only at exit when stdout is a file, so give it time to attach
	funclatency) funclatency -p $svc ":pg_hot" >"$TMP/tool.out" 2>&1 & tp=$!
		sleep 2 ;;
	esac
	sleep 0.2
	kill -USR1 $svc
	wait $svc
	[ -n "$tp" ] && { kill -INT $tp 2>/dev/null; wait $tp 2>/dev/null; }
	python3 -c "import json;print('%.1f' % json.load(open('$TMP/svc.out'))['ns_per_call'])"
}

# median "N N N ..." -> the middle of the space-separated values
median() { tr -s ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "site,tool,ns_per_call,ratio_to_floor,calls" >"$OUT"
printf '%-6s %-12s %12s %10s\n' site tool ns/call "x floor"
for site in nop5 trap; do
	if [ $site = nop5 ]; then bin=$EX/demo-service calls=1000000; else bin=$EX/demo-service-trap calls=100000; fi
	declare -A res=()
	tools=(none empty patchgate bpftrace funclatency)
	for _ in $(seq "$ROUNDS"); do
		for t in "${tools[@]}"; do res[$t]="${res[$t]:-} $(one "$bin" $calls "$t")"; done
	done
	floor=$(median "${res[empty]}")
	for t in "${tools[@]}"; do
		m=$(median "${res[$t]}")
		ratio=$(python3 -c "print('%.3f' % ($m / $floor))")
		printf '%-6s %-12s %12s %10s\n' $site "$t" "$m" "$ratio"
		echo "$site,$t,$m,$ratio,$calls" >>"$OUT"
	done
	unset res
done
echo "wrote $OUT"
"$ROOT/bench/plot/draw.sh" probe_overhead
