#!/usr/bin/env bash
# Host tests of `patchgate top` (issue 12) and the operator actions: real
# gates on the demo service, watched and steered through top running in a
# tmux pane (send-keys, capture-pane).  Needs root and tmux.
source "$(dirname "$0")/lib.sh"
P=$EX/demo-patches
# the policy of test_gate.sh (real statistics, smaller numbers, a control)
POL=(--set min_samples=2000 --set hang_timeout=2s --set dwell=0.6s --set max_wait=30s
	--set control=parse_request)
TS=pgtop-$$
S=$TMP/state
mkdir -m 0700 "$S"
tm() { tmux -L "$TS" -f /dev/null "$@"; }
trap 'tmux -L "$TS" kill-server 2>/dev/null; cleanup' EXIT

# svc NAME: start demo-service under load with a status file; sets SVC, ST
svc() {
	ST=$TMP/$1.status
	"$EX/demo-service" -t 4 -r 1000 --status "$ST" >"$TMP/$1.svc" 2>&1 &
	SVC=$!
	BG_PIDS+=("$SVC")
	wait_for "$ST" requests 10
}
stat() { python3 -c "import json;print(json.load(open('$ST'))['$1'])"; }
grows() { local a b; a=$(stat "$1"); sleep 0.5; b=$(stat "$1"); [ "$b" -gt "$a" ]; }
# gate NAME PATCH BAKE [ARGS...]: a gated apply in the background; sets GPID (patchgate itself)
gate() {
	local name=$1 patch=$2 bake=$3; shift 3
	"$PG" apply --pid "$SVC" "$P/$patch" --state-dir "$S" "${POL[@]}" --set bake="$bake" \
		--set hang_timeout=2s "$@" >"$TMP/$name.out" 2>&1 &
	GPID=$!
	BG_PIDS+=("$GPID")
}
stop_pid() { kill "$1" 2>/dev/null; }
SCREEN=top:0
screen() { tm capture-pane -p -t "$SCREEN"; }
# on_screen SECONDS REGEX: wait for REGEX on top's screen (shown when it never comes)
on_screen() {
	local end=$((SECONDS + $1))
	while [ $SECONDS -lt $end ]; do
		screen | grep -Eq -- "$2" && return 0
		sleep 0.3
	done
	echo "   no /$2/ on the screen:"
	screen | sed 's/^/   | /'
	return 1
}
# row PID PHASE: top's overview row of the gate on PID in PHASE
row() { echo "^$1 +[a-z.]+ +ulp +$2"; }
# select PID: filter the overview down to PID's rows (its gate first); clear_filter: all rows
select_pid() {
	tm send-keys -t top Escape
	sleep 0.3
	tm send-keys -t top /
	tm send-keys -t top BSpace BSpace BSpace BSpace BSpace BSpace BSpace BSpace "$1" Enter
	sleep 0.5
}
clear_filter() {
	tm send-keys -t top Escape
	sleep 0.3
	tm send-keys -t top / Escape
	sleep 0.3
}
audit_order() { # audit_order PID REASON...: PID's gate took these decisions in this order
	python3 - "$S/audit.log" "$@" <<'PY'
import json, sys
f, pid, want = sys.argv[1], sys.argv[2], sys.argv[3:]
got = [r['reason'] for r in map(json.loads, open(f)) if str(r.get('target')) == pid]
print('   decisions:', ' '.join(got))
it = iter(got)
sys.exit(not all(w in it for w in want))
PY
}
audit_has() { # audit_has PID REASON [FIELD=VALUE]: a decision of PID's gate with REASON
	python3 - "$S/audit.log" "$1" "$2" "${3:-}" <<'PY'
import json, sys
f, pid, reason, kv = sys.argv[1:5]
for line in open(f):
    r = json.loads(line)
    if str(r.get('target')) == pid and r['reason'] == reason:
        if kv:
            k, v = kv.split('=')
            if str(r.get(k)) != v:
                continue
        sys.exit(0)
sys.exit(1)
PY
}

echo "-- top with no gate yet, and bad input"
"$PG" top --once --state-dir "$S" >"$TMP/empty.once" 2>&1; rc=$?
check "--once with nothing: exit 0" [ $rc -eq 0 ]
check "--once with nothing: says so" grep -q 'no gate has run' "$TMP/empty.once"
"$PG" top -d 0.1 --state-dir "$S" </dev/null >/dev/null 2>&1; rc=$?
check "-d below 0.25: exit 1" [ $rc -eq 1 ]
"$PG" top --state-dir "$S" </dev/null >"$TMP/notty.out" 2>&1; rc=$?
check "no terminal: exit 1, points at --once" bash -c "[ $rc -eq 1 ] && grep -q -- --once '$TMP/notty.out'"
"$PG" promote --state-dir "$S" >/dev/null 2>&1; rc=$?
check "promote without a target: exit 1" [ $rc -eq 1 ]
"$PG" abort 999999 --state-dir "$S" -j >"$TMP/nogate.json" 2>&1; rc=$?
check "abort with no gate there: exit 1, an error record" bash -c "[ $rc -eq 1 ] && grep -q '\"type\":\"error\"' '$TMP/nogate.json'"

tm new-session -d -s top -x 80 -y 24 "$PG top --state-dir $S -d 0.25"
check "top starts at 80x24" on_screen 20 '^TARGET +PATCH +KND +PHASE'

echo "-- a good and a slow patch: the screen moves through the phases"
svc good; SGOOD=$SVC
gate good good.so 4s; GGOOD=$GPID
svc slow; SSLOW=$SVC
gate slow slow.so 4s; GSLOW=$GPID
seen=""
end=$((SECONDS + 90))
while [ $SECONDS -lt $end ]; do
	scr=$(screen)
	for ph in BASELINE WAIT_WINDOW BAKE COMMITTED; do
		echo "$scr" | grep -Eq "$(row $SGOOD $ph)" && seen="$seen $ph"
	done
	echo "$scr" | grep -Eq "$(row $SGOOD COMMITTED)" && echo "$scr" | grep -Eq "$(row $SSLOW REVERTED)" && break
	sleep 0.25
done
echo "   good gate's phases seen: $(echo "$seen" | tr ' ' '\n' | awk '!s[$0]++' | tr '\n' ' ')"
check "good: BASELINE or WAIT_WINDOW on screen" bash -c "echo '$seen' | grep -Eq 'BASELINE|WAIT_WINDOW'"
check "good: BAKE on screen" bash -c "echo '$seen' | grep -q BAKE"
check "good: COMMITTED on screen" on_screen 5 "$(row $SGOOD COMMITTED).*exit 0"
check "slow: REVERTED on screen" on_screen 5 "$(row $SSLOW REVERTED).*exit 2"
finished $GGOOD 30; wait $GGOOD; rc=$?
check "good: gate exit 0" [ $rc -eq 0 ]
finished $GSLOW 30; wait $GSLOW; rc=$?
check "slow: gate exit 2" [ $rc -eq 2 ]
tm capture-pane -e -p -t top >"$TMP/colour.txt"
check "colour: COMMITTED green, REVERTED red" python3 - "$TMP/colour.txt" $SGOOD $SSLOW <<'PY'
import re, sys
lines = open(sys.argv[1], errors='replace').read().splitlines()
plain = lambda l: re.sub(r'\x1b\[[0-9;]*m', '', l)
def sgr(pid, phase):
    for l in lines:
        if re.match(r'%s +\S+ +ulp +%s' % (pid, phase), plain(l)):
            return re.findall(r'\x1b\[([0-9;]*)m', l)
    return []
has = lambda codes, c: any(c in x.split(';') for x in codes)
sys.exit(not (has(sgr(sys.argv[2], 'COMMITTED'), '32') and has(sgr(sys.argv[3], 'REVERTED'), '31')))
PY
check "the applied patch is listed" on_screen 15 "^$SGOOD +good.so +ulp +APPLIED"

echo "-- --once: one plain frame"
"$PG" top --once --state-dir "$S" >"$TMP/once.txt" 2>&1; rc=$?
check "--once: exit 0" [ $rc -eq 0 ]
check "--once: the header and both gates" bash -c "grep -q '^TARGET' '$TMP/once.txt' &&
	grep -Eq '$(row $SGOOD COMMITTED)' '$TMP/once.txt' && grep -Eq '$(row $SSLOW REVERTED)' '$TMP/once.txt'"
check "--once: no escape sequences in a pipe" bash -c "! grep -q \$'\\e' '$TMP/once.txt'"
"$PG" top --once -j --state-dir "$S" >"$TMP/once.json" 2>&1
check "--once -j: live records with health" bash -c "grep -c '\"type\":\"live\".*\"health\":\"finished\"' '$TMP/once.json' | grep -q 2"
"$PG" status -j --pid $SGOOD --state-dir "$S" >"$TMP/status.json" 2>&1
check "status -j: the live gate of the pid" grep -q "\"type\":\"live\".*\"name\":\"$SGOOD\"" "$TMP/status.json"

echo "-- detail screen and help"
select_pid $SGOOD
tm send-keys -t top Enter
check "detail: the function row" on_screen 10 '^>compute_answer'
check "detail: p99 over time with the apply mark" on_screen 5 '^ .*\|'
check "detail: baseline against bake histogram" on_screen 5 '^latency of compute_answer: baseline'
check "detail: the decisions" on_screen 5 'BAKE -> COMMITTED \(bake_ok\)'
tm send-keys -t top h
check "help screen" on_screen 10 'Colours: COMMITTED green'
tm send-keys -t top x
check "any key leaves help" on_screen 10 '^>compute_answer'
tm send-keys -t top Escape
check "Esc: back to the overview" on_screen 10 '^TARGET +PATCH'

echo "-- resize"
tm resize-window -t top -x 120 -y 40
check "resize to 120x40: the columns widen" on_screen 10 '^TARGET +PATCH {30,}KND'
tm resize-window -t top -x 50 -y 10
check "resize to 50x10: says it is too small" on_screen 10 'terminal too small'
tm resize-window -t top -x 80 -y 24
check "back to 80x24" on_screen 10 '^TARGET +PATCH {9}KND'
clear_filter
kill "$SGOOD" "$SSLOW" 2>/dev/null

echo "-- abort from top: reverted, exit 6"
svc abort
gate abort good.so 120s; GA=$GPID
check "abort: gate in BAKE on screen" on_screen 90 "$(row $SVC BAKE)"
select_pid $SVC
tm send-keys -t top A
check "abort: asks for a confirmation" on_screen 10 "Abort \(revert\) gate $SVC now\? \[y/N\]"
tm send-keys -t top n
check "abort: n cancels, nothing sent" on_screen 10 'cancelled: nothing sent'
tm send-keys -t top A
on_screen 10 'Abort \(revert\)' >/dev/null
tm send-keys -t top y
check "abort: the gate ends within 30 s" finished $GA 30
wait $GA; rc=$?
check "abort: gate exit 6" [ $rc -eq 6 ]
check "abort: audited with the acting uid" audit_has $SVC operator_abort operator_uid=0
check "abort: REVERTED on screen" on_screen 10 "$(row $SVC REVERTED).*exit 6"
check "abort: old behaviour back (bug answers again)" grows bug
stop_pid $SVC

echo "-- promote from top: committed before the bake ends"
svc promote
clear_filter
gate promote good.so 120s; GP=$GPID
check "promote: gate in BAKE on screen" on_screen 90 "$(row $SVC BAKE)"
select_pid $SVC
tm send-keys -t top P
on_screen 10 'Promote \(commit\)' >/dev/null
t0=$SECONDS
tm send-keys -t top y
check "promote: the gate ends within 30 s (bake 120 s)" finished $GP 30
wait $GP; rc=$?
echo "   committed $((SECONDS - t0)) s after the key"
check "promote: gate exit 0" [ $rc -eq 0 ]
check "promote: audited with the acting uid" audit_has $SVC operator_promote operator_uid=0
check "promote: COMMITTED on screen" on_screen 10 "$(row $SVC COMMITTED)"
check "promote: the fix answers" grows rejected
stop_pid $SVC

echo "-- hold from top extends the bake until resume"
svc hold
clear_filter
gate hold good.so 15s; GH=$GPID
check "hold: gate in BAKE on screen" on_screen 90 "$(row $SVC BAKE)"
t_bake=$SECONDS
select_pid $SVC
tm send-keys -t top H
on_screen 10 'Hold gate' >/dev/null
tm send-keys -t top y
check "hold: BAKE HELD on screen" on_screen 10 "$(row $SVC 'BAKE HELD')"
"$PG" hold $SVC --state-dir "$S" -j >"$TMP/hold2.json" 2>&1; rc=$?
check "hold twice: refused, exit 1" bash -c "[ $rc -eq 1 ] && grep -q '\"result\":\"refused\"' '$TMP/hold2.json'"
# past the end the bake would have had without the hold
while [ $((SECONDS - t_bake)) -lt 20 ]; do sleep 1; done
check "hold: still baking after the bake's end" kill -0 $GH
check "hold: still BAKE HELD on screen" on_screen 5 "$(row $SVC 'BAKE HELD')"
tm send-keys -t top H
on_screen 10 'Resume gate' >/dev/null
tm send-keys -t top y
check "resume: the gate ends within 60 s" finished $GH 60
wait $GH; rc=$?
check "resume: gate exit 0 (committed on its verdict)" [ $rc -eq 0 ]
check "hold, resume, bake_ok: audited in this order" audit_order $SVC operator_hold operator_resume bake_ok
stop_pid $SVC

echo "-- another uid cannot act"
svc uid
clear_filter
gate uid good.so 120s; GU=$GPID
check "uid: gate in BAKE on screen" on_screen 90 "$(row $SVC BAKE)"
cp "$ROOT/.output/patchgate" "$TMP/pg-any"
chmod 0755 "$TMP/pg-any"
chmod 0711 "$TMP" "$S"
setpriv --reuid 65534 --regid 65534 --clear-groups "$TMP/pg-any" abort $SVC --state-dir "$S" -j \
	>"$TMP/nobody.json" 2>&1; rc=$?
check "uid 65534: abort denied, exit 1" bash -c "[ $rc -eq 1 ] && grep -q '\"result\":\"denied\"' '$TMP/nobody.json'"
chmod 0700 "$S"
setpriv --reuid 65534 --regid 65534 --clear-groups "$TMP/pg-any" promote $SVC --state-dir "$S" \
	>/dev/null 2>"$TMP/nobody2.err"; rc=$?
check "uid 65534, state dir 0700: promote refused, exit 1" [ $rc -eq 1 ]
chmod 0700 "$TMP"
check "uid: the gate still bakes" on_screen 5 "$(row $SVC BAKE)"
check "uid: nothing audited for the refused actions" bash -c "! grep -q '\"target\":$SVC,.*operator_' '$S/audit.log'"

echo "-- a SIGKILLed gate shows as gone"
clear_filter
kill -9 $GU
wait $GU 2>/dev/null
check "killed: gone on screen" on_screen 15 "$(row $SVC BAKE).* gone"
"$PG" status -j --pid $SVC --state-dir "$S" >"$TMP/gone.json" 2>&1
check "killed: status -j says gone" grep -q '"health":"gone"' "$TMP/gone.json"
"$PG" abort $SVC --state-dir "$S" >/dev/null 2>&1; rc=$?
check "killed: abort finds no gate, exit 1" [ $rc -eq 1 ]
"$PG" revert --pid $SVC --state-dir "$S" >/dev/null 2>&1
stop_pid $SVC

echo "-- a stopped top costs a gate nothing"
# a top of its own, under a shell: tmux sends SIGCONT to a pane's own process
# when it stops, but not to that process's children
tm new-window -d -t top -n stopped "sh -c '$PG top --state-dir $S -d 0.25; true'"
sleep 1
TOPPID=$(pgrep -P "$(tm list-panes -t top:stopped -F '#{pane_pid}')" -x patchgate | head -n1)
check "stopped top: found top's pid" [ -n "$TOPPID" ]
kill -STOP "$TOPPID"
svc stopped
t0=$SECONDS
gate stopped good.so 3s; GS=$GPID
finished $GS 60; wait $GS; rc=$?
echo "   gate under a stopped top: exit $rc in $((SECONDS - t0)) s"
check "stopped top: the gate ran to its end (exit 0) while top was stopped" [ $rc -eq 0 ]
check "stopped top: top was still stopped meanwhile" grep -q '^State:.*T (stopped)' "/proc/$TOPPID/status"
kill -CONT "$TOPPID"
SCREEN=top:stopped
check "stopped top: woken, it shows the gate COMMITTED" on_screen 10 "$(row $SVC COMMITTED).*exit 0"
SCREEN=top:0
tm kill-window -t top:stopped
"$PG" revert --pid $SVC --state-dir "$S" >/dev/null 2>&1
stop_pid $SVC

echo "-- NO_COLOR"
tm new-window -d -t top -n nc "NO_COLOR=1 $PG top --state-dir $S -d 0.25"
sleep 3
tm capture-pane -e -p -t top:nc >"$TMP/nc.txt"
check "NO_COLOR: top draws" grep -q 'TARGET' "$TMP/nc.txt"
check "NO_COLOR: no colour on the screen" bash -c "! grep -qaE \$'\\e\\[[0-9;]*3[1-7]m' '$TMP/nc.txt'"
tm kill-window -t top:nc
tm send-keys -t top q
sleep 1
check "q quits top" bash -c "! tmux -L $TS has-session -t top 2>/dev/null"
echo "-- ad-hoc watch mode: top --pid PID FUNC..."
svc watch
"$PG" top --pid 999999 --once compute_answer >"$TMP/w1.out" 2>&1; rc=$?
check "watch mode, no such process: exit 1" [ $rc -eq 1 ]
"$PG" top --pid $SVC --once no_such_fn >"$TMP/w2.out" 2>&1; rc=$?
check "watch mode, no such function: exit 1, named" bash -c "[ $rc -eq 1 ] && grep -q no_such_fn '$TMP/w2.out'"
"$PG" top --once compute_answer >"$TMP/w3.out" 2>&1; rc=$?
check "FUNC without --pid: exit 1, points at --pid" bash -c "[ $rc -eq 1 ] && grep -q -- --pid '$TMP/w3.out'"
"$PG" top --pid $SVC --once >/dev/null 2>&1; rc=$?
check "--pid without FUNC: exit 1" [ $rc -eq 1 ]
"$PG" top --pid $SVC --kernel --once vfs_read >/dev/null 2>&1; rc=$?
check "--pid with --kernel: exit 1" [ $rc -eq 1 ]
"$PG" top --pid $SVC --errors maybe --once compute_answer >/dev/null 2>&1; rc=$?
check "--errors with a bad mode: exit 1" [ $rc -eq 1 ]
"$PG" top --pid $SVC compute_answer </dev/null >"$TMP/w4.out" 2>&1; rc=$?
check "watch mode, no terminal: exit 1, points at --once" bash -c "[ $rc -eq 1 ] && grep -q -- --once '$TMP/w4.out'"
"$PG" top --pid $SVC --once -d 0.5 compute_answer parse_request >"$TMP/w.once" 2>&1; rc=$?
sed 's/^/   | /' "$TMP/w.once"
check "watch --once: exit 0" [ $rc -eq 0 ]
check "watch --once: the table's header" grep -Eq '^FUNCTION +PROBE +CALLS/S +INFL +P50 +P90 +P99' "$TMP/w.once"
check "watch --once: both functions counted" bash -c "grep -Ec '^(compute_answer|parse_request) +(nop5|trap) +[1-9][0-9]* ' '$TMP/w.once' | grep -qx 2"
"$PG" top --pid $SVC --once -d 0.5 -j compute_answer >"$TMP/w.json" 2>&1; rc=$?
check "watch --once -j: exit 0, attached then a func record with calls" python3 -c "
import json
r = [json.loads(l) for l in open('$TMP/w.json')]
assert $rc == 0 and [x['type'] for x in r] == ['attached', 'func'], r
assert r[1]['func'] == 'compute_answer' and r[1]['calls'] > 0 and r[1]['p99_ns'] > 0, r[1]
"
tm new-session -d -s tw -x 80 -y 24 "$PG top --pid $SVC -d 0.25 compute_answer parse_request"
SCREEN=tw:0
check "watch screen: the table at 80x24" on_screen 20 '^FUNCTION +PROBE +CALLS/S'
check "watch screen: the target in the title" on_screen 5 "^patchgate top [0-9:]+  pid $SVC \(demo-service\)"
check "watch screen: calls/s of the first function" on_screen 10 '^compute_answer +(nop5|trap) +[1-9]'
check "watch screen: the selected function's p99 over time" on_screen 5 '^p99 of compute_answer'
tm send-keys -t tw j
check "j selects the next function" on_screen 5 '^p99 of parse_request'
tm send-keys -t tw s
check "s sorts (calls/s)" on_screen 5 'sort: calls/s'
tm send-keys -t tw / p a r s e Enter
check "filter: the other function goes" bash -c "sleep 1; tmux -L $TS capture-pane -p -t tw:0 | grep -q '^parse_request' && ! tmux -L $TS capture-pane -p -t tw:0 | grep -q '^compute_answer'"
tm send-keys -t tw / Escape
check "filter cleared: both back" on_screen 5 '^compute_answer'
tm send-keys -t tw A
check "A in watch mode: no gate to act on" on_screen 5 'watch mode: no gate here'
tm send-keys -t tw h
check "help: watch mode's keys" on_screen 5 'ad-hoc watch mode'
tm send-keys -t tw x
check "any key leaves the help" on_screen 5 '^FUNCTION +PROBE'
tm resize-window -t tw -x 100 -y 30
check "resize: redrawn at 100 columns" on_screen 5 '^FUNCTION {20,}PROBE'
check "the service serves under top's probes" grows requests
kill $SVC
wait $SVC 2>/dev/null
check "the target exits: top says so and keeps the last figures" on_screen 10 'TARGET EXITED'
tm send-keys -t tw q
sleep 1
check "q quits watch mode" bash -c "! tmux -L $TS has-session -t tw 2>/dev/null"

echo "-- a rollout: its row, and its tree on Enter"
RS=$TMP/ro-state
RPIDS=()
for i in 1 2 3; do svc "ro$i"; RPIDS+=("$SVC"); done
"$PG" rollout "$P/good.so" --pids "$(IFS=,; echo "${RPIDS[*]}")" --rings 1,100% --state-dir "$RS" \
	"${POL[@]}" --set bake=6s >"$TMP/ro.out" 2>&1 &
RO=$!
BG_PIDS+=("$RO")
tm new-session -d -s tr -x 80 -y 24 "$PG top --state-dir $RS -d 0.25"
SCREEN=tr:0
check "rollout: its row, running, ring 1 of 2" on_screen 20 '^rollout +good\.so +set +RUNNING .*ring 1/2'
check "rollout: the first member's gate has its own row" on_screen 20 "$(row "${RPIDS[0]}" '[A-Z_]+')"
tm send-keys -t tr Enter
check "rollout, Enter: the tree, ring 1 with its process" on_screen 10 "ring 1: 1 process"
check "rollout, Enter: the member's gate and its function" on_screen 20 "compute_answer +[0-9]+ calls/s"
check "rollout, Enter: ring 2 holds the other two" on_screen 10 "ring 2: 2 processes"
wait $RO; rc=$?
check "rollout: exit 0" [ $rc -eq 0 ]
check "rollout: the tree ends committed" on_screen 10 "rollout rollout-[0-9-]+: committed, ring 2 of 2"
tm send-keys -t tr Escape
check "rollout: the row ends COMMITTED, 3 of 3 done" on_screen 10 '^rollout +good\.so +set +COMMITTED .* 3/3 .*ring 2/2'
"$PG" top --once --state-dir "$RS" >"$TMP/ro-once.txt" 2>&1
check "rollout, --once: the row and the tree" bash -c "grep -Eq '^rollout +good\.so +set +COMMITTED' '$TMP/ro-once.txt' && grep -q '^  ring 2' '$TMP/ro-once.txt'"
"$PG" top --once -j --state-dir "$RS" >"$TMP/ro-once.json" 2>&1
check "rollout, --once -j: the rollout record first" bash -c "head -n1 '$TMP/ro-once.json' | grep -q '\"type\":\"rollout\"'"
tm send-keys -t tr q
for p in "${RPIDS[@]}"; do "$PG" revert --pid "$p" --state-dir "$RS" >/dev/null 2>&1; stop_pid "$p"; done
pg_json_collect "$RS"
pg_json_collect "$S"
finish test_top
