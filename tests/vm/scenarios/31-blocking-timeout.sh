# A transition that does not complete within --max-wait is reversed, the
# module unloaded, exit 4; revert while a transition is stalled reverses it.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
insmod $M/pgvm_helper.ko || fail "insmod pgvm_helper"
before=$(kernel_state)
cat /proc/pgvm_block >/tmp/helper.out &
helper=$!
wait_for 10 grep -q pgvm_block_read /proc/$helper/stack || fail "helper never slept in pgvm_block_read"
expect_rc 4 "apply with --max-wait 3 while the helper sleeps" $PG apply --klp $M/pgvm_blocking.ko --no-gate --max-wait 3
check "says the transition timed out" contains /tmp/last "did not complete"
check "names the straggler" contains /tmp/last "tid $helper (cat) sleeping in pgvm_block_read"
check "kernel unchanged after the timeout" test "$(kernel_state)" = "$before"
# revert during a stalled transition
$PG apply --klp $M/pgvm_blocking.ko --no-gate --max-wait 100 >/tmp/apply.out 2>&1 &
apply=$!
check "transition starts" wait_for 20 transition_is pgvm_blocking 1
expect_rc 0 "revert reverses the stalled transition" $PG revert --klp pgvm_blocking -j
wait $apply
rc=$?
check "the pending apply reports it did not complete (exit $rc)" test $rc = 4
check "kernel unchanged after the revert" test "$(kernel_state)" = "$before"
check "helper still asleep in the old code" grep -q pgvm_block_read /proc/$helper/stack
echo 1 >/proc/pgvm_block
wait $helper
check "helper woke with the old code's answer" test "$(cat /tmp/helper.out)" = woken
rmmod pgvm_helper || fail "rmmod pgvm_helper"
verdict "stalled transition reversed on timeout and on revert"
