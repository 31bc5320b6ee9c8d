#!/usr/bin/env bash
# The gate records every decision in <state-dir>/audit.log and its phase in
# gate-PID.json.  A state directory that cannot take them (read-only, or
# full) must stop the gate with a message and exit 5, never lose a record
# silently; when it fails before anything is applied, nothing changes.
# shellcheck source=tests/host/lib.sh
. "$(dirname "$0")/lib.sh"
P=$EX/demo-patches
POL=(--set min_samples=2000 --set bake=4s --set hang_timeout=2s --set dwell=0.6s --set max_wait=20s
	--set p99_ratio_max=1.5)
MNT=()
cleanup_mounts() { for m in "${MNT[@]}"; do umount -l "$m" 2>/dev/null; done; }
trap 'cleanup_mounts; cleanup' EXIT

# svc NAME: the demo service under load, with a status file; sets SVC, ST
svc() {
	ST=$TMP/$1.status
	"$EX/demo-service" -t 4 -r 1000 --status "$ST" >"$TMP/$1.svc" 2>&1 &
	SVC=$!
	BG_PIDS+=("$SVC")
	wait_for "$ST" requests 5
}
# tmpfs DIR OPTS: a small file system of our own for the state directory
tmpfs() { mkdir -p "$1" && mount -t tmpfs -o "$2" pgtest "$1" && MNT+=("$1"); }
# unpatched: the demo service still answers the bug (the fix is not in)
unpatched() {
	local a b
	a=$(python3 -c "import json;print(json.load(open('$ST'))['bug'])"); sleep 0.5
	b=$(python3 -c "import json;print(json.load(open('$ST'))['bug'])")
	[ "$b" -gt "$a" ]
}
no_journal() { ! ls "$1"/*.json >/dev/null 2>&1 || ! grep -q '"applied"' "$1"/*.json; }

echo "-- read-only state directory: exit 5 at once, nothing applied"
svc ro
RO=$TMP/ro
tmpfs "$RO" size=1m,mode=0700 && mount -o remount,ro "$RO"
"$PG" apply --pid "$SVC" "$P/good.so" --state-dir "$RO" "${POL[@]}" -j >"$TMP/ro.out" 2>&1; rc=$?
check "read-only: exit 5" [ "$rc" -eq 5 ]
check "read-only: an error record names the state directory" \
	grep -q '"type":"error".*Read-only file system' "$TMP/ro.out"
check "read-only: the service still runs the old code" unpatched
kill "$SVC"; wait "$SVC" 2>/dev/null

echo "-- full state directory: the first record fails, exit 5, nothing applied"
svc full
FULL=$TMP/full
tmpfs "$FULL" size=64k,mode=0700
dd if=/dev/zero of="$FULL/filler" bs=4k 2>/dev/null
"$PG" apply --pid "$SVC" "$P/good.so" --state-dir "$FULL" "${POL[@]}" -j >"$TMP/full.out" 2>&1; rc=$?
check "full: exit 5" [ "$rc" -eq 5 ]
check "full: the error says the audit log could not be written" \
	grep -q '"type":"error".*cannot write the audit log.*No space left' "$TMP/full.out"
check "full: the gate ends ABORTED (nothing applied)" grep -q '"to":"ABORTED"' "$TMP/full.out"
check "full: the service still runs the old code" unpatched
check "full: no journal says applied" no_journal "$FULL"
kill "$SVC"; wait "$SVC" 2>/dev/null

echo "-- state directory fills during the bake: the next record fails, exit 5"
svc late
LATE=$TMP/late
tmpfs "$LATE" size=1m,mode=0700
"$PG" apply --pid "$SVC" "$P/good.so" --state-dir "$LATE" "${POL[@]}" -j >"$TMP/late.out" 2>&1 &
G=$!
BG_PIDS+=("$G")
# until the bake starts (or the gate ends early: then there is no bake to fill)
end=$((SECONDS + 60))
while kill -0 "$G" 2>/dev/null && ! grep -q '"to":"BAKE"' "$TMP/late.out" && [ $SECONDS -lt $end ]; do
	sleep 0.1
done
check "late: the gate reached the bake" grep -q '"to":"BAKE"' "$TMP/late.out"
dd if=/dev/zero of="$LATE/filler" bs=4k 2>/dev/null
wait "$G"; rc=$?
check "late: exit 5" [ "$rc" -eq 5 ]
check "late: the error names the record that was lost" \
	grep -qE '"type":"error".*cannot write the (audit log|phase file).*No space left' "$TMP/late.out"
check "late: the audit log holds whole records only (a failed write is cut back)" python3 -c "
import json, sys
lines = open(sys.argv[1], 'rb').read().split(b'\\n')
assert lines[-1] == b'', 'the last line has no newline'
[json.loads(l) for l in lines[:-1]]" "$LATE/audit.log"
kill "$SVC"; wait "$SVC" 2>/dev/null

finish host-records
