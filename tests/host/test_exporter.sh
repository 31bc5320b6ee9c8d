#!/usr/bin/env bash
# Host tests of `patchgate exporter` (issue 15): a real Prometheus server
# scrapes it while a gated apply of the demo service runs, and its PromQL
# answers are checked against the live record; a real node_exporter reads
# its textfile; promtool checks the text format and the OpenMetrics parser of
# python3-prometheus-client the OpenMetrics one; the Grafana dashboard's
# series are checked against a real scrape; bad input is refused.  Needs
# root, prometheus, prometheus-node-exporter (scripts/deps.sh test).
source "$(dirname "$0")/lib.sh"
P=$EX/demo-patches
POL=(--set min_samples=2000 --set hang_timeout=2s --set dwell=0.6s --set max_wait=30s
	--set control=parse_request)
SYSPY=/usr/bin/python3	# Debian's python, with python3-prometheus-client
S=$TMP/state
mkdir -m 0700 "$S"
CURL=(curl -sS --noproxy '*' --max-time 5)

for tool in prometheus promtool prometheus-node-exporter curl; do
	command -v "$tool" >/dev/null || { echo "missing $tool: run scripts/deps.sh test"; exit 1; }
done

# free_port: a TCP port nobody listens on now, on loopback
free_port() {
	"$SYSPY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# up URL SECONDS: does URL answer 200 within SECONDS?
up() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		"${CURL[@]}" -f -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.3
	done
	return 1
}
# live EXPR: EXPR over the live record r of the gate (f: its first function)
live() {
	"$SYSPY" - "$S/live/$SVC.json" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
f = r['functions'][0]
print(eval(sys.argv[2]))
PY
}
# pq QUERY: the values of an instant PromQL query over Prometheus's HTTP API, one a line
pq() {
	"$SYSPY" - "$PPORT" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
port, q = sys.argv[1:3]
op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
u = 'http://127.0.0.1:%s/api/v1/query?%s' % (port, urllib.parse.urlencode({'query': q}))
for x in json.load(op.open(u, timeout=5))['data']['result']:
    print(x['value'][1])
PY
}
# pq_last SERIES: the last sample of SERIES and its age, "VALUE AGE_S", from one
# range query (two queries, one for the value and one for its timestamp,
# can straddle a scrape and pair a sample with the next one's age)
pq_last() {
	"$SYSPY" - "$PPORT" "$1" <<'PY'
import json, sys, time, urllib.parse, urllib.request
port, q = sys.argv[1:3]
op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
now = time.time()
u = 'http://127.0.0.1:%s/api/v1/query?%s' % (port, urllib.parse.urlencode({'query': q + '[5s]', 'time': '%.3f' % now}))
for x in json.load(op.open(u, timeout=5))['data']['result']:
    ts, v = x['values'][-1]
    print(v, now - float(ts))
PY
}
# pq_wait SECONDS QUERY: wait until QUERY has a result
pq_wait() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		[ -n "$(pq "$2" 2>/dev/null)" ] && return 0
		sleep 0.5
	done
	return 1
}
# exits_with CODE PATTERN CMD...: CMD exits CODE and says PATTERN (stdout or stderr)
exits_with() {
	local code=$1 pat=$2 rc; shift 2
	"$@" >"$TMP/ew.out" 2>&1; rc=$?
	[ $rc -eq "$code" ] && grep -q -- "$pat" "$TMP/ew.out" && return 0
	echo "   exit $rc (want $code):"; sed 's/^/   | /' "$TMP/ew.out" | head -5
	return 1
}

echo "-- help and bad input (nothing starts)"
"$PG" exporter --help >"$TMP/help.out" 2>&1
check "--help: exit 0 with examples" grep -q 'Examples:' "$TMP/help.out"
check "--help: says how to listen beyond loopback" grep -q -- '--allow-remote' "$TMP/help.out"
EPORT=$(free_port)
check "bad address: exit 1" exits_with 1 'invalid listen address' \
	"$PG" exporter --listen 1.2.3:"$EPORT" --state-dir "$S"
check "bad port: exit 1" exits_with 1 'invalid port' \
	"$PG" exporter --listen 127.0.0.1:70000 --state-dir "$S"
check "a name, not an address: exit 1" exits_with 1 'numeric' \
	"$PG" exporter --listen example.org:"$EPORT" --state-dir "$S"
check "0.0.0.0 without --allow-remote: exit 1" exits_with 1 'not a loopback address.*--allow-remote' \
	"$PG" exporter --listen 0.0.0.0:"$EPORT" --state-dir "$S"
check "missing state dir: exit 1" exits_with 1 'state' \
	"$PG" exporter --listen 127.0.0.1:"$EPORT" --state-dir "$TMP/nothere"
touch "$TMP/afile"
check "a file as state dir: exit 1" exits_with 1 'afile' \
	"$PG" exporter --listen 127.0.0.1:"$EPORT" --state-dir "$TMP/afile"
mkdir -m 0777 "$TMP/open"
check "a world-writable state dir: exit 1" exits_with 1 'open' \
	"$PG" exporter --listen 127.0.0.1:"$EPORT" --state-dir "$TMP/open"
check "missing textfile dir: exit 1" exits_with 1 'textfile directory' \
	"$PG" exporter --textfile-dir "$TMP/notf" --state-dir "$S"
check "bad interval: exit 1" exits_with 1 'interval' \
	"$PG" exporter --textfile-dir "$TMP" --interval 0 --state-dir "$S"
check "bad --print format: exit 1" exits_with 1 'prometheus or openmetrics' \
	"$PG" exporter --print yaml --state-dir "$S"
check "-j: the error is a record" exits_with 1 '"type":"error"' \
	"$PG" exporter -j --listen 0.0.0.0:"$EPORT" --state-dir "$S"

echo "-- the exporter, a gated apply, and Prometheus scraping them"
"$PG" exporter --listen 127.0.0.1:"$EPORT" --state-dir "$S" >"$TMP/exp.out" 2>&1 &
EXP=$!
BG_PIDS+=("$EXP")
check "serves /metrics on loopback" up "http://127.0.0.1:$EPORT/metrics" 10
check "port in use: exit 1" exits_with 1 'in use\|another process' \
	"$PG" exporter --listen 127.0.0.1:"$EPORT" --state-dir "$S"
"${CURL[@]}" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$EPORT/nothing" >"$TMP/404" 2>&1
check "another path: 404" grep -qx 404 "$TMP/404"

ST=$TMP/svc.status
"$EX/demo-service" -t 4 -r 1000 --status "$ST" >"$TMP/svc.out" 2>&1 &
SVC=$!
BG_PIDS+=("$SVC")
wait_for "$ST" requests 10
"$PG" apply --pid "$SVC" "$P/good.so" --state-dir "$S" "${POL[@]}" --set bake=20s \
	>"$TMP/gate.out" 2>&1 &
GPID=$!
BG_PIDS+=("$GPID")

PPORT=$(free_port)
mkdir "$TMP/prom"
cat >"$TMP/prom.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: patchgate
    static_configs:
      - targets: ['127.0.0.1:$EPORT']
EOF
prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/prom" \
	--web.listen-address=127.0.0.1:"$PPORT" --log.level=warn >"$TMP/prom.log" 2>&1 &
PROM=$!
BG_PIDS+=("$PROM")
check "prometheus is up" up "http://127.0.0.1:$PPORT/-/ready" 30
check "prometheus has our call counts" pq_wait 30 'patchgate_function_calls_total > 0'

# the formats, from a live scrape in the bake
end=$((SECONDS + 30))
while [ $SECONDS -lt $end ] && [ "$(live 'r["phase"]' 2>/dev/null)" != BAKE ]; do sleep 0.3; done
check "the gate is baking" [ "$(live 'r["phase"]')" = BAKE ]
"${CURL[@]}" -D "$TMP/prom.hdr" "http://127.0.0.1:$EPORT/metrics" >"$TMP/scrape.prom"
"${CURL[@]}" -D "$TMP/om.hdr" -H 'Accept: application/openmetrics-text; version=1.0.0' \
	"http://127.0.0.1:$EPORT/metrics" >"$TMP/scrape.om"
check "text format by default" grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/prom.hdr"
check "OpenMetrics when the Accept header asks" \
	grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$TMP/om.hdr"
check "promtool check metrics passes (text format)" promtool check metrics <"$TMP/scrape.prom"
check "OpenMetrics: ends with # EOF" bash -c "[ \"\$(tail -n 1 '$TMP/scrape.om')\" = '# EOF' ]"
check "OpenMetrics parser (python3-prometheus-client) takes it" "$SYSPY" -c "
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as p
fams = {f.name: f.type for f in p(open('$TMP/scrape.om').read())}
want = {'patchgate_function_calls': 'counter', 'patchgate_gate_phase': 'stateset',
        'patchgate_patch': 'info', 'patchgate_function_latency_seconds': 'histogram',
        'patchgate_decisions': 'counter', 'patchgate_function_in_flight': 'gauge'}
bad = {k: fams.get(k) for k, v in want.items() if fams.get(k) != v}
print('   families:', len(fams), 'wrong:', bad) if bad else None
sys.exit(bool(bad))"
check "every series is labelled target, patch, kind" bash -c \
	"! grep -v '^#' '$TMP/scrape.prom' | grep '^patchgate_[a-z_]*{' | grep -v 'target=\"$SVC\",patch=\"good.so\",kind=\"ulp\"'"
check "the phase is a state set, BAKE set" grep -q \
	"^patchgate_gate_phase{.*patchgate_gate_phase=\"BAKE\"} 1$" "$TMP/scrape.prom"
check "Prometheus's own OpenMetrics parser scrapes us clean" "$SYSPY" - "$PPORT" <<'PY'
import json, sys, urllib.request
op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
t = json.load(op.open('http://127.0.0.1:%s/api/v1/targets' % sys.argv[1], timeout=5))
t = t['data']['activeTargets'][0]
print('   target health', t['health'], repr(t['lastError']))
sys.exit(not (t['health'] == 'up' and t['lastError'] == ''))
PY
check "the Grafana dashboard names only series we emit" \
	"$SYSPY" "$ROOT/scripts/check-dashboard.py" "$ROOT/deploy/grafana/patchgate.json" "$TMP/scrape.prom"

# during the bake: Prometheus's last sample lies between the live record one
# scrape (plus a tick) before and the live record now
FN=$(live 'f["name"]')
l1=$(live 'f["calls_base"] + f["calls_post"]')
rate=$(live 'f["calls_per_s"]')
read -r v age < <(pq_last "patchgate_function_calls_total{target=\"$SVC\",function=\"$FN\"}")
l2=$(live 'f["calls_base"] + f["calls_post"]')
echo "   live $l1 .. $l2, prometheus $v (sample ${age}s old, $rate calls/s)"
check "PromQL calls within one scrape of the live record" "$SYSPY" -c "
l1, l2, v, age, rate = $l1, $l2, float('$v'), float('$age'), float('$rate')
assert age <= 2.5, 'sample too old'
assert l1 - rate * (age + 0.2 + 0.3) <= v <= l2"

# once the gate is done its last record stands still: the counts agree exactly
check "the gate ends" finished "$GPID" 60
sleep 2.5
calls=$(live 'f["calls_base"] + f["calls_post"]')
v=$(pq "patchgate_function_calls_total{target=\"$SVC\",function=\"$FN\"}")
echo "   final: live $calls, prometheus $v"
check "final call count: PromQL = live record, exactly" [ "$v" = "$calls" ]
check "final histogram count: PromQL = live record" [ "$(pq "patchgate_function_latency_seconds_count{function=\"$FN\"}")" = \
	"$(live 'f["latency"]["count"]')" ]
check "the phase ends COMMITTED" [ "$(pq 'patchgate_gate_phase{patchgate_gate_phase="COMMITTED"}')" = 1 ]
check "decisions_total{outcome=bake_ok} = the record's" [ "$(pq 'patchgate_decisions_total{outcome="bake_ok"}')" = \
	"$(live 'r["decisions_total"]["bake_ok"]')" ]
check "patch info carries the build-id" [ -n "$(pq "patchgate_patch_info{build_id=\"$(live 'r["build_id"]')\",path=~\".*good.so\"}")" ]
check "the gate is no longer running" [ "$(pq 'patchgate_gate_running')" = 0 ]
q50=$(pq "histogram_quantile(0.5, patchgate_function_latency_seconds_bucket{function=\"$FN\"})")
p50=$(live 'max(f["p50_base_ns"], f["p50_post_ns"]) / 1e9')
echo "   histogram_quantile(0.5) ${q50}s, the gate's p50 ${p50}s"
check "histogram_quantile(0.5) within the buckets' factor 2 of the gate's p50" \
	"$SYSPY" -c "q, p = float('$q50'), float('$p50'); assert p / 2 <= q <= p * 2"
kill "$PROM" 2>/dev/null

echo "-- the textfile, read by a real node_exporter"
mkdir "$TMP/tf"
"$PG" exporter --textfile-dir "$TMP/tf" --interval 0.5 --state-dir "$S" >"$TMP/tf.out" 2>&1 &
TFX=$!
BG_PIDS+=("$TFX")
NPORT=$(free_port)
prometheus-node-exporter --web.listen-address=127.0.0.1:"$NPORT" --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$TMP/tf" >"$TMP/node.log" 2>&1 &
NODE=$!
BG_PIDS+=("$NODE")
end=$((SECONDS + 10))
while [ $SECONDS -lt $end ] && [ ! -f "$TMP/tf/patchgate.prom" ]; do sleep 0.2; done
check "the textfile is written, mode 0644" [ "$(stat -c %a "$TMP/tf/patchgate.prom" 2>/dev/null)" = 644 ]
check "node_exporter is up" up "http://127.0.0.1:$NPORT/metrics" 15
"${CURL[@]}" "http://127.0.0.1:$NPORT/metrics" >"$TMP/node.metrics"
# node_exporter sorts the labels and may write 1.234567e+06: compare numbers
check "node_exporter serves our call counts" "$SYSPY" -c "
import re, sys
v = [float(m.group(1)) for m in re.finditer(r'^patchgate_function_calls_total\{.*function=\"$FN\".*\} (\S+)$',
     open('$TMP/node.metrics').read(), re.M)]
print('   node_exporter:', v, 'live:', $calls)
sys.exit(v != [float($calls)])"
check "node_exporter serves our histogram" grep -q '^patchgate_function_latency_seconds_bucket{' "$TMP/node.metrics"
check "node_exporter read the file without error" grep -q '^node_textfile_scrape_error 0' "$TMP/node.metrics"
sleep 1.2
check "rewritten at the interval, by rename (no temporary file left)" bash -c \
	"[ \$(( \$(date +%s) - \$(stat -c %Y '$TMP/tf/patchgate.prom') )) -le 2 ] && [ -z \"\$(ls -A '$TMP/tf' | grep -v '^patchgate.prom$')\" ]"
kill "$TFX"
wait "$TFX"; rc=$?
check "the textfile exporter stops on SIGTERM with exit 0" [ $rc -eq 0 ]
kill "$EXP"
wait "$EXP"; rc=$?
check "the HTTP exporter stops on SIGTERM with exit 0" [ $rc -eq 0 ]

finish test_exporter
