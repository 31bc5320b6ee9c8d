#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Host tests of what holding a target's threads stopped must never do
# (issue 10): lose a signal that arrives meanwhile, wait past --max-wait
# for a thread that cannot be stopped, leave a process that shares the
# target's memory running through a patch, or say something wrong about
# an unusual target.  Targets: tests/host/ulp/ulp-hostile.c.  Needs root.
# PG_UNDER_TEST=BINARY runs the checks against another build (to measure
# the behaviour before a fix).
source "$(dirname "$0")/lib.sh"
FX=$ROOT/.output/ulp-tests
[ -n "${PG_NO_BUILD:-}" ] || make -s -C "$ROOT" -j2 .output/patchgate >/dev/null ||
	{ echo "hazards-stop: 0 passed, 1 failed"; exit 1; }
make -s -C "$ROOT/tests/host/ulp" OUT="$FX" >/dev/null || { echo "hazards-stop: 0 passed, 1 failed"; exit 1; }
[ -z "${PG_UNDER_TEST:-}" ] || pg_json_wrapper "$PG_UNDER_TEST" "$PG"
SD=$TMP/state
OLD=3 NEW=1000003	# pg_compute(1): unpatched, good-any.so
P=$TMP/patch/good.so
mkdir -p "$TMP/patch" && cp "$FX/good-any.so" "$P"
ONLY=${HAZARDS_STOP_ONLY:-}	# a section name: run that one alone

# shellcheck source=tests/host/hostile_lib.sh
source "$(dirname "$0")/hostile_lib.sh"
# close NAME: close the target's stdin (it exits)
close() { local fd; eval "fd=\$FD_$1"; eval "exec $fd>&-"; }
# gone PID SECONDS: the process exits within SECONDS
gone() { local i; for i in $(seq $(($2 * 20))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done; return 1; }
section() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

if section signals; then
echo "-- signals that arrive while the threads are held"
# SIGTERM while apply waits for a window that never comes (a thread is
# parked inside pg_compute): rounds stop and resume every thread again and
# again; the target must die every time.
N=${HAZARDS_STOP_TRIALS:-12}
lost=0
for i in $(seq "$N"); do
	start "term$i" "$FX/ulp-hostile" park || { bad "signals: target starts"; continue; }
	pg apply --pid "$T" "$P" --no-gate --max-wait 1 >/dev/null 2>&1 &
	ap=$!
	sleep "0.$((RANDOM % 5 + 2))"
	kill -TERM "$T"
	wait "$ap"
	gone "$T" 3 || { lost=$((lost + 1)); kill -9 "$T"; }
done
check "signals: SIGTERM sent during apply (rounds going on) is never dropped ($lost of $N lost)" [ "$lost" = 0 ]
# and during a quick apply/revert of a plain target, at any moment
lost=0
for i in $(seq "$N"); do
	start "qterm$i" "$FX/ulp-hostile" plain || { bad "signals: target starts"; continue; }
	( pg apply --pid "$T" "$P" --no-gate && pg revert --pid "$T" ) >/dev/null 2>&1 &
	ap=$!
	sleep "0.0$((RANDOM % 10))"
	kill -TERM "$T"
	wait "$ap"
	gone "$T" 3 || { lost=$((lost + 1)); kill -9 "$T"; }
done
check "signals: SIGTERM sent during a quick apply and revert is never dropped ($lost of $N lost)" [ "$lost" = 0 ]

# queued realtime signals at 1 kHz, half to one thread and half to the
# process, over apply/revert cycles: each handled once, its si_value intact
start rt "$FX/ulp-hostile" rt || bad "signals: rt target starts"
stid=$(ask rt sigtid | awk '{print $2}')
SECS=${HAZARDS_STOP_RT_SECONDS:-8}
"$FX/ulp-hostile" sigsend "$T" "$stid" "$SECS" >"$TMP/sent" &
sp=$!
BG_PIDS+=("$sp")
cycles=0 fails=0
while kill -0 "$sp" 2>/dev/null; do
	pg apply --pid "$T" "$P" --no-gate -j >/dev/null 2>&1 || fails=$((fails + 1))
	pg revert --pid "$T" >/dev/null 2>&1 || fails=$((fails + 1))
	cycles=$((cycles + 1))
done
wait "$sp"
read -r _ nsent sumsent <"$TMP/sent"
got=""
for _ in $(seq 50); do
	got=$(ask rt count)
	[ "$got" = "count $nsent $sumsent" ] && break
	sleep 0.1
done
read -r _ nrecv sumrecv <<<"$got"
echo "     $cycles apply/revert cycles ($fails failed), $nsent signals sent, ${nrecv:-?} handled"
check "signals: every apply and revert during the storm succeeded ($cycles cycles)" \
	[ "$fails/$((cycles >= 5))" = 0/1 ]
check "signals: realtime signals to a thread and to the process, none lost ($nsent sent, ${nrecv:-?} handled)" \
	[ "${nrecv:-x}" = "$nsent" ]
check "signals: each delivered with its own siginfo (sum of si_value $sumsent, handled ${sumrecv:-?})" \
	[ "${sumrecv:-x}" = "$sumsent" ]
check "signals: the target ends unpatched and answering" [ "$(ask rt value)" = "value $OLD" ]
fi

if section deadline; then
echo "-- deadlines: a thread that cannot be stopped"
# the main thread is blocked in vfork for 10 s (its child sleeps): no
# ptrace stop can reach it; apply must give up at --max-wait and say so
# (within 5 s: the rest is start-up and validation on a loaded machine)
start vfork "$FX/ulp-hostile" vfork || bad "deadline: target starts"
wait_for "$TMP/vfork.out" '^vforked' 5 || bad "deadline: the target vforks"
t0=$(date +%s%N)
out=$(pg apply --pid "$T" "$P" --no-gate --max-wait 2 -j 2>&1); rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
tot=$(python3 -c 'import json,sys
o=[json.loads(l) for l in sys.stdin if l.startswith("{")]
print(round(o[-1].get("total_ms", -1)) if o else "?")' <<<"$out")
echo "     apply --max-wait 2 with the main thread in vfork: exit $rc after $ms ms (total_ms $tot)"
check "deadline: vfork: apply --max-wait 2 ends within 5 s, not when the vfork ends ($ms ms)" [ "$ms" -lt 5000 ]
check "deadline: vfork: exit 3, no safe window ($rc)" [ "$rc" = 3 ]
check "deadline: vfork: the message names the thread that could not be stopped ($out)" \
	grep -q "thread $T (ulp-hostile, state D" <<<"$out"
check "deadline: vfork: nothing applied, nothing journalled" nothing_left "$T"
check "deadline: vfork: the target answers, unpatched" [ "$(ask vfork value)" = "value $OLD" ]
# the vfork child exits: the main thread runs again, and may be patched
for _ in $(seq 150); do grep -q '^State:.*D' "/proc/$T/status" || break; sleep 0.1; done
out=$(pg apply --pid "$T" "$P" --no-gate -j 2>&1); rc=$?
check "deadline: vfork: once the child is gone, apply works ($rc)" [ "$rc/$(ask vfork value)" = "0/value $NEW" ]
check "deadline: vfork: and no thread is left traced" \
	[ "$(cat /proc/"$T"/task/*/status | awk '/TracerPid/ && $2 != 0' | wc -l)" = 0 ]
fi

if section clonevm; then
echo "-- processes that share the target's memory (CLONE_VM, not CLONE_THREAD)"
start cvpark "$FX/ulp-hostile" clonevm-park || bad "clonevm: target starts"
wait_for "$TMP/cvpark.out" '^clonevm' 5 || bad "clonevm: the sharing process starts"
C=$(awk '/^clonevm/ {print $2; exit}' "$TMP/cvpark.out")
BG_PIDS+=("$C")
out=$(pg apply --pid "$T" "$P" --no-gate --max-wait 1 -j 2>&1); rc=$?
check "clonevm: a sharing process parked inside pg_compute blocks the window (exit 3: $rc)" [ "$rc" = 3 ]
check "clonevm: ... and is named as the blocker (tid $C)" \
	python3 -c 'import json,sys
o=[json.loads(l) for l in sys.stdin if l.startswith("{")][-1]
sys.exit(0 if any(b["tid"]==int(sys.argv[1]) for b in o.get("blockers",[])) else 1)' "$C" <<<"$out"
if nothing_left "$T"; then
	ok "clonevm: nothing applied"
else	# say why: the apply's message and note, what of ours is mapped, the journal
	bad "clonevm: nothing applied" "nothing_left $T"
	echo "     apply said: $(tail -n1 <<<"$out" | cut -c1-600)"
	grep -e "patchgate:" -e "$P" "/proc/$T/maps" | sed 's/^/     maps: /'
	cat "$SD"/ulp-"$T"-*.json 2>/dev/null | cut -c1-400 | sed 's/^/     journal: /'
fi
check "clonevm: the target answers, unpatched" [ "$(ask cvpark value)" = "value $OLD" ]
check "clonevm: the sharing process is alive and no longer traced" \
	[ "$(awk '/TracerPid/ {print $2}' "/proc/$C/status")" = 0 ]

start cv "$FX/ulp-hostile" clonevm || bad "clonevm: target starts"
wait_for "$TMP/cv.out" '^clonevm' 5 || bad "clonevm: the sharing process starts"
C=$(awk '/^clonevm/ {print $2; exit}' "$TMP/cv.out")
BG_PIDS+=("$C")
out=$(pg apply --pid "$T" "$P" --no-gate -j 2>&1); rc=$?
check "clonevm: a sharing process that runs through pg_compute: apply stops and scans it too (exit 0: $rc)" \
	python3 -c 'import json,sys
o=[json.loads(l) for l in sys.stdin if l.startswith("{")][-1]
sys.exit(0 if o.get("threads")==3 and sys.argv[1]=="0" else 1)' "$rc" <<<"$out"
check "clonevm: the patch runs" [ "$(ask cv value)" = "value $NEW" ]
out=$(pg revert --pid "$T" -j 2>&1); rc=$?
check "clonevm: revert exits 0, old behaviour back" [ "$rc/$(ask cv value)" = "0/value $OLD" ]
check "clonevm: both processes alive, none traced" \
	[ "$(cat "/proc/$C/status" "/proc/$T/status" | awk '/TracerPid/ && $2 != 0' | wc -l)" = 0 ]
fi

if section messages; then
echo "-- messages and exit codes of unusual targets"
start zl "$FX/ulp-hostile" zombie-leader || bad "messages: target starts"
for _ in $(seq 50); do grep -q '^State:.*Z' "/proc/$T/status" && break; sleep 0.05; done
check "messages: the main thread has exited, the process lives" grep -q '^State:.*Z' "/proc/$T/status"
out=$(pg apply --pid "$T" "$P" --no-gate -j 2>&1); rc=$?
check "messages: main thread exited (pthread_exit): apply works (exit 0: $out)" \
	[ "$rc/$(ask zl value)" = "0/value $NEW" ]
out=$(pg status --pid "$T" -j 2>&1); rc=$?
check "messages: main thread exited: status finds the patch applied and consistent ($out)" \
	python3 -c 'import json,sys
o=[json.loads(l) for l in sys.stdin if l.startswith("{")]
p=[r for r in o if r.get("type")=="patch"]
sys.exit(0 if sys.argv[1]=="0" and p and p[0]["actual"]=="applied" and p[0]["consistent"] else 1)' "$rc" <<<"$out"
out=$(pg revert --pid "$T" -j 2>&1); rc=$?
check "messages: main thread exited: revert works" [ "$rc/$(ask zl value)" = "0/value $OLD" ]

start tr "$FX/ulp-hostile" plain || bad "messages: target starts"
tid=""
for d in /proc/"$T"/task/*; do [ "${d##*/}" = "$T" ] || { tid=${d##*/}; break; }; done
"$FX/ulp-tracer" "$tid" >"$TMP/tracer.out" 2>&1 &
tp=$!
BG_PIDS+=("$tp")
wait_for "$TMP/tracer.out" tracing 5 || bad "messages: the tracer attaches to thread $tid"
out=$(pg apply --pid "$T" "$P" --no-gate 2>&1); rc=$?
check "messages: a non-main thread traced by another tracer: exit 1 ($rc)" [ "$rc" = 1 ]
check "messages: ... the message names the thread and the tracer ($out)" \
	grep -q "thread $tid .*traced by pid $tp" <<<"$out"
check "messages: ... nothing changed" nothing_left "$T"
kill "$tp"

start lim "$FX/ulp-hostile" plain || bad "messages: target starts"
as=$(awk '/^VmSize/ {print $2 * 1024}' "/proc/$T/status")
prlimit --pid "$T" --as="$as"
out=$(pg apply --pid "$T" "$P" --no-gate -j 2>&1); rc=$?
check "messages: the target's RLIMIT_AS refuses the mapping: exit 1, not 5 ($rc: $out)" [ "$rc" = 1 ]
check "messages: ... the message says why" grep -q "cannot map the patch.*RLIMIT_AS" <<<"$out"
check "messages: ... nothing changed, the target answers" [ "$(nothing_left "$T" && ask lim value)" = "value $OLD" ]
fi

finish hazards-stop
