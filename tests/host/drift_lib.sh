# shellcheck shell=bash
# Drift on the host, for real (sourced by tests/host/test_drift.sh and
# bench/drift/run.sh): the demo service gets a patch while a CPU hog (one
# busy process per core) runs during the bake only, or during the baseline
# only.  Needs lib.sh's EX, PG, TMP and BG_PIDS.
HOG_PIDS=()
hog_start() {
	local i
	for i in $(seq "$(nproc)"); do
		yes >/dev/null &
		HOG_PIDS+=($!)
		BG_PIDS+=($!)
	done
}
hog_stop() {
	local p
	for p in "${HOG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${HOG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	HOG_PIDS=()
}

# drift_svc: start the demo service (4 workers at 1000 requests/s each); sets DSVC
drift_svc() {
	"$EX/demo-service" -t 4 -r 1000 --status "$TMP/drift.status" >/dev/null 2>&1 &
	DSVC=$!
	BG_PIDS+=("$DSVC")
	for _ in $(seq 50); do
		[ -s "$TMP/drift.status" ] && break
		sleep 0.1
	done
}
drift_svc_stop() { kill "$DSVC" 2>/dev/null; wait "$DSVC" 2>/dev/null; }

# wait_phase AUDIT FROM_LINE PHASE PID: until a record past line FROM_LINE
# moves to PHASE; gives up when process PID (the apply) has ended
wait_phase() {
	while kill -0 "$4" 2>/dev/null; do
		tail -n +"$(($2 + 1))" "$1" 2>/dev/null | grep -q "\"to\":\"$3\"" && return 0
		sleep 0.05
	done
	return 1
}

# drift_run MODE PATCH STATE [--set ...]: one gated apply on $DSVC with the hog
# during the bake (MODE bake: from APPLYING to the end), during the baseline
# only (baseline: until APPLYING), or none; then revert.  Sets DRIFT_RC to
# the exit code; the apply's output is kept in STATE/run.N.out.
DRIFT_POLICY=(--set min_samples=2000 --set bake=3s --set hang_timeout=2s --set dwell=0.4s
	--set max_wait=20s)
drift_run() {
	local mode=$1 patch=$2 st=$3 n a
	shift 3
	mkdir -p "$st"
	n=0
	[ -f "$st/audit.log" ] && n=$(wc -l <"$st/audit.log")
	[ "$mode" = baseline ] && hog_start
	"$PG" apply --pid "$DSVC" "$patch" --state-dir "$st" "${DRIFT_POLICY[@]}" "$@" \
		>"$st/run.$n.out" 2>&1 &
	a=$!
	case $mode in
	bake) wait_phase "$st/audit.log" "$n" APPLYING "$a" && hog_start ;;
	baseline) wait_phase "$st/audit.log" "$n" APPLYING "$a"; hog_stop ;;
	esac
	wait "$a"
	DRIFT_RC=$?
	hog_stop
	"$PG" revert --pid "$DSVC" "$patch" --state-dir "$st" >/dev/null 2>&1
}

# drift_count RUNS MODE PATCH STATE [--set ...]: sets COMMITTED, REVERTED
# and OTHER (any other exit code) over RUNS runs
drift_count() {
	local runs=$1 i
	shift
	COMMITTED=0 REVERTED=0 OTHER=0
	for i in $(seq "$runs"); do
		drift_run "$@"
		case $DRIFT_RC in
		0) COMMITTED=$((COMMITTED + 1)) ;;
		2) REVERTED=$((REVERTED + 1)) ;;
		*) OTHER=$((OTHER + 1)) ;;
		esac
	done
	: "$i"
}

# drift_reasons AUDIT: print why each reverted run was reverted (the rule, the
# ratios and the control's), so that a failing count can be read from the log
drift_reasons() {
	python3 - "$1" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get('to') != 'REVERTING':
        continue
    for f in r.get('functions', []):
        c = f.get('control') or {}
        print('   reverted: %s: %s p50x%s p99x%s adj p50x%s p99x%s; control p50x%s p99x%s' % (
            r.get('reason'), f.get('func', f.get('name')), f.get('p50_ratio'), f.get('p99_ratio'),
            f.get('p50_ratio_adj'), f.get('p99_ratio_adj'), c.get('p50_ratio'), c.get('p99_ratio')))
PY
}

# drift_controls_recorded AUDIT RUNS NAME: every decision record (at least
# RUNS of them) carries one control function's numbers over at least 2000
# calls, and names NAME as the control that was used
drift_controls_recorded() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
audit, runs, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n = 0
for l in open(audit):
    r = json.loads(l)
    if r['to'] in ('COMMITTED', 'REVERTING'):
        f = r['functions'][0]
        assert f['control'] and f['control']['funcs'] == 1 and f['control']['n_post'] >= 2000, f
        assert r['controls'][0]['name'] == name and r['controls'][0]['used'], r['controls']
        n += 1
assert n >= runs, n
PY
}
