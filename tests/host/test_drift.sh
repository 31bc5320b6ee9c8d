#!/usr/bin/env bash
# Drift on the host, for real (concurrent control, docs/statistics.md): the
# demo service gets the harmless patch while a CPU hog (one busy process per
# core) starts at apply and runs through the bake; the slow patch under the
# same hog; the slow patch with the hog in the baseline only.  The control
# is parse_request(), which every request runs on the same threads just
# before compute_answer(), the function the patches replace.  The 20-run
# counts with and without the control are bench/drift's (docs/benchmarks.md);
# this is the short version that still fails.  Needs root.
source "$(dirname "$0")/lib.sh"
# shellcheck source=tests/host/drift_lib.sh
source "$(dirname "$0")/drift_lib.sh"
P=$EX/demo-patches
CTL=(--set control=parse_request)
RUNS=${PG_DRIFT_RUNS:-8}

drift_svc

echo "-- no control: the gate says it judges before/after only"
"$PG" apply --pid "$DSVC" "$P/same.so" --state-dir "$TMP/nc" --dry-run "${DRIFT_POLICY[@]}" \
	>"$TMP/nc.out" 2>&1
check "no control: a warning names the policy key" grep -q "no control function (policy key control)" "$TMP/nc.out"
"$PG" apply --pid "$DSVC" "$P/same.so" --state-dir "$TMP/cs" --dry-run "${DRIFT_POLICY[@]}" \
	--set control=compute_answer >"$TMP/cs.out" 2>&1; rc=$?
check "control = a replaced function: exit 1" [ $rc -eq 1 ]
check "control = a replaced function: says why" grep -q "control function compute_answer is one the patch replaces" "$TMP/cs.out"
"$PG" apply --pid "$DSVC" "$P/same.so" --state-dir "$TMP/cu" --dry-run "${DRIFT_POLICY[@]}" \
	--set control=no_such_fn >"$TMP/cu.out" 2>&1; rc=$?
check "control = an unknown function: exit 1" [ $rc -eq 1 ]

echo "-- load during the bake: the harmless patch, $RUNS runs with the control"
drift_count "$RUNS" bake "$P/same.so" "$TMP/hb" "${CTL[@]}"
echo "   committed $COMMITTED, reverted $REVERTED, other $OTHER"
drift_reasons "$TMP/hb/audit.log"
check "load in the bake: harmless patch committed in at least $((RUNS - 1)) of $RUNS" [ "$COMMITTED" -ge $((RUNS - 1)) ]
check "load in the bake: the records carry the control's numbers" drift_controls_recorded "$TMP/hb/audit.log" "$RUNS" "parse_request"

echo "-- load during the bake: the slow patch (every call 1.5x), $((RUNS / 2)) runs"
drift_count $((RUNS / 2)) bake "$P/slow.so" "$TMP/sb" "${CTL[@]}"
echo "   committed $COMMITTED, reverted $REVERTED, other $OTHER"
check "load in the bake: slow patch reverted every time" [ "$REVERTED" -eq $((RUNS / 2)) ]

echo "-- load during the baseline only: the slow patch, $((RUNS / 2)) runs"
drift_count $((RUNS / 2)) baseline "$P/slow.so" "$TMP/sl" "${CTL[@]}"
echo "   committed $COMMITTED, reverted $REVERTED, other $OTHER"
check "load in the baseline only: slow patch reverted every time" [ "$REVERTED" -eq $((RUNS / 2)) ]

drift_svc_stop
finish host-drift
