#!/usr/bin/env bash
# Sibling control (docs/statistics.md, "Concurrent control"): two processes
# of the demo service; one gets the patch, the other (apply --control-pid)
# is probed on the same functions and serves as the control during the
# bake.  Refusals first: the target itself, another binary, no such
# process, --no-gate.  Then the harmless patch under a CPU hog that starts
# at apply (at least RUNS-1 of RUNS committed, the records carry the
# sibling's numbers) and the slow patch under the same hog (all reverted).
# Needs root.
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/host/drift_lib.sh
source "$(dirname "$0")/drift_lib.sh"
P=$EX/demo-patches
RUNS=${PG_SIBLING_RUNS:-4}

drift_svc
"$EX/demo-service" -t 4 -r 1000 --status "$TMP/sib.status" >/dev/null 2>&1 &
SIB=$!
BG_PIDS+=("$SIB")
"$EX/demo-service-trap" -t 1 -r 100 --status "$TMP/other.status" >/dev/null 2>&1 &
OTHERBIN=$!
BG_PIDS+=("$OTHERBIN")
for _ in $(seq 50); do
	[ -s "$TMP/sib.status" ] && [ -s "$TMP/other.status" ] && break
	sleep 0.1
done

echo "-- refusals: exit 1, nothing applied"
"$PG" apply --pid "$DSVC" "$P/same.so" --state-dir "$TMP/r1" --control-pid "$DSVC" \
	"${DRIFT_POLICY[@]}" >"$TMP/r1.out" 2>&1; rc=$?
check "control pid = the target: exit 1" [ $rc -eq 1 ]
check "control pid = the target: says why" grep -q "is the target itself" "$TMP/r1.out"
"$PG" apply --pid "$DSVC" "$P/same.so" --state-dir "$TMP/r2" --control-pid "$OTHERBIN" \
	"${DRIFT_POLICY[@]}" >"$TMP/r2.out" 2>&1; rc=$?
check "control pid of another binary: exit 1" [ $rc -eq 1 ]
check "control pid of another binary: says why" grep -q "runs another binary (build-id" "$TMP/r2.out"
"$PG" apply --pid "$DSVC" "$P/same.so" --state-dir "$TMP/r3" --control-pid 999999999 \
	"${DRIFT_POLICY[@]}" >"$TMP/r3.out" 2>&1; rc=$?
check "control pid not a process: exit 1" [ $rc -eq 1 ]
"$PG" apply --pid "$DSVC" "$P/same.so" --state-dir "$TMP/r4" --control-pid "$SIB" --no-gate \
	>"$TMP/r4.out" 2>&1; rc=$?
check "control pid with --no-gate: exit 1" [ $rc -eq 1 ]
"$PG" apply --pid "$DSVC" "$P/same.so" --state-dir "$TMP/r5" --control-pid abc \
	>"$TMP/r5.out" 2>&1; rc=$?
check "control pid not a number: exit 1" [ $rc -eq 1 ]
check "refusals: nothing applied" bash -c "! grep -q '\"to\":\"APPLYING\"' $TMP/r*/audit.log 2>/dev/null"
check "refusals: the target still runs" kill -0 "$DSVC"

echo "-- load during the bake: the harmless patch, $RUNS runs, the sibling as control"
drift_count "$RUNS" bake "$P/same.so" "$TMP/hb" --control-pid "$SIB"
echo "   committed $COMMITTED, reverted $REVERTED, other $OTHER"
check "sibling control: harmless patch committed in at least $((RUNS - 1)) of $RUNS" [ "$COMMITTED" -ge $((RUNS - 1)) ]
check "sibling control: no warning about a missing control" bash -c "! grep -q 'no control function' $TMP/hb/run.*.out"
check "sibling control: the records carry the sibling's numbers" drift_controls_recorded "$TMP/hb/audit.log" "$RUNS" "pid$SIB:compute_answer"

echo "-- load during the bake: the slow patch (every call 1.5x), $((RUNS / 2)) runs"
drift_count $((RUNS / 2)) bake "$P/slow.so" "$TMP/sb" --control-pid "$SIB"
echo "   committed $COMMITTED, reverted $REVERTED, other $OTHER"
check "sibling control: slow patch reverted every time" [ "$REVERTED" -eq $((RUNS / 2)) ]
check "sibling control: the sibling was never patched" bash -c "! grep -q same.so /proc/$SIB/maps && ! grep -q slow.so /proc/$SIB/maps"

echo "-- --control-pid auto: the sibling found by build-id"
"$PG" apply --pid "$DSVC" "$P/same.so" --state-dir "$TMP/au" --control-pid auto \
	"${DRIFT_POLICY[@]}" -j >"$TMP/au.out" 2>&1; rc=$?
check "auto: the gated apply commits (exit $rc)" [ $rc -eq 0 ]
check "auto: the sibling is the control" drift_controls_recorded "$TMP/au/audit.log" 1 "pid$SIB:compute_answer"
"$PG" revert --pid "$DSVC" "$P/same.so" --state-dir "$TMP/au" >/dev/null 2>&1
"$PG" apply --pid "$DSVC" "$P/same.so" --state-dir "$TMP/au2" --control-pid auto --dry-run \
	"${DRIFT_POLICY[@]}" >"$TMP/au2.out" 2>&1; rc=$?
check "auto, plain: names the sibling it chose" grep -q "control: pid $SIB runs the same binary, unpatched" "$TMP/au2.out"
"$PG" apply --pid "$SIB" "$P/same.so" --state-dir "$TMP/au3" --no-gate >/dev/null 2>&1
"$PG" apply --pid "$DSVC" "$P/same.so" --state-dir "$TMP/au3" --control-pid auto --dry-run \
	"${DRIFT_POLICY[@]}" >"$TMP/au3.out" 2>&1; rc=$?
check "auto, the only sibling patched: a dry run still goes on (exit $rc)" [ $rc -eq 0 ]
check "auto, the only sibling patched: says so" grep -q "every other process of this binary is patched: no sibling control" "$TMP/au3.out"
"$PG" revert --pid "$SIB" --state-dir "$TMP/au3" >/dev/null 2>&1
kill "$SIB"
wait "$SIB" 2>/dev/null
"$PG" apply --pid "$DSVC" "$P/same.so" --state-dir "$TMP/au4" --control-pid auto --dry-run \
	"${DRIFT_POLICY[@]}" >"$TMP/au4.out" 2>&1; rc=$?
check "auto, the binary's only process: a dry run still goes on (exit $rc)" [ $rc -eq 0 ]
check "auto, the binary's only process: says so" grep -q "no other process runs this binary: no sibling control" "$TMP/au4.out"
"$PG" apply --pid 999999999 "$P/same.so" --state-dir "$TMP/au5" --control-pid auto \
	>"$TMP/au5.out" 2>&1; rc=$?
check "auto, no such target: exit 1" [ $rc -eq 1 ]

kill "$SIB" "$OTHERBIN" 2>/dev/null
wait "$SIB" "$OTHERBIN" 2>/dev/null
drift_svc_stop
finish host-sibling
