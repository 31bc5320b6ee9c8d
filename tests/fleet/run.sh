#!/usr/bin/env bash
# make check-fleet: the fleet recipe (deploy/ansible) run by Debian's
# ansible-core against an inventory of local hosts.  Each inventory host has
# the local connection, its own demo-service process and its own state
# directory; the rings are ansible's serial batches.  It shows that:
#  - a good patch reaches every host, ring by ring (one host's target found
#    by pidof on its own copy of the executable);
#  - a slow patch fails ring 1, the rollout stops, and the hosts of the later
#    rings are untouched (nothing in their state directories, not patched);
#  - a host with no safe window (a thread parked in the patched function) is
#    retried as the variables say, commits when the window comes, fails the
#    host when it never does, or is skipped when that is asked for;
#  - a kernel livepatch (--klp) on this host, which has no livepatch, fails
#    the host with exit 5 and its message, and nothing else is tried.
# Every run's summary and the records fetched to the controller are checked
# too.  Needs root, `make all`, and ansible-core (scripts/deps.sh fleet).
PG_JSON_TEST=fleet
# shellcheck source=tests/host/lib.sh
source "$(dirname "$0")/../host/lib.sh"
A=$ROOT/deploy/ansible
P=$EX/demo-patches
R=$TMP/records
T0=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then
	echo "fleet tests need root (BPF, ptrace)" >&2
	exit 1
fi
if ! command -v ansible-playbook >/dev/null; then
	echo "fleet tests need ansible-core: scripts/deps.sh fleet" >&2
	exit 1
fi

# ansible: its own home and config, nothing of the user's; 3 forks (a ring of
# three hosts runs its three gates at once)
mkdir -p "$TMP/ansible"
: >"$TMP/ansible/ansible.cfg"
export ANSIBLE_CONFIG=$TMP/ansible/ansible.cfg ANSIBLE_HOME=$TMP/ansible \
	ANSIBLE_LOCAL_TEMP=$TMP/ansible/tmp ANSIBLE_REMOTE_TEMP=$TMP/ansible/rtmp \
	ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_FORKS=3 ANSIBLE_PIPELINING=1 \
	ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
# the test policy of test_gate.sh: real statistics, smaller numbers
POL='["min_samples=2000", "bake=4s", "hang_timeout=2s", "dwell=0.6s", "max_wait=20s", "control=parse_request"]'

declare -A SVC_PID
# svc NAME [EXE] [ARGS...]: start demo-service NAME under load with a status file
svc() {
	local name=$1 exe=${2:-$EX/demo-service}
	shift 2 2>/dev/null || shift
	"$exe" -t 2 -r 1000 --status "$TMP/$name.status" "$@" >"$TMP/$name.svc" 2>"$TMP/$name.svc.err" &
	SVC_PID[$name]=$!
	BG_PIDS+=($!)
	wait_for "$TMP/$name.status" requests 5
}
stat_of() { python3 -c "import json;print(json.load(open('$TMP/$1.status'))['$2'])"; }
# grows NAME FIELD: did the service's counter grow over 0.5 s?
grows() { local a b; a=$(stat_of "$1" "$2"); sleep 0.5; b=$(stat_of "$1" "$2"); [ "$b" -gt "$a" ]; }
# patched NAME: patchgate status says the patch is applied in NAME's process
patched() {
	"$PG" status --pid "${SVC_PID[$1]}" --state-dir "$2" -j >"$TMP/$1.pgstatus" 2>&1 &&
		[ "$(jlast "$TMP/$1.pgstatus" patch "r['actual']")" = applied ]
}
# mapped NAME: a patch of patchgate's is mapped in NAME's process
mapped() { grep -q 'memfd:patchgate' "/proc/${SVC_PID[$1]}/maps"; }
# untouched NAME STATE-DIR: no gate ran there and nothing is mapped
untouched() { [ ! -e "$2/audit.log" ] && ! ls "$2"/gate-*.json >/dev/null 2>&1 && ! mapped "$1"; }
# result RUN HOST EXPR: EXPR over the host's result record r on the controller
result() { python3 -c "import json;r=json.load(open('$R/$1/$2/result.json'));v=($3);print(v)"; }
summary() { python3 -c "import json;s=json.load(open('$R/$1/summary.json'));v=($2);print(v)"; }
# records RUN HOST: the -j output of the host's last try, from its result record
records() { python3 -c "import json;[print(json.dumps(x)) for x in json.load(open('$R/$1/$2/result.json'))['records']]"; }
revert() { "$PG" revert --pid "${SVC_PID[$1]}" --state-dir "$2" >/dev/null 2>&1; }
revert_check() { revert "$@" && grows "$1" bug; }
# unpatched NAME: nothing is mapped and the old answers stay (gates may have run)
unpatched() { ! mapped "$1" && grows "$1" bug && [ "$(stat_of "$1" rejected)" = 0 ]; }

# inventory RUN HOST:VARS... : an inventory of local hosts, in that order;
# VARS is a JSON object of the host's variables
inventory() {
	local run=$1 h
	shift
	{
		echo "{\"patchgate\": {\"vars\": {\"ansible_connection\": \"local\","
		echo "  \"patchgate_bin\": \"$PG\", \"patchgate_set\": $POL},"
		echo " \"hosts\": {"
		for h in "$@"; do
			echo "  \"${h%%:*}\": ${h#*:}$([ "$h" = "${*: -1}" ] || echo ,)"
		done
		echo "}}}"
	} >"$TMP/$run.inv.json"
	# the YAML inventory plugin reads JSON, the one YAML that python writes safely
	python3 -c "import json,sys;json.load(open(sys.argv[1]))" "$TMP/$run.inv.json" &&
		mv "$TMP/$run.inv.json" "$TMP/$run.inv.yml"
}
# pl RUN ARGS...: the recipe's wrapper (rollout.yml, then summary.yml when it
# stopped), its output in $TMP/RUN.log; sets RC.  The rollout's name and the
# controller's record directory are rollout-wide: extra variables.
pl() {
	local run=$1 t
	shift
	t=$(date +%s)
	mkdir -p "$TMP/$run"	# the state directories' parent
	"$A/rollout.sh" -i "$TMP/$run.inv.yml" -e "patchgate_run=$run" -e "patchgate_fetch_dir=$R" "$@" \
		>"$TMP/$run.log" 2>&1
	RC=$?
	echo "   ansible-playbook exit $RC in $(($(date +%s) - t)) s"
	sed -n '/"msg": \[/,/\]/p' "$TMP/$run.log" | sed -n 's/^ *"\(.*\)",\{0,1\}$/   | \1/p'
}
# host SVC RUN [NAME]: the variables of inventory host NAME (default SVC) whose
# target is service SVC, with its state directory for RUN, as JSON
host() { printf '{"patchgate_pid": %s, "patchgate_state_dir": "%s"}' "${SVC_PID[$1]}" "$TMP/$2/${3:-$1}"; }

echo "-- the playbooks parse"
for p in rollout.yml summary.yml; do
	check "syntax: $p" ansible-playbook --syntax-check -i localhost, "$A/$p"
done

echo "-- good patch: every host, ring by ring ([1, 100%] over 4 hosts: h1 | h2 h3 h4)"
cp "$EX/demo-service" "$TMP/demo-service-h4"
svc h1
svc h2
svc h3
svc h4 "$TMP/demo-service-h4"
inventory good "h1:$(host h1 good)" "h2:$(host h2 good)" "h3:$(host h3 good)" \
	"h4:{\"patchgate_exe\": \"$TMP/demo-service-h4\", \"patchgate_state_dir\": \"$TMP/good/h4\"}"
pl good -e "patchgate_patch=$P/good.so" -e '{"patchgate_rings": [1, "100%"]}'
check "good: ansible-playbook exit 0" [ "$RC" -eq 0 ]
for h in h1 h2 h3 h4; do
	check "good: $h patched (status: applied)" patched $h "$TMP/good/$h"
	check "good: $h answers with the fix (rejected grows)" grows $h rejected
	check "good: $h's result on the controller: ok, exit 0, COMMITTED" \
		[ "$(result good $h "r['verdict'], r['exit'], r['phase']")" = "('ok', 0, 'COMMITTED')" ]
done
check "good: h4's target was found by pidof on its executable" \
	[ "$(result good h4 "r['target']")" = "--pid ${SVC_PID[h4]}" ]
check "good: rings as serial batches: h1 | h2 h3 h4" \
	[ "$(summary good "[h['ring'] for h in s['hosts']]")" = "[1, 2, 2, 2]" ]
check "good: ring 2 ran its three hosts together" \
	[ "$(result good h3 "r['ring_hosts']")" = "['h2', 'h3', 'h4']" ]
check "good: h2 applied after h1 committed" python3 -c "
import json
last=[json.loads(l) for l in open('$TMP/good/h1/audit.log')][-1]
first=[json.loads(l) for l in open('$TMP/good/h2/audit.log')][0]
print('   h1 committed at %d, h2 started at %d' % (last['wall_time'], first['wall_time']))
assert last['to'] == 'COMMITTED' and first['wall_time'] >= last['wall_time']"
check "good: summary: complete, 4 ok" [ "$(summary good "s['outcome'], s['counts']['ok']")" = "('complete', 4)" ]
check "good: summary printed by the run" grep -q 'rollout good: complete, 4 hosts, 2 ring(s) run: 4 ok' "$TMP/good.log"
for h in h1 h2 h3 h4; do
	records good $h >"$TMP/good.$h.jsonl"
	check "good: $h's -j output and audit log on the controller" \
		grep -q '"to":"COMMITTED"' "$TMP/good.$h.jsonl" "$R/good/$h/audit.log"
done
check "good: those records match docs/schema" "$ROOT/scripts/validate-json.py" --nonempty \
	"$TMP"/good.h?.jsonl "$R"/good/*/audit.log
for h in h1 h2 h3 h4; do
	check "good: $h reverted (the bug answers again)" revert_check $h "$TMP/good/$h"
done

echo "-- slow patch: ring 1 reverts, the rollout stops, later rings untouched"
inventory slow "h1:$(host h1 slow)" "h2:$(host h2 slow)" "h3:$(host h3 slow)" "h4:$(host h4 slow)"
pl slow -e "patchgate_patch=$P/slow.so"
check "slow: ansible-playbook exit 2 (a host failed)" [ "$RC" -eq 2 ]
check "slow: h1 failed with exit 2 (reverted, health regressed)" \
	[ "$(result slow h1 "r['verdict'], r['exit'], r['phase'], r['reason']")" = "('failed', 2, 'REVERTED', 'regressed')" ]
check "slow: ansible names the exit code's meaning" grep -q 'patchgate apply: exit 2 (reverted, health regressed)' "$TMP/slow.log"
check "slow: h1 behaves as before (bug answers)" grows h1 bug
for h in h2 h3 h4; do
	check "slow: $h untouched (no gate in its state dir, nothing mapped)" untouched $h "$TMP/slow/$h"
	check "slow: $h still answers the old way (bug grows)" grows $h bug
	check "slow: $h has no record on the controller" [ ! -e "$R/slow/$h" ]
done
check "slow: summary: stopped at ring 1, 1 failed, 3 not reached" \
	[ "$(summary slow "s['outcome'], s['stopped_at_ring'], s['counts']['failed'], s['counts']['not_reached']")" = "('stopped', 1, 1, 3)" ]
check "slow: the summary was printed after the stopped run" grep -q 'rollout slow: stopped at ring 1' "$TMP/slow.log"
check "slow: h1's fetched audit log says why" grep -q '"reason":"regressed"' "$R/slow/h1/audit.log"
# fewer processes under load from here on
for h in h2 h3 h4; do kill "${SVC_PID[$h]}"; wait "${SVC_PID[$h]}" 2>/dev/null; unset "SVC_PID[$h]"; done

echo "-- no safe window: retried (w1: the blocker leaves after the first try; w2: never)"
svc w1 "" --block 1
svc w2 "" --block 1
svc w3
inventory window "w1:$(host w1 window)" "w2:$(host w2 window)" "w3:$(host w3 window)"
# w1's blocker leaves as soon as its first try has given up
(wait_for "$TMP/window/w1/audit.log" '"reason":"no_window"' 60 && kill -USR2 "${SVC_PID[w1]}") &
BG_PIDS+=($!)
pl window -e "patchgate_patch=$P/good.so" -e '{"patchgate_rings": [1], "patchgate_retries": 2}' \
	-e patchgate_retry_delay=1 -e patchgate_max_wait=2
n1=$(grep -c 'FAILED - RETRYING: \[w1\]' "$TMP/window.log")
n2=$(grep -c 'FAILED - RETRYING: \[w2\]' "$TMP/window.log")
echo "   retries in ansible's output: w1 $n1, w2 $n2"
check "window: w1 retried once (ansible's output)" [ "$n1" -eq 1 ]
check "window: w1 committed on its second try" [ "$(result window w1 "r['verdict'], r['attempts'], r['exit']")" = "('ok', 2, 0)" ]
check "window: w1 patched" patched w1 "$TMP/window/w1"
check "window: w2 retried twice, as patchgate_retries says (ansible's output)" [ "$n2" -eq 2 ]
check "window: w2's record counts 3 tries" [ "$(result window w2 "r['attempts']")" = 3 ]
check "window: w2's three tries each ended no_window" [ "$(grep -c '"reason":"no_window"' "$R/window/w2/audit.log")" -eq 3 ]
check "window: w2 failed with exit 3" \
	[ "$(result window w2 "r['verdict'], r['exit'], r['phase']")" = "('failed', 3, 'ABORTED')" ]
check "window: nothing applied to w2" unpatched w2
check "window: the rollout stopped before w3" untouched w3 "$TMP/window/w3"
check "window: ansible-playbook exit 2" [ "$RC" -eq 2 ]
check "window: summary: stopped at ring 2" [ "$(summary window "s['outcome'], s['stopped_at_ring']")" = "('stopped', 2)" ]
revert w1 "$TMP/window/w1"

echo "-- skipped for want of a window (patchgate_no_window_fatal: false), then a livepatch (--klp)"
echo "   where the kernel has none: w2 skipped | k1 exit 5, the rollout stops | k2"
inventory skip "w2:{\"patchgate_patch\": \"$P/good.so\", \"patchgate_pid\": ${SVC_PID[w2]}, \"patchgate_state_dir\": \"$TMP/skip/w2\"}" \
	"k1:{\"patchgate_klp\": \"$TMP/no-such.ko\", \"patchgate_klp_params\": [\"x=1\"], \"patchgate_state_dir\": \"$TMP/skip/k1\"}" \
	"k2:{\"patchgate_patch\": \"$P/good.so\", \"patchgate_pid\": ${SVC_PID[w3]}, \"patchgate_state_dir\": \"$TMP/skip/k2\"}"
pl skip -e patchgate_max_wait=2 \
	-e '{"patchgate_rings": [1], "patchgate_retries": 0, "patchgate_no_window_fatal": false}'
check "skip: w2 tried once, skipped (exit 3)" [ "$(result skip w2 "r['verdict'], r['attempts'], r['exit']")" = "('skipped', 1, 3)" ]
check "skip: no retry with patchgate_retries 0" bash -c "! grep -q 'FAILED - RETRYING' '$TMP/skip.log'"
check "skip: nothing applied to w2" unpatched w2
check "klp: the rollout went on to k1, which ran apply --klp and failed with exit 5" \
	[ "$(result skip k1 "r['verdict'], r['exit'], r['target']")" = "('failed', 5, '--klp $TMP/no-such.ko')" ]
check "klp: the module parameter was passed" grep -q "no-such.ko x=1 --state-dir" "$PG_JSON_DIR/commands.list"
check "klp: patchgate's message is in the summary" \
	grep -q "k1 .*failed.*system or internal error: apply: this kernel has no livepatch support" "$TMP/skip.log"
check "klp: the rollout stopped before k2" untouched w3 "$TMP/skip/k2"
check "skip+klp: ansible-playbook exit 2" [ "$RC" -eq 2 ]
check "skip+klp: summary: stopped at ring 2; 1 skipped, 1 failed, 1 not reached" \
	[ "$(summary skip "s['stopped_at_ring'], [s['counts'][k] for k in ('ok', 'skipped', 'failed', 'not_reached')]")" = "(2, [0, 1, 1, 1])" ]

# stop what this test started, by pid; lib.sh's cleanup kills any left
for n in "${!SVC_PID[@]}"; do kill "${SVC_PID[$n]}" 2>/dev/null; done
for n in "${!SVC_PID[@]}"; do wait "${SVC_PID[$n]}" 2>/dev/null; done
echo "   fleet tests took $(($(date +%s) - T0)) s"
finish fleet
