#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Host tests of the ulp backend: apply --no-gate / revert / status on live
# processes (tests/host/ulp/ulp-target), every bad-input case, blockers,
# the target exiting mid-apply, SIGKILL of patchgate at random moments,
# and an apply/revert stress run.
#   ULP_STRESS_CYCLES (default 500), ULP_KILL_TRIALS (default 120)
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
PG=$ROOT/.output/patchgate
FX=$ROOT/.output/ulp-tests
CYCLES=${ULP_STRESS_CYCLES:-500}
TRIALS=${ULP_KILL_TRIALS:-120}
WORK=$(mktemp -d /tmp/pg-ulp-test.XXXXXX)
SD=$WORK/state
PASS=0
FAIL=0
PIDS=()

[ -n "${PG_NO_BUILD:-}" ] || make -s -j2 .output/patchgate >/dev/null || { echo "host-ulp: 0 passed, 1 failed"; exit 1; }
make -s -C tests/host/ulp OUT="$FX" >/dev/null || { echo "host-ulp: 0 passed, 1 failed"; exit 1; }
# a private copy: others rebuilding .output/patchgate must not break a run
cp "$PG" "$WORK/patchgate" && PG=$WORK/patchgate
# -j records are kept for run.sh's schema check (pg_json_run, pg_json_collect)
# shellcheck source=tests/host/jsonhook.sh
. tests/host/jsonhook.sh

cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	pg_json_collect "$WORK"
	rm -rf "$WORK"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "  ok   $*"; }
ko() { FAIL=$((FAIL + 1)); echo "  FAIL $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }

# start_target NAME HOT IDLE CHURN: sets TPID; commands via tcmd NAME CMD
start_target() {
	local n=$1
	mkfifo "$WORK/$n.in"
	"$FX/${TBIN:-ulp-target}" "$2" "$3" "$4" <"$WORK/$n.in" >"$WORK/$n.out" 2>"$WORK/$n.err" &
	TPID=$!
	PIDS+=("$TPID")
	eval "exec {FD_$n}>\"$WORK/$n.in\""
	for _ in $(seq 100); do grep -q '^ready' "$WORK/$n.out" 2>/dev/null && return 0; sleep 0.05; done
	return 1
}
# tcmd NAME CMD: send, wait for one more output line, print it
tcmd() {
	local n=$1 before fd
	before=$(wc -l <"$WORK/$n.out")
	eval "fd=\$FD_$n"
	echo "$2" >&"$fd"
	for _ in $(seq 400); do
		if [ "$(wc -l <"$WORK/$n.out")" -gt "$before" ]; then
			tail -n +$((before + 1)) "$WORK/$n.out" | head -1
			return 0
		fi
		sleep 0.025
	done
	echo "timeout"
}
stop_target() {
	local n=$1 p=$2 fd
	eval "fd=\$FD_$n"
	eval "exec $fd>&-"
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}
pg() { local c=$1; shift; pg_json_run "$PG" "$c" --state-dir "$SD" "$@"; }
not() { ! "$@"; }
entry_bytes() { # pid addr_hex -> 5 bytes hex
	dd if="/proc/$1/mem" bs=1 skip=$(($2)) count=14 iflag=skip_bytes status=none 2>/dev/null | od -An -tx1 | tr -d ' \n'
}
jfield() { python3 -c 'import json,sys
for l in sys.stdin:
    if not l.strip(): continue
    o=json.loads(l)
    if o.get("type")==sys.argv[1]: print(o.get(sys.argv[2])); break' "$1" "$2"; }
ADDR=0x$(nm "$FX/ulp-target" | awk '$3=="pg_compute" {print $1}')
patch_mapped() { grep -q "$1" "/proc/$2/maps"; }

echo "ulp: fixtures in $FX, state in $SD"

# ---- basic apply / status / idempotence / revert -----------------------
start_target basic 4 2 0 || ko "target starts"
T=$TPID
orig=$(entry_bytes $T "$ADDR")
out=$(pg apply --pid $T "$FX/good.so" --no-gate -j); rc=$?
check "apply good.so exits 0 ($out)" [ $rc -eq 0 ]
check "apply JSON says applied" [ "$(echo "$out" | jfield apply state)" = applied ]
check "after apply every call is new" [ "$(tcmd basic 'check new')" = ok ]
check "patch is mapped file-backed" patch_mapped good.so $T
st=$(pg status --pid $T -j)
check "status: applied and consistent" [ "$(echo "$st" | jfield patch actual)/$(echo "$st" | jfield patch consistent)" = applied/True ]
out=$(pg apply --pid $T "$FX/good.so" --no-gate -j); rc=$?
check "second apply is idempotent (exit 0, already-applied)" [ $rc -eq 0 -a "$(echo "$out" | jfield apply state)" = already-applied ]
out=$(pg apply --pid $T "$FX/bad-buildid.so" --no-gate 2>&1); rc=$?
check "stacking on a patched function is refused (exit 1)" [ $rc -eq 1 ]
out=$(pg revert --pid $T -j); rc=$?
check "revert exits 0" [ $rc -eq 0 ]
check "after revert every call is old" [ "$(tcmd basic 'check old')" = ok ]
check "revert restored the original bytes" [ "$(entry_bytes $T "$ADDR")" = "$orig" ]
check "revert unmapped the patch" not patch_mapped good.so $T
out=$(pg status --pid $T)
check "status after revert: no live patches" grep -q "no live patches" <<<"$out"
out=$(pg revert --pid $T 2>&1); rc=$?
check "revert with nothing applied exits 1" [ $rc -eq 1 ]
out=$(pg apply --pid $T "$FX/multi.so" --no-gate -j); rc=$?
check "a two-function patch applies, both jumps listed" [ $rc -eq 0 -a "$(grep -o -- '->' <<<"$out" | wc -l)" = 2 ]
check "two-function patch: every call is new" [ "$(tcmd basic 'check new')" = ok ]
out=$(pg revert --pid $T "$FX/multi.so" -j); rc=$?
check "two-function patch: revert by name, every call is old, bytes restored" \
	[ $rc -eq 0 -a "$(tcmd basic 'check old')" = ok -a "$(entry_bytes $T "$ADDR")" = "$orig" ]

# ---- a ten-function patch: every function in apply, status and revert (reports once stopped at 8);
# compared as sets: the records come in the order the compiler laid them out
nfuncs() { python3 -c 'import json,sys
for l in sys.stdin:
    o=json.loads(l)
    if o.get("type")==sys.argv[1]: print(",".join(sorted(f["func"] for f in o["funcs"]))); break' "$1"; }
WIDE=pg_wide0,pg_wide1,pg_wide2,pg_wide3,pg_wide4,pg_wide5,pg_wide6,pg_wide7,pg_wide8,pg_wide9
out=$(pg apply --pid $T "$FX/wide.so" --no-gate -j); rc=$?
check "ten-function patch: apply exits 0, all ten listed" [ $rc -eq 0 -a "$(nfuncs apply <<<"$out")" = $WIDE ]
check "ten-function patch: ten jumps listed" [ "$(grep -o -- '->' <<<"$out" | wc -l)" = 10 ]
out=$(pg status --pid $T -j)
check "ten-function patch: status lists all ten" [ "$(nfuncs patch <<<"$out")" = $WIDE ]
out=$(pg status --pid $T)
check "ten-function patch: plain status lists all ten" [ "$(grep -c 'pg_wide[0-9]@' <<<"$out")" = 10 ]
out=$(pg revert --pid $T "$FX/wide.so" -j); rc=$?
check "ten-function patch: revert exits 0, all ten listed" [ $rc -eq 0 -a "$(nfuncs revert <<<"$out")" = $WIDE ]
check "ten-function patch: reverted, every call is old" [ "$(tcmd basic 'check old')" = ok ]

# ---- a PIE target: the patch lands next to it, relocations get its bias
TBIN=ulp-target-pie start_target pie 4 0 0 || ko "PIE target starts"
out=$(pg apply --pid $TPID "$FX/good-any.so" --no-gate -j); rc=$?
check "PIE target: apply exits 0 ($out)" [ $rc -eq 0 ]
check "PIE target: every call is new" [ "$(tcmd pie 'check new')" = ok ]
check "PIE target: the jump is a rel32" grep -q rel32 <<<"$out"
out=$(pg revert --pid $TPID -j); rc=$?
check "PIE target: revert exits 0, every call is old" [ $rc -eq 0 -a "$(tcmd pie 'check old')" = ok ]
stop_target pie $TPID

# ---- bad input: exit 1, target unchanged -------------------------------
unchanged() { [ "$(entry_bytes $T "$ADDR")" = "$orig" ] && ! grep -q "ulp-tests/.*\.so" /proc/$T/maps &&
	[ -z "$(ls "$SD"/ulp-$T-*.json 2>/dev/null)" ] && kill -0 $T; }
bad() { # name expected-regex patch
	local out rc
	out=$(pg apply --pid $T "$FX/$3" --no-gate 2>&1); rc=$?
	if [ $rc -eq 1 ] && grep -Eqi "$2" <<<"$out" && unchanged; then ok "bad input: $1 -> exit 1 ($out)"
	else ko "bad input: $1 (rc=$rc: $out)"; fi
}
out=$(pg apply --pid 4194000 "$FX/good.so" --no-gate 2>&1); rc=$?
check "bad input: missing pid -> exit 1" [ $rc -eq 1 ]
bad "build-id mismatch" "build-id mismatch" bad-buildid.so
bad "missing symbol" "cannot find 'pg_compute_misspelt'" no-symbol.so
bad "function shorter than the jump" "shorter than a 5-byte jump" too-short.so
bad "patch built without -fPIC" "text relocation|-fPIC" nopic.so
bad "TLS in the patch" "R_X86_64_DTPMOD64|thread-local|TLS" tls.so
bad "garbage .so" "not a 64-bit ELF" garbage.so
bad "truncated .so" "truncated|not a 64-bit ELF|malformed" truncated.so
bad "patch for another object" "libnot-mapped-here.so.1, which pid" other-object.so
bad "unresolvable reference" "pg_nowhere" unresolved.so
"$FX/ulp-tracer" $T >"$WORK/tracer.out" 2>&1 &
TR=$!; PIDS+=("$TR"); sleep 0.2
out=$(pg apply --pid $T "$FX/good.so" --no-gate 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q "already traced by pid $TR" <<<"$out" && unchanged; then ok "bad input: another tracer -> exit 1 ($out)"
else ko "bad input: another tracer (rc=$rc: $out)"; fi
kill $TR; wait $TR 2>/dev/null
# a probe on the entry (patchgate watch: an optimised uprobe on the nop5): refused, never shared
"$PG" watch --pid $T --interval 1 --duration 4 pg_compute >"$WORK/watch.out" 2>&1 &
W=$!; PIDS+=("$W"); sleep 2
out=$(pg apply --pid $T "$FX/good.so" --no-gate 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q "uprobe" <<<"$out"; then ok "bad input: a probe on the entry -> exit 1 ($out)"
else ko "bad input: a probe on the entry (rc=$rc: $out)"; fi
wait $W
check "bad input: the target is unchanged once the probe is gone" unchanged
check "target still answers after the bad inputs" [ "$(tcmd basic 'check old')" = ok ]
stop_target basic $T

# ---- blockers ------------------------------------------------------------
start_target blk 2 0 0 || ko "target starts"
T=$TPID
btid=$(tcmd blk block | awk '{print $2}')
"$PG" apply --state-dir "$SD" --pid $T "$FX/block.so" --no-gate --max-wait 20 -j >"$WORK/blk.json" 2>&1 &
AP=$!; PIDS+=("$AP")
sleep 0.8
check "apply waits while tid $btid sits in pg_blockme" kill -0 $AP
out=$(pg apply --pid $AP "$FX/good.so" --no-gate 2>&1); rc=$?
check "bad input: the target is patchgate itself -> exit 1 ($out)" [ $rc -eq 1 ] && grep -q "patchgate itself" <<<"$out"
out=$(pg apply --pid $T "$FX/good.so" --no-gate 2>&1); rc=$?
check "bad input: target traced by another patchgate -> exit 1 ($out)" [ $rc -eq 1 ]
t0=$(date +%s%N)
tcmd blk release >/dev/null
wait $AP; rc=$?
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "apply succeeds once the blocker leaves (exit $rc, ${dt} ms after release)" [ $rc -eq 0 -a $dt -le 1000 ]
pg revert --pid $T >/dev/null 2>&1
btid=$(tcmd blk block | awk '{print $2}')
out=$(pg apply --pid $T "$FX/block.so" --no-gate --max-wait 1 -j); rc=$?
check "a blocker that never leaves: exit 3" [ $rc -eq 3 ]
check "exit 3 names the blocking tid $btid" grep -q "\"tid\":$btid," <<<"$out"
check "nothing left applied after exit 3" [ -z "$(ls "$SD"/ulp-$T-*.json 2>/dev/null)" ] 
check "nothing left mapped after exit 3" not patch_mapped block.so $T
tcmd blk release >/dev/null

# ---- revert while a thread sits in the new code: kept mapped until it leaves
out=$(pg apply --pid $T "$FX/park.so" --no-gate -j); rc=$?
check "park.so applies ($out)" [ $rc -eq 0 ]
tcmd blk block >/dev/null
out=$(pg revert --pid $T -j); rc=$?
check "revert with a thread parked in the new code: exit 0, kept mapped ($out)" \
	[ $rc -eq 0 -a "$(echo "$out" | jfield revert kept_mapped)" = True ]
check "the patch is still mapped" patch_mapped park.so $T
st=$(pg status --pid $T -j)
check "status: reverted-mapped, bytes original, consistent" \
	[ "$(jfield patch journal_state <<<"$st")/$(jfield patch actual <<<"$st")/$(jfield patch consistent <<<"$st")" = reverted-mapped/not-applied/True ]
check "the parked thread leaves the old patch's code" [ "$(tcmd blk release)" = released ]
out=$(pg revert --pid $T -j); rc=$?
check "a second revert unmaps it once unreferenced" [ $rc -eq 0 -a "$(echo "$out" | jfield revert kept_mapped)" = False ]
check "the patch is gone" not patch_mapped park.so $T

# ---- the target exiting during apply -----------------------------------
btid=$(tcmd blk block | awk '{print $2}')
"$PG" apply --state-dir "$SD" --pid $T "$FX/block.so" --no-gate --max-wait 20 >"$WORK/exit.out" 2>&1 &
AP=$!; PIDS+=("$AP")
sleep 0.5
kill -9 $T
wait $AP; rc=$?
check "target exiting during apply: exit 1 ($(tr '\n' ' ' <"$WORK/exit.out"))" [ $rc -eq 1 ] && grep -q "exited" "$WORK/exit.out"
check "no journal left claiming the patch" [ -z "$(ls "$SD"/ulp-$T-*.json 2>/dev/null)" ]
stop_target blk $T

# ---- SIGKILL of patchgate at random moments ----------------------------
start_target kill 4 4 0 || ko "target starts"
T=$TPID
# how long an apply and a revert take here, so that kills land across them
# (median of 3, microseconds)
das=() drs=()
for _ in 1 2 3; do
	ta=$(date +%s%N); pg apply --pid $T "$FX/good.so" --no-gate >/dev/null 2>&1
	tr=$(date +%s%N); pg revert --pid $T >/dev/null 2>&1
	te=$(date +%s%N)
	das+=($(( (tr - ta) / 1000 ))); drs+=($(( (te - tr) / 1000 )))
done
DA=$(printf '%s\n' "${das[@]}" | sort -n | sed -n 2p)
DR=$(printf '%s\n' "${drs[@]}" | sort -n | sed -n 2p)
echo "  one apply takes ${DA} us, one revert ${DR} us (wall, with process start; median of 3)"
bad_trials=0
declare -A seen=()
for i in $(seq "$TRIALS"); do
	if [ -z "$(ls "$SD"/ulp-$T-*.json 2>/dev/null)" ]; then op=apply; else op=revert; fi
	# patchgate itself, not a subshell, must get the SIGKILL
	if [ $op = apply ]; then "$PG" apply --state-dir "$SD" --pid $T "$FX/good.so" --no-gate >/dev/null 2>&1 &
	else "$PG" revert --state-dir "$SD" --pid $T >/dev/null 2>&1 & fi
	K=$!
	# half the kills anywhere in the operation, half in its second half (where it touches the target)
	d=$([ $op = apply ] && echo "$DA" || echo "$DR")
	if [ $((i % 2)) = 0 ]; then us=$(( RANDOM * d / 32768 )); else us=$(( d / 2 + RANDOM * d * 6 / 10 / 32768 )); fi
	sleep "$(printf '%d.%06d' $((us / 1000000)) $((us % 1000000)))"
	kill -9 $K 2>/dev/null
	wait $K 2>/dev/null
	if ! kill -0 $T 2>/dev/null; then ko "trial $i ($op): target died"; bad_trials=$((bad_trials + 1)); break; fi
	sj=$(pg status --pid $T -j 2>/dev/null)
	st=$(jfield patch actual <<<"$sj")
	seen["$op:$(jfield patch journal_state <<<"$sj")/$st"]=$(( ${seen["$op:$(jfield patch journal_state <<<"$sj")/$st"]:-0} + 1 ))
	case "$st" in
	applied) want=new ;;
	not-applied | None | "") want=old ;;
	*) ko "trial $i ($op): status says '$st'"; bad_trials=$((bad_trials + 1)); want=skip ;;
	esac
	if [ $want != skip ] && r=$(tcmd kill "check $want") && [ "$r" != ok ]; then
		ko "trial $i ($op): status '$st' but calls are not all $want: $r"; bad_trials=$((bad_trials + 1))
	fi
	# finish the job in the direction of the interrupted operation
	if [ $op = apply ]; then fo=$(pg apply --pid $T "$FX/good.so" --no-gate 2>&1) || { ko "trial $i: apply to finish failed: $fo"; bad_trials=$((bad_trials + 1)); }
		[ "$(tcmd kill 'check new')" = ok ] || { ko "trial $i: not new after finishing apply"; bad_trials=$((bad_trials + 1)); }
	else
		if [ -n "$(ls "$SD"/ulp-$T-*.json 2>/dev/null)" ]; then fo=$(pg revert --pid $T 2>&1) || { ko "trial $i: revert to finish failed: $fo"; bad_trials=$((bad_trials + 1)); }; fi
		[ "$(tcmd kill 'check old')" = ok ] || { ko "trial $i: not old after finishing revert"; bad_trials=$((bad_trials + 1)); }
	fi
	[ $bad_trials -gt 5 ] && break
done
echo "  SIGKILL outcomes (op:journal/actual=count): $(for k in "${!seen[@]}"; do printf '%s=%s ' "$k" "${seen[$k]}"; done)"
check "SIGKILL of patchgate in $TRIALS random trials: target alive, fully patched or not, finished by a rerun" [ $bad_trials -eq 0 ]
stop_target kill $T

# ---- stress: 8 hot threads, malloc and dlopen churn, apply/revert cycles -
start_target stress 8 0 1 || ko "target starts"
T=$TPID
sfail=0
t0=$(date +%s)
for i in $(seq "$CYCLES"); do
	if ! pg apply --pid $T "$FX/good.so" --no-gate >"$WORK/s.out" 2>&1; then ko "cycle $i apply: $(cat "$WORK/s.out")"; sfail=$((sfail + 1)); break; fi
	r=$(tcmd stress 'check new'); [ "$r" = ok ] || { ko "cycle $i: after apply: $r"; sfail=$((sfail + 1)); break; }
	if ! pg revert --pid $T >"$WORK/s.out" 2>&1; then ko "cycle $i revert: $(cat "$WORK/s.out")"; sfail=$((sfail + 1)); break; fi
	r=$(tcmd stress 'check old'); [ "$r" = ok ] || { ko "cycle $i: after revert: $r"; sfail=$((sfail + 1)); break; }
done
check "stress: $CYCLES apply/revert cycles under load in $(( $(date +%s) - t0 )) s, target alive, old/new exactly as expected" [ $sfail -eq 0 ] 
check "stress: target still alive" kill -0 $T
stop_target stress $T

# ---- a patch at a path longer than 256 characters: unmapped after revert
start_target longpath 4 0 0 || ko "target starts"
T=$TPID
LP=$(realpath "$WORK")/long-path
for i in 1 2 3 4 5 6; do LP=$LP/dir$i-$(printf '%040d' "$i"); done
mkdir -p "$LP" && cp "$FX/good.so" "$LP/good.so"
LPS=$LP/good.so
out=$(pg apply --pid "$T" "$LPS" --no-gate -j); rc=$?
check "a patch at a ${#LPS}-character path applies, every call is new" [ "$rc/$(tcmd longpath 'check new')" = 0/ok ]
# mapped from a memfd named "patchgate:" and the path's tail (a memfd name holds 249 bytes)
check "the patch at the long path is mapped" grep -qF "/memfd:patchgate:${LPS: -239} (deleted)" "/proc/$T/maps"
out=$(pg revert --pid "$T" -j); rc=$?
check "long path: revert exits 0, not kept mapped, every call is old" \
	[ "$rc/$(jfield revert kept_mapped <<<"$out")/$(tcmd longpath 'check old')" = 0/False/ok ]
check "long path: revert unmapped the patch" not grep -qF "${LPS: -239}" "/proc/$T/maps"
st=$(pg status --pid "$T" -j); rc=$?
check "long path: status -j agrees (exit 0, no patch recorded)" [ "$rc/$(jfield patch patch <<<"$st")" = 0/ ]
stop_target longpath "$T"

# ---- 64 functions (PG_MAX_FUNCS) in one patch: every one described ------
# a target and a patch generated here: pg_fN(x) = x + N, replaced by x - N
NF=64
{
	echo '#include <stdio.h>'
	echo '#include <unistd.h>'
	for i in $(seq 0 $((NF - 1))); do echo "__attribute__((noinline)) int pg_f$i(int x) { return x + $i; }"; done
	printf '%s\n' 'int main(void) { printf("ready\n"); fflush(stdout); for (;;) pause(); }'
} >"$WORK/many.c"
{
	echo '#include <patchgate/patch.h>'
	echo 'PG_PATCH_TARGET(PG_PATCH_MAIN, "");'
	for i in $(seq 0 $((NF - 1))); do
		echo "PG_PATCH_NEW(int, pg_f${i}_new, (int x)) { return x - $i; }"
		echo "PG_PATCH_FUNC(pg_f$i, pg_f${i}_new);"
	done
} >"$WORK/many-patch.c"
if cc -O2 -fno-pie -pg -mfentry -mnop-mcount -c "$WORK/many.c" -o "$WORK/many.o" &&
	cc -no-pie "$WORK/many.o" -o "$WORK/many" &&
	cc -O2 -fPIC -shared -I"$ROOT/include" "$WORK/many-patch.c" -o "$WORK/many.so"; then
	"$WORK/many" >"$WORK/many.out" 2>&1 &
	M=$!; PIDS+=("$M")
	for _ in $(seq 100); do grep -q '^ready' "$WORK/many.out" && break; sleep 0.05; done
	# how many functions a record lists (nfuncs: above)
	nlisted() { nfuncs "$1" | tr ',' '\n' | grep -c .; }
	out=$(pg apply --pid "$M" "$WORK/many.so" --no-gate -j); rc=$?
	check "a $NF-function patch applies and lists all $NF jumps ($(nlisted apply <<<"$out") listed)" \
		[ "$rc/$(nlisted apply <<<"$out")" = "0/$NF" ]
	st=$(pg status --pid "$M" -j)
	check "status -j lists all $NF functions ($(nlisted patch <<<"$st") listed)" [ "$(nlisted patch <<<"$st")" = "$NF" ]
	out=$(pg revert --pid "$M" -j); rc=$?
	check "revert of the $NF-function patch lists all $NF ($(nlisted revert <<<"$out") listed)" \
		[ "$rc/$(nlisted revert <<<"$out")" = "0/$NF" ]
	kill "$M"; wait "$M" 2>/dev/null
else
	ko "the $NF-function target and patch build"
fi

# ---- a journal state patchgate does not know is an error, never a guess
sleep 600 &
S=$!; PIDS+=("$S")
mkdir -p "$SD"
printf '{"pid":%d,"starttime":%s,"patches":[{"patch":"/x.so","build_id":"","object":"/bin/sleep","state":"%s","applied_at":1.0,"map_lo":0,"map_hi":0,"funcs":[]}]}\n' \
	"$S" "$(awk '{print $22}' "/proc/$S/stat")" halfway >"$SD/ulp-$S-$(awk '{print $22}' "/proc/$S/stat").json"
st=$(pg status --pid "$S" -j 2>&1); rc=$?
check "status of a journal with an unknown state: exit 5 and an error, no patch record ($st)" \
	[ "$rc/$(jfield error exit <<<"$st")/$(jfield patch patch <<<"$st")" = 5/5/ ]
sed -i 's/"halfway"/"reverted-mapped"/' "$SD/ulp-$S-"*.json
st=$(pg status --pid "$S" -j); rc=$?
check "the same journal with a known state reads (reverted-mapped)" \
	[ "$rc/$(jfield patch journal_state <<<"$st")" = 0/reverted-mapped ]
rm -f "$SD/ulp-$S-"*
kill "$S"; wait "$S" 2>/dev/null

echo "host-ulp: $PASS passed, $FAIL failed"
[ $FAIL -eq 0 ]
