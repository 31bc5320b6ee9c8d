# gate, a blocker that never leaves: a cat sleeps in pgvm_block_read for
# the whole run; with max_wait 3 s the baseline is short, the window never
# clears, and the gate ABORTS (exit 3) naming it, with nothing applied.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
SD=/tmp/gate54
insmod $M/pgvm_helper.ko || fail "insmod pgvm_helper"
cat /proc/pgvm_block >/tmp/helper.out &
helper=$!
check "helper sleeps in pgvm_block_read" wait_for 10 grep -q pgvm_block_read /proc/$helper/stack
before=$(kernel_state)
expect_rc 3 "gated apply aborts" $PG apply --klp $M/pgvm_blocking.ko -j --state-dir $SD \
	--set min_samples=100 --set max_wait=3s --set dwell=0.5s --set bake=10s
check "audit: final phase ABORTED" test "$(json_field $SD/audit.log decision to)" = ABORTED
check "audit: the blocker is named" sh -c "tail -n1 $SD/audit.log | grep -q '\"tid\":$helper,\"comm\":\"cat\",\"func\":\"pgvm_block_read\"'"
check "output names the blocker" grep -q "\"tid\":$helper," /tmp/last
check "nothing loaded (kernel state unchanged)" test "$(kernel_state)" = "$before"
check "helper still asleep in the old code" grep -q pgvm_block_read /proc/$helper/stack
echo 1 >/proc/pgvm_block
wait $helper
check "helper woke with the old code's answer" test "$(cat /tmp/helper.out)" = woken
rmmod pgvm_helper || fail "rmmod pgvm_helper"
verdict "aborted after $(json_field $SD/audit.log decision elapsed_s)s"
