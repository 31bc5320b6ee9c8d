#!/usr/bin/env bash
# Run every tests/host/test_*.sh; sum their "N passed, M failed" lines.
set -u
cd "$(dirname "$0")" || exit 1
if [ "$(id -u)" -ne 0 ]; then
	echo "host tests need root (BPF, ptrace)" >&2
	exit 1
fi
pass=0 fail=0 bad=()
# every -j record the tests get, and their audit logs and phase files, land
# here (jsonhook.sh) and must match docs/schema/patchgate.schema.json
VALIDATE=../../scripts/validate-json.py
PG_JSON_DIR=$(mktemp -d /tmp/pg-host-json.XXXXXX)
export PG_JSON_DIR
for t in test_*.sh; do
	[ -f "$t" ] || continue
	echo "== $t"
	t0=$(date +%s)
	out=$(bash "$t" 2>&1); rc=$?
	echo "$out"
	echo "   ($t: $(($(date +%s) - t0)) s)"
	line=$(echo "$out" | grep -E '^[a-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.*passed, \([0-9]*\) failed.*/\1/p')
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
	if [ $rc -ne 0 ]; then
		bad+=("$t")
		[ -z "$line" ] && fail=$((fail + 1))
	fi
done
echo "== JSON records (docs/schema/patchgate.schema.json)"
if ! "$VALIDATE" --self-test >/dev/null; then
	echo "  FAIL the validator's self-test (a wrong record must be refused)"
	fail=$((fail + 1)) bad+=(json)
elif "$VALIDATE" --nonempty "$PG_JSON_DIR"/*.jsonl; then
	echo "  ok   every record matches the schema"
	pass=$((pass + 1))
	rm -rf "$PG_JSON_DIR"
else
	echo "  FAIL records above do not match the schema; kept in $PG_JSON_DIR" \
		"(commands.list: the command behind each file)"
	fail=$((fail + 1)) bad+=(json)
fi
echo "host: $pass passed, $fail failed"
[ ${#bad[@]} -eq 0 ]
