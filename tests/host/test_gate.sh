#!/usr/bin/env bash
# Host tests of the gated `apply --pid` (issue 6) against the live demo
# service: each case checks the exit code, the final phase in the audit log,
# and what the service answers afterwards (its --status file).  Needs root.
source "$(dirname "$0")/lib.sh"
P=$EX/demo-patches
# short but honest policy for tests: real statistics, smaller numbers, and
# parse_request() as the concurrent control (docs/statistics.md): it runs
# on the same threads just before compute_answer(), so a host that gets
# busier during the bake slows both and reads as load, not as the patch
# (the hog itself: test_drift.sh).  Before the control, a harmless patch
# was reverted here at p99 x1.66, p50 x1.00, while the host was loaded.
POL=(--set min_samples=2000 --set bake=4s --set hang_timeout=2s --set dwell=0.6s --set max_wait=20s
	--set control=parse_request)

# svc NAME ARGS... : start demo-service under load with a status file; sets SVC, ST
svc() {
	local name=$1; shift
	ST=$TMP/$name.status
	"$EX/demo-service" -t 4 -r 1000 --status "$ST" "$@" >"$TMP/$name.svc" 2>"$TMP/$name.svc.err" &
	SVC=$!
	BG_PIDS+=("$SVC")
	wait_for "$ST" requests 5
}
stat() { python3 -c "import json;print(json.load(open('$ST'))['$1'])"; }
# grows FIELD: did the counter grow over 0.5 s?
grows() { local a b; a=$(stat "$1"); sleep 0.5; b=$(stat "$1"); [ "$b" -gt "$a" ]; }
last_phase() { python3 -c "
import json
recs=[json.loads(l) for l in open('$1/audit.log')]
print(recs[-1]['to'])"; }
stop_svc() { kill $SVC 2>/dev/null; for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 $SVC 2>/dev/null || break; sleep 0.1; done; kill -9 $SVC 2>/dev/null; wait $SVC 2>/dev/null; }

echo "-- good patch: committed, and the service answers with the fix"
S1=$TMP/s1; svc good
"$PG" apply --pid $SVC "$P/good.so" --state-dir "$S1" "${POL[@]}" >"$TMP/good.out" 2>&1; rc=$?
check "good: exit 0" [ $rc -eq 0 ]
check "good: audit ends COMMITTED" [ "$(last_phase "$S1")" = COMMITTED ]
check "good: negative inputs now rejected" grows rejected
check "good: the bug no longer answers" bash -c "a=\$(python3 -c \"import json;print(json.load(open('$ST'))['bug'])\"); sleep 0.5; b=\$(python3 -c \"import json;print(json.load(open('$ST'))['bug'])\"); [ \$a = \$b ]"
"$PG" status --pid $SVC --state-dir "$S1" -j >"$TMP/good.pgstatus" 2>&1
check "good: status shows the patch applied" grep -q '"applied"' "$TMP/good.pgstatus"
check "good: status shows the gate's phase" grep -q '"type":"gate".*"phase":"COMMITTED"' "$TMP/good.pgstatus"
"$PG" revert --pid $SVC --state-dir "$S1" >/dev/null 2>&1
check "good: after revert the old behaviour is back" grows bug
stop_svc

echo "-- slow patch (every call 1.5x): reverted within the bake, old behaviour back"
S2=$TMP/s2; svc slow
"$PG" apply --pid $SVC "$P/slow.so" --state-dir "$S2" "${POL[@]}" -j >"$TMP/slow.out" 2>&1; rc=$?
check "slow: exit 2" [ $rc -eq 2 ]
check "slow: audit ends REVERTED" [ "$(last_phase "$S2")" = REVERTED ]
check "slow: the reason is a regression" grep -q '"reason":"regressed"' "$S2/audit.log"
check "slow: reverted within the bake" python3 -c "
import json, sys
recs=[json.loads(l) for l in open('$S2/audit.log')]
bake=[r for r in recs if r['to']=='BAKE'][0]['elapsed_s']
rev=[r for r in recs if r['to']=='REVERTING'][0]['elapsed_s']
print('   decided %.2fs into a %.0fs bake' % (rev-bake, recs[0]['policy']['bake_s']))
sys.exit(rev - bake > recs[0]['policy']['bake_s'])"
check "slow: old behaviour back (bug answers again)" grows bug
check "slow: evidence carries ratios and p-values" python3 -c "
import json, sys
r=[json.loads(l) for l in open('$S2/audit.log') if '\"regressed\"' in l][0]
f=r['functions'][0]
sys.exit(not (f['p50_ratio'] > 1.2 and f['mw_p'] < 0.01))"
stop_svc

echo "-- control = auto: the sibling parse_request is chosen, and the slow patch is still reverted"
S2a=$TMP/s2a; svc auto
AUTO=(--set min_samples=2000 --set bake=4s --set hang_timeout=2s --set dwell=0.6s --set max_wait=20s
	--set control=auto)
"$PG" apply --pid $SVC "$P/slow.so" --state-dir "$S2a" "${AUTO[@]}" >"$TMP/auto.out" 2>&1; rc=$?
check "auto: exit 2" [ $rc -eq 2 ]
check "auto: says it chose parse_request, called by handle_request" \
	grep -q "control = auto: parse_request (called by handle_request)" "$TMP/auto.out"
check "auto: the audit has the chosen control, its numbers, and why" python3 -c "
import json, sys
recs = [json.loads(l) for l in open('$S2a/audit.log')]
r = [r for r in recs if r['reason'] == 'regressed'][0]
ok = recs[0]['policy']['control'] == ['parse_request'] and r['controls'][0]['name'] == 'parse_request' \
	and r['controls'][0]['n_base'] >= 2000 and 'control = auto' in recs[0]['detail']
sys.exit(not ok)"
"$PG" apply --pid $SVC "$P/good.so" --state-dir "$S2a" --set control=auto,parse_request >"$TMP/auto2.out" 2>&1; rc=$?
check "auto beside a name: exit 1, nothing applied" bash -c "[ $rc -eq 1 ] && grep -q 'stands alone' '$TMP/auto2.out' && ! grep -q good.so /proc/$SVC/maps"
stop_svc

echo "-- erroring patch: error rate up, reverted"
S3=$TMP/s3; svc err
"$PG" apply --pid $SVC "$P/erroring.so" --errors neg --state-dir "$S3" "${POL[@]}" >"$TMP/err.out" 2>&1; rc=$?
check "erroring: exit 2" [ $rc -eq 2 ]
check "erroring: audit ends REVERTED" [ "$(last_phase "$S3")" = REVERTED ]
check "erroring: rule is the error rate" grep -q 'errors' "$TMP/err.out"
f1=$(stat failed); sleep 0.5; f2=$(stat failed)
check "erroring: no more failures after revert" [ "$f1" = "$f2" ]
stop_svc

echo "-- hanging patch: calls stop returning, reverted, stuck threads named"
S4=$TMP/s4; svc hang
"$PG" apply --pid $SVC "$P/hang.so" --state-dir "$S4" "${POL[@]}" >"$TMP/hang.out" 2>&1; rc=$?
check "hang: exit 2" [ $rc -eq 2 ]
check "hang: reason hung" grep -q '"reason":"hung"' "$S4/audit.log"
check "hang: stuck threads named with their tids" grep -qE 'tid [0-9]+ \(demo-service\) inside compute_answer_hang' "$TMP/hang.out"
check "hang: audit ends REVERTED" [ "$(last_phase "$S4")" = REVERTED ]
stop_svc

echo "-- a blocker that leaves: apply waits, then applies"
S5=$TMP/s5; svc block --block 1
( sleep 3; kill -USR2 $SVC ) &
"$PG" apply --pid $SVC "$P/good.so" --state-dir "$S5" "${POL[@]}" >"$TMP/block.out" 2>&1; rc=$?
check "blocker leaves: exit 0" [ $rc -eq 0 ]
check "blocker leaves: the blocker was named" grep -qE 'tid [0-9]+ \(demo-service\) inside compute_answer' "$TMP/block.out"
check "blocker leaves: waited in WAIT_WINDOW, then applied" python3 -c "
import json, sys
recs=[json.loads(l) for l in open('$S5/audit.log')]
w=[r for r in recs if r['from']=='WAIT_WINDOW'][0]
b=[r for r in recs if r['to']=='WAIT_WINDOW'][0]
print('   waited %.1fs for the window' % (w['elapsed_s']-b['elapsed_s']))
sys.exit(not (w['to']=='APPLYING' and w['elapsed_s']-b['elapsed_s'] > 2))"
check "blocker leaves: committed" [ "$(last_phase "$S5")" = COMMITTED ]
stop_svc

echo "-- a blocker that never leaves: aborted after max_wait, nothing applied"
S6=$TMP/s6; svc never --block 1
"$PG" apply --pid $SVC "$P/good.so" --state-dir "$S6" "${POL[@]}" --max-wait 3 -j >"$TMP/never.out" 2>&1; rc=$?
check "blocker stays: exit 3" [ $rc -eq 3 ]
check "blocker stays: audit ends ABORTED" [ "$(last_phase "$S6")" = ABORTED ]
check "blocker stays: blocker tid in the record" python3 -c "
import json, sys
r=[json.loads(l) for l in open('$S6/audit.log')][-1]
want=int(open('$TMP/never.svc.err').read().split('blocker tid ')[1].split()[0])
sys.exit(not any(b['tid']==want for b in r['blockers']))"
check "blocker stays: nothing applied (bug still answers)" grows bug
check "blocker stays: nothing rejected" [ "$(stat rejected)" = 0 ]
stop_svc

echo "-- dry run: baseline and window, nothing applied"
S7=$TMP/s7; svc dry
"$PG" apply --pid $SVC "$P/good.so" --state-dir "$S7" --dry-run "${POL[@]}" >"$TMP/dry.out" 2>&1; rc=$?
check "dry run: exit 0" [ $rc -eq 0 ]
check "dry run: reason dry_run" grep -q '"reason":"dry_run"' "$S7/audit.log"
check "dry run: nothing applied" [ "$(stat rejected)" = 0 ]
stop_svc

echo "-- bad input: nothing changes"
S8=$TMP/s8; svc bad
printf '[gate]\nbake = 5x\n' >"$TMP/bad.ini"
"$PG" apply --pid $SVC "$P/good.so" --state-dir "$S8" --policy "$TMP/bad.ini" 2>"$TMP/bad.err"; rc=$?
check "bad policy: exit 1" [ $rc -eq 1 ]
check "bad policy: names file, line and key" grep -q 'bad.ini:2.*bake' "$TMP/bad.err"
"$PG" apply --pid $SVC /etc/passwd --state-dir "$S8" 2>"$TMP/bad2.err"; rc=$?
check "garbage patch: exit 1" [ $rc -eq 1 ]
"$PG" apply --pid 999999 "$P/good.so" --state-dir "$S8" 2>/dev/null; rc=$?
check "missing pid: exit 1" [ $rc -eq 1 ]
check "bad input: nothing applied" [ "$(stat rejected)" = 0 ]
stop_svc

echo "-- hangup in the bake (the ssh session that ran the gate dropped): reverted like Ctrl-C"
S8=$TMP/s8; svc hup
# SIGHUP at its default: a gate keeps an ignored SIGHUP ignored (nohup's
# meaning), and the suite may run under nohup
env --default-signal=HUP "$PG" apply --pid $SVC "$P/good.so" --state-dir "$S8" "${POL[@]}" --set bake=60s \
	>"$TMP/hup.out" 2>&1 &
G=$!
wait_for "$S8/audit.log" '"to":"BAKE"' 30
kill -HUP $G
wait $G; rc=$?
check "SIGHUP in the bake: exit 5 (cancelled)" [ $rc -eq 5 ]
check "SIGHUP in the bake: audit ends REVERTED" [ "$(last_phase "$S8")" = REVERTED ]
check "SIGHUP in the bake: the reason is cancelled" grep -Eq '"to":"REVERT(ING|ED)","reason":"cancelled"' "$S8/audit.log"
check "SIGHUP in the bake: old behaviour back (bug answers again)" grows bug
stop_svc

echo "-- false-revert check: a harmless patch 20 times in a row"
S9=$TMP/s9; svc same
reverted=0 committed=0
for i in $(seq 20); do
	"$PG" apply --pid $SVC "$P/same.so" --state-dir "$S9" --set min_samples=2000 --set bake=3s \
		--set hang_timeout=2s --set dwell=0.4s --set max_wait=20s --set control=parse_request \
		>"$TMP/same.$i.out" 2>&1; rc=$?
	[ $rc -eq 0 ] && committed=$((committed + 1))
	[ $rc -eq 2 ] && { reverted=$((reverted + 1)); grep -- '-> REVERTING' "$TMP/same.$i.out" | tail -1; }
	"$PG" revert --pid $SVC "$P/same.so" --state-dir "$S9" >/dev/null 2>&1
done
echo "   committed $committed of 20, reverted $reverted"
# alpha 0.01 per look and function, and a shared 2-core host: one false revert
# in 20 happens (CI saw 1 of 20 while other tests loaded the host); two would
# be a false-revert rate past 5%.  The long counts are bench/detection's.
check "harmless patch reverted at most once in 20 runs" [ $reverted -le 1 ]
check "harmless patch committed in at least 19 of 20 runs" [ $committed -ge 19 ]
check "audit log parses as JSON lines" python3 -c "
import json
n=0
for l in open('$S9/audit.log'):
    r=json.loads(l); n+=1
    assert r['type']=='decision' and 'policy' in r and 'functions' in r
assert n >= 100
"
stop_svc

finish host-gate
