# blocking: a task asleep in pgvm_block_read stalls the transition; status
# names it; when it wakes, the transition completes.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
insmod $M/pgvm_helper.ko || fail "insmod pgvm_helper"
cat /proc/pgvm_block >/tmp/helper.out &
helper=$!
wait_for 10 grep -q pgvm_block_read /proc/$helper/stack || fail "helper never slept in pgvm_block_read"
$PG apply --klp $M/pgvm_blocking.ko --no-gate --max-wait 100 -j >/tmp/apply.out 2>&1 &
apply=$!
check "transition starts" wait_for 20 transition_is pgvm_blocking 1
sleep 3
check "transition still stalled after 3 s" transition_is pgvm_blocking 1
expect_rc 0 "status --kernel during the stall" $PG status --kernel -j
check "status shows transition" contains /tmp/last '"patch":"pgvm_blocking","enabled":true,"transition":true'
check "status names the helper task and function" contains /tmp/last "\"tid\":$helper,\"comm\":\"cat\",\"func\":\"pgvm_block_read\",\"state\":\"D\""
expect_rc 0 "status --kernel (plain)" $PG status --kernel
check "plain status: tid N (cat) sleeping in pgvm_block_read" contains /tmp/last "straggler: tid $helper (cat) sleeping in pgvm_block_read"
check "apply names the straggler" contains /tmp/apply.out "\"tid\":$helper,\"comm\":\"cat\""
echo 1 >/proc/pgvm_block
wait $helper
check "helper woke with the old code's answer" test "$(cat /tmp/helper.out)" = woken
wait $apply
rc=$?
cat /tmp/apply.out
check "apply completes once the helper wakes (exit $rc)" test $rc = 0
check "apply record" sh -c "grep -F '\"type\":\"apply\"' /tmp/apply.out | grep -qF '\"kind\":\"klp\",\"patch\":\"pgvm_blocking\"'"
check "transition over" test "$(cat /sys/kernel/livepatch/pgvm_blocking/transition)" = 0
check "new code answers" test "$(cat /proc/pgvm_block)" = patched
expect_rc 0 "revert blocking" $PG revert --klp pgvm_blocking
rmmod pgvm_helper || fail "rmmod pgvm_helper"
verdict "transition waited for tid $helper"
