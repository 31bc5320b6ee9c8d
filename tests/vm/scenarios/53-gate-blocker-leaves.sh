# gate, a blocker that leaves: the baseline of pgvm_block_read comes from a
# reader loop woken by a writer loop; at WAIT_WINDOW both stop and a cat
# goes to sleep in pgvm_block_read.  The gate waits, naming that task in
# its -j "blockers" record; once it is woken the window clears, the patch
# goes in, and with readers back (the new code answers at once) it is
# COMMITTED.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
SD=/tmp/gate53
insmod $M/pgvm_helper.ko || fail "insmod pgvm_helper"
rm -f /tmp/stop53 /tmp/stopped53
(while [ ! -e /tmp/stop53 ]; do echo 1 >/proc/pgvm_block; done) &
writer=$!
(while [ ! -e /tmp/stop53 ]; do cat /proc/pgvm_block >/dev/null; done; touch /tmp/stopped53) &
reader=$!
$PG apply --klp $M/pgvm_blocking.ko -j --state-dir $SD \
	--set min_samples=100 --set max_wait=60s --set dwell=2s --set bake=6s --set hang_timeout=5s \
	>/tmp/g53.out 2>&1 &
gate=$!
check "baseline done" wait_for 60 grep -qs '"to":"WAIT_WINDOW"' /tmp/g53.out
# stop the loops: the writer first, then wake the reader's last cat
touch /tmp/stop53
wait $writer
while [ ! -e /tmp/stopped53 ]; do echo 1 >/proc/pgvm_block; sleep 0.1; done
wait $reader
# the blocker: within dwell (2 s) of the loads stopping
cat /proc/pgvm_block >/tmp/helper.out &
blk=$!
check "blocker (tid $blk) sleeps in pgvm_block_read" wait_for 10 grep -q pgvm_block_read /proc/$blk/stack
check "gate names the blocker (tid $blk)" wait_for 10 grep -q "\"tid\":$blk," /tmp/g53.out
sleep 2
check "gate still waits while the blocker sleeps" sh -c '! grep -q "\"to\":\"APPLYING\"" /tmp/g53.out'
check "nothing loaded meanwhile" sh -c '! grep -q "^pgvm_blocking " /proc/modules'
echo 1 >/proc/pgvm_block
wait $blk
echo "blocker exited $?: $(cat /tmp/helper.out)"
check "blocker woke with the old code's answer" test "$(cat /tmp/helper.out)" = woken
check "patch applied once the blocker left" wait_for 30 grep -q '"to":"BAKE"' /tmp/g53.out
(while :; do timeout 5 cat /proc/pgvm_block >/dev/null; done) &
reader=$!
wait $gate
rc=$?
kill -9 $reader
cat /tmp/g53.out
check "gated apply commits (exit $rc)" test $rc = 0
check "audit: final phase COMMITTED" test "$(json_field $SD/audit.log decision to)" = COMMITTED
check "module stays loaded" loaded pgvm_blocking
check "userspace sees the new code" test "$(timeout 5 cat /proc/pgvm_block)" = patched
expect_rc 0 "revert pgvm_blocking" $PG revert --klp pgvm_blocking
rmmod pgvm_helper || fail "rmmod pgvm_helper"
w=$(grep '"to":"WAIT_WINDOW"' $SD/audit.log | sed -n 's/.*"elapsed_s":\([0-9]*\.\{0,1\}[0-9]\{0,1\}\).*/\1/p')
a=$(grep '"to":"APPLYING"' $SD/audit.log | sed -n 's/.*"elapsed_s":\([0-9]*\.\{0,1\}[0-9]\{0,1\}\).*/\1/p')
verdict "waited ${w}s -> ${a}s for tid $blk"
