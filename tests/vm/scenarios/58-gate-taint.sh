# gate, a patch that taints the kernel (TAINT_USER) without any WARN: the
# new taint bit alone reverts it (exit 2, reason taint); status --kernel
# shows the gate's last phase.  Runs late: TAINT_USER stays.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
SD=/tmp/gate58
orig=$(cat /proc/cmdline)
warns0=$(cat /sys/kernel/warn_count 2>/dev/null || echo 0)
(while :; do cat /proc/cmdline >/dev/null; done) &
load=$!
expect_rc 2 "gated apply of pgvm_taint is reverted" $PG apply --klp $M/pgvm_taint.ko -j --state-dir $SD \
	--set min_samples=100 --set max_wait=60s --set dwell=0.5s --set bake=6s --set hang_timeout=5s \
	--set p50_ratio_max=3 --set p99_ratio_max=10
kill $load; wait $load 2>/dev/null
check "the kernel is now tainted U (bit 6)" test $(( $(cat /proc/sys/kernel/tainted) & 64 )) = 64
check "no WARN was involved" test "$(cat /sys/kernel/warn_count 2>/dev/null || echo 0)" = "$warns0"
check "audit: final phase REVERTED" test "$(json_field $SD/audit.log decision to)" = REVERTED
check "audit: reverted for the taint" sh -c "grep '\"to\":\"REVERTING\"' $SD/audit.log | grep -q '\"reason\":\"taint\"'"
check "module unloaded" sh -c '! grep -q "^pgvm_taint " /proc/modules'
check "/proc/cmdline as before" test "$(cat /proc/cmdline)" = "$orig"
expect_rc 0 "status --kernel" $PG status --kernel -j --state-dir $SD
check "status --kernel shows the gate's last phase" sh -c "grep -F '\"type\":\"gate\"' /tmp/last | grep -qF '\"kind\":\"klp\",\"patch\":\"/pg/modules/pgvm_taint.ko\",\"phase\":\"REVERTED\"'"
verdict "reverted on the taint alone"
