# gate, erroring patch (-EIO) with --errors neg: REVERTED (exit 2) on the
# error-rate rule; reads of /proc/cmdline succeed again afterwards.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
SD=/tmp/gate52
orig=$(cat /proc/cmdline)
before=$(kernel_state)
# dd: exactly one read per run (cat retries a failed sendfile with read)
(while :; do dd if=/proc/cmdline of=/dev/null bs=4k count=1 2>/dev/null; done) &
load=$!
expect_rc 2 "gated apply of pgvm_erroring is reverted" $PG apply --klp $M/pgvm_erroring.ko -j --state-dir $SD \
	--errors neg --set min_samples=100 --set max_wait=60s --set dwell=0.5s --set bake=15s --set hang_timeout=5s
kill $load; wait $load 2>/dev/null
check "audit: final phase REVERTED" test "$(json_field $SD/audit.log decision to)" = REVERTED
check "audit: the error-rate rule fired" sh -c "grep '\"to\":\"REVERTING\"' $SD/audit.log | grep -q '\"rules\":\[[^]]*err'"
check "module unloaded" sh -c '! grep -q "^pgvm_erroring " /proc/modules'
check "reads succeed again" dd if=/proc/cmdline of=/dev/null bs=4k count=1
check "/proc/cmdline as before" test "$(cat /proc/cmdline)" = "$orig"
check "kernel state as before" test "$(kernel_state)" = "$before"
verdict "$(grep '"to":"REVERTING"' $SD/audit.log | grep -o '"err_rate_post":[0-9.]*')"
