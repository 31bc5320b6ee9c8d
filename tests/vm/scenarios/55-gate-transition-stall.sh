# gate, a transition that stalls: the window is judged clear, then, while
# pgvm_blocking_late's init sleeps 3 s before enabling its patch, a cat
# enters pgvm_block_read and sleeps there.  The transition cannot finish;
# past transition_timeout (3 s) the gate reverses it (exit 4), names the
# straggler, and unloads the module.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
SD=/tmp/gate55
insmod $M/pgvm_helper.ko || fail "insmod pgvm_helper"
before=$(kernel_state)
rm -f /tmp/stop55 /tmp/stopped55
(while [ ! -e /tmp/stop55 ]; do echo 1 >/proc/pgvm_block; done) &
writer=$!
(while [ ! -e /tmp/stop55 ]; do cat /proc/pgvm_block >/dev/null; done; touch /tmp/stopped55) &
reader=$!
$PG apply --klp $M/pgvm_blocking_late.ko -j --state-dir $SD \
	--set min_samples=100 --set max_wait=60s --set dwell=0.5s --set bake=10s \
	--set transition_timeout=3s >/tmp/g55.out 2>&1 &
gate=$!
check "baseline done" wait_for 60 grep -qs '"to":"WAIT_WINDOW"' /tmp/g55.out
# stop the loads: the writer first, then wake the reader's last cat
touch /tmp/stop55
wait $writer
while [ ! -e /tmp/stopped55 ]; do echo 1 >/proc/pgvm_block; sleep 0.1; done
wait $reader
check "window judged clear" wait_for 30 grep -q '"to":"APPLYING"' /tmp/g55.out
cat /proc/pgvm_block >/tmp/late.out &
late=$!
check "late cat sleeps in pgvm_block_read" wait_for 10 grep -q pgvm_block_read /proc/$late/stack
check "it went in before the patch was enabled" sh -c '! grep -q "\"to\":\"TRANSITION\"" /tmp/g55.out'
wait $gate
rc=$?
cat /tmp/g55.out
check "gated apply: transition timed out (exit $rc, want 4)" test $rc = 4
check "audit: final phase REVERTED" test "$(json_field $SD/audit.log decision to)" = REVERTED
check "audit: reversed on transition_timeout" grep -q '"reason":"transition_timeout"' $SD/audit.log
named() { grep '"reason":"transition_timeout"' $SD/audit.log | grep -qF "cat[$late/$late] in pgvm_block_read"; }
check "audit: the straggler is named (tid $late)" named
strag() { grep '"reason":"transition_timeout"' "$1" | grep -q "\"blockers\":\[{\"pid\":$late,\"tid\":$late,\"comm\":\"cat\",\"func\":\"pgvm_block_read\""; }
check "audit: the straggler is in the blockers" strag $SD/audit.log
check "-j output: the straggler is in the blockers" strag /tmp/g55.out
check "module unloaded" sh -c '! grep -q "^pgvm_blocking_late " /proc/modules'
check "kernel state as before" test "$(kernel_state)" = "$before"
check "straggler still asleep in the old code" grep -q pgvm_block_read /proc/$late/stack
echo 1 >/proc/pgvm_block
wait $late
check "straggler woke with the old code's answer" test "$(cat /tmp/late.out)" = woken
rmmod pgvm_helper || fail "rmmod pgvm_helper"
verdict "reversed after $(grep '"reason":"transition_timeout"' $SD/audit.log | sed -n 's/.*"elapsed_s":\([0-9]*\.\{0,1\}[0-9]\{0,1\}\).*/\1/p')s"
