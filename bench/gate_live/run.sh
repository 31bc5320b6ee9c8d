#!/usr/bin/env bash
# Live detection on the demo service: gate the slow twin of the demo fix
# (every call 1.5x) ROUNDS times and report, from the audit log, the time
# from the patch going in (APPLYING -> BAKE) to the revert decision, and
# the post-patch calls it took; the harmless patch is gated as a control.
# Writes bench/results/gate_live.csv.  Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PG=$ROOT/.output/patchgate
EX=$ROOT/.output/examples
OUT=$ROOT/bench/results/gate_live.csv
ROUNDS=${ROUNDS:-5}
RATE=${RATE:-1000}
TMP=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf $TMP' EXIT

echo "patch,round,calls_per_s,exit,decision,apply_to_decision_s,post_calls,p50_ratio,p99_ratio" >"$OUT"
printf '%-6s %5s %6s %-10s %12s %10s %8s %8s\n' patch round exit decision "apply->dec s" "post calls" p50x p99x
for patch in slow same; do
	for r in $(seq "$ROUNDS"); do
		"$EX/demo-service" -t 4 -r "$RATE" >/dev/null 2>&1 &
		svc=$!
		sleep 0.5
		st=$TMP/$patch.$r
		"$PG" apply --pid $svc "$EX/demo-patches/$patch.so" --state-dir "$st" \
			--policy "$ROOT/examples/policies/demo.ini" >/dev/null 2>&1
		rc=$?
		kill -9 $svc; wait $svc 2>/dev/null
		python3 - "$st/audit.log" "$patch" "$r" "$((RATE * 4))" "$rc" >>"$OUT" <<'PY'
import json, sys
log, patch, rnd, rate, rc = sys.argv[1:6]
recs = [json.loads(l) for l in open(log)]
bake = [x for x in recs if x["to"] == "BAKE"]
dec = [x for x in recs if x["from"] == "BAKE"]
if not bake or not dec:
    print("%s,%s,%s,%s,none,,,," % (patch, rnd, rate, rc)); sys.exit()
f = dec[0]["functions"][0]
print("%s,%s,%s,%s,%s,%.3f,%d,%.3f,%.3f" % (patch, rnd, rate, rc, dec[0]["reason"],
      dec[0]["elapsed_s"] - bake[0]["elapsed_s"], f["n_post"], f["p50_ratio"], f["p99_ratio"]))
PY
		tail -1 "$OUT" | awk -F, '{printf "%-6s %5s %6s %-10s %12s %10s %8s %8s\n", $1, $2, $4, $5, $6, $7, $8, $9}'
	done
done
echo "wrote $OUT"
