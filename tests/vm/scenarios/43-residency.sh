# residency --kernel: finds the helper asleep in pgvm_block_read and
# nothing else; kthreads are flagged; bad names are refused.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
insmod $M/pgvm_helper.ko || fail "insmod pgvm_helper"
cat /proc/pgvm_block >/dev/null &
helper=$!
wait_for 10 grep -q pgvm_block_read /proc/$helper/stack || fail "helper never slept"
expect_rc 0 "residency of pgvm_block_read" $PG residency --kernel -j pgvm_helper:pgvm_block_read
check "exactly one task" test "$(grep -c '"type":"resident"' /tmp/last)" = 1
check "it is the helper, asleep (D), not a kthread" contains /tmp/last "\"pid\":$helper,\"tid\":$helper,\"comm\":\"cat\",\"func\":\"pgvm_block_read\",\"state\":\"D\",\"kthread\":false,\"best_effort\":false"
check "summary count 1" test "$(json_field /tmp/last residency_summary count)" = 1
expect_rc 0 "residency, plain" $PG residency --kernel pgvm_block_read
check "plain row names the helper" grep -q "^ *$helper *$helper cat *pgvm_block_read" /tmp/last
expect_rc 0 "residency of a function nobody is in" $PG residency --kernel -j cmdline_proc_show
check "nobody in cmdline_proc_show" contains /tmp/last '"count":0'
expect_rc 0 "residency of kthreadd" $PG residency --kernel -j kthreadd
check "kthreadd is a kthread" contains /tmp/last '"comm":"kthreadd","func":"kthreadd","state":"S","kthread":true'
expect_rc 1 "no such function" $PG residency --kernel pgvm_no_such_function
check "says no function" contains /tmp/last "no function pgvm_no_such_function"
echo 1 >/proc/pgvm_block
wait $helper
expect_rc 0 "after the wake" $PG residency --kernel -j pgvm_block_read
check "nobody left" contains /tmp/last '"count":0'
rmmod pgvm_helper || fail "rmmod pgvm_helper"
verdict "tid $helper resident in pgvm_block_read"
