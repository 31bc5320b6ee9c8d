#!/usr/bin/env bash
# The README's demo (`make demo`): the demo service runs under load while
# patchgate gates three live patches of its compute_answer() function:
#   1. the good fix: baseline, safe window, apply, bake, COMMITTED;
#   2. a slow twin: reverted automatically during the bake;
#   3. the good fix again, while a thread is parked inside the function:
#      the gate waits for the window, then applies.
# Leaves nothing running.  Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG=$ROOT/.output/patchgate
EX=$ROOT/.output/examples
POLICY=$ROOT/examples/policies/demo.ini
# PG_DEMO_STATE: a state directory to use (and keep), as demo-top.sh passes it to top
STATE=${PG_DEMO_STATE:-$(mktemp -d /tmp/patchgate-demo.XXXXXX)}
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${PG_DEMO_STATE:-}" ] || rm -rf "$STATE"
}
trap cleanup EXIT
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
answers() {
	python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print("    service answers: %(requests)d requests, %(ok)d ok, %(bug)d negative inputs answered "
      "(the bug), %(rejected)d rejected (the fix), %(failed)d failed" % s)
PY
}
start_service() { # ARGS...
	"$EX/demo-service" -t 4 -r 1000 --status "$STATE/status.json" "$@" >/dev/null 2>&1 &
	svc=$!
	pids+=("$svc")
	while [ ! -s "$STATE/status.json" ]; do sleep 0.1; done
}
stop_service() {
	kill -9 $svc 2>/dev/null
	wait $svc 2>/dev/null
	rm -f "$STATE/status.json"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (BPF and ptrace)" >&2
	exit 1
fi
t0=$(date +%s)

say "The demo service: 4 workers, 1000 requests/s each.  compute_answer() has a bug:"
echo "    it answers negative inputs instead of rejecting them.  Policy: $POLICY"
start_service
sleep 1
answers "$STATE/status.json"
say "What patchgate sees of the function a patch would replace (watch, 2 s)"
"$PG" watch --pid $svc --interval 1 --duration 2 compute_answer handle_request

say "1/3  The good fix (examples/demo-patches/good.c), gated"
"$PG" apply --pid $svc "$EX/demo-patches/good.so" --policy "$POLICY" --state-dir "$STATE"
echo "    exit code $?"
sleep 0.5
answers "$STATE/status.json"
"$PG" status --pid $svc --state-dir "$STATE"
say "     Taking it back, for the next act (patchgate revert)"
"$PG" revert --pid $svc --state-dir "$STATE"
sleep 0.5

say "2/3  A slow twin of the fix (every call 50% slower), gated"
"$PG" apply --pid $svc "$EX/demo-patches/slow.so" --policy "$POLICY" --state-dir "$STATE"
echo "    exit code $? (2: reverted because health regressed)"
a=$(python3 -c "import json;print(json.load(open('$STATE/status.json'))['bug'])")
sleep 1
b=$(python3 -c "import json;print(json.load(open('$STATE/status.json'))['bug'])")
echo "    after the revert the service answers as before: $((b - a)) negative inputs answered in the last second"
stop_service

say "3/3  The good fix while a thread is parked inside compute_answer()"
start_service --block 1
echo "    (the parked thread is released 5 s from now)"
(sleep 5; kill -USR2 $svc 2>/dev/null) &
pids+=($!)
"$PG" apply --pid $svc "$EX/demo-patches/good.so" --policy "$POLICY" --state-dir "$STATE"
echo "    exit code $?"
answers "$STATE/status.json"
stop_service

say "The audit log: one JSON line per decision, with the evidence"
python3 - "$STATE/audit.log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    f = r["functions"][0] if r.get("functions") else {}
    extra = ""
    if r["reason"] in ("bake_ok", "regressed"):
        extra = "  p50 x%.2f  p99 x%.2f  p(bulk) %.2g  p(tail) %.2g  n %d/%d" % (
            f["p50_ratio"], f["p99_ratio"], f["mw_p"], f["tail_p"], f["n_base"], f["n_post"])
    print("    %-8s %5.1fs %-12s -> %-12s %-16s%s" % (r["patch"], r["elapsed_s"], r["from"], r["to"],
                                                     r["reason"], extra))
PY
echo
echo "demo: done in $(( $(date +%s) - t0 )) s; nothing left running"
