# shellcheck shell=bash
# Helpers for host tests (sourced).  Each test script counts its own checks
# and ends with `finish`, which prints "NAME: N passed, M failed".
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# EX (and PG below) are read by the test scripts that source this file
# shellcheck disable=SC2034
EX=$ROOT/.output/examples
TMP=$(mktemp -d /tmp/pg-host.XXXXXX)
# $PG runs the binary through the JSON hook (jsonhook.sh): every -j record is
# kept and checked against docs/schema, by run.sh or, for a test run alone,
# by finish
# shellcheck source=tests/host/jsonhook.sh
. "$ROOT/tests/host/jsonhook.sh"
if [ -z "${PG_JSON_DIR:-}" ]; then
	PG_JSON_DIR=$TMP/json PG_JSON_SELF=1
	mkdir -p "$PG_JSON_DIR"
fi
export PG_JSON_DIR
PG=$TMP/patchgate
pg_json_wrapper "$ROOT/.output/patchgate" "$PG"
PASS=0
FAIL=0
BG_PIDS=()

ok() { PASS=$((PASS + 1)); echo "  ok   $1"; }
bad() { FAIL=$((FAIL + 1)); echo "  FAIL $1${2:+: $2}"; }
check() { # check NAME CONDITION-COMMAND...
	local name=$1; shift
	if "$@"; then ok "$name"; else bad "$name" "$*"; fi
}
bg() { "$@" & BG_PIDS+=($!); }
cleanup() {
	for p in "${BG_PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
finish() {
	pg_json_collect "$TMP"
	[ -z "${PG_JSON_SELF:-}" ] ||
		check "every -j record matches docs/schema" "$ROOT/scripts/validate-json.py" --nonempty "$PG_JSON_DIR"/*.jsonl
	echo "$1: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
# jq-like field access with python: jget FILE 'expr over r (last record of type T)' T
jlast() { # jlast FILE TYPE EXPR  -> evaluates EXPR with r = last record of TYPE
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
f, t, expr = sys.argv[1:4]
r = None
for line in open(f):
    line = line.strip()
    if not line.startswith('{'):
        continue
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get('type') == t:
        r = o
if r is None:
    print('NO-RECORD'); sys.exit(0)
print(eval(expr, {'r': r}))
PY
}
# wait_for FILE PATTERN SECONDS
wait_for() {
	local i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		sleep 0.1; i=$((i + 1))
		[ $i -ge $(($3 * 10)) ] && return 1
	done
	return 0
}
# finished PID SECONDS: did the process end within SECONDS?
finished() {
	local end=$((SECONDS + $2))
	while kill -0 "$1" 2>/dev/null; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.2
	done
}
