# hazard: a livepatch with no function at all (a klp_state patch whose
# object has only callbacks) was refused ("no klp_patch records found").
# It must apply ungated and gated: the gate has nothing to observe, so it
# applies, waits for the transition, bakes on the kernel's health alone,
# and says so in the audit.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
t0=$(date +%s)
SD=/tmp/gate71
before=$(kernel_state)
expect_rc 0 "apply pgvm_state --no-gate" $PG apply --klp $M/pgvm_state.ko --no-gate -j
check "apply record: applied" contains /tmp/last '"patch":"pgvm_state","module":"/pg/modules/pgvm_state.ko","state":"applied"'
check "apply record: no functions" contains /tmp/last '"funcs":[]'
check "its pre_patch callback set the state up" sh -c 'dmesg | grep -q "pgvm_state: state set up"'
check "patch enabled" test "$(cat /sys/kernel/livepatch/pgvm_state/enabled)" = 1
expect_rc 0 "revert pgvm_state" $PG revert --klp pgvm_state -j
check "its post_unpatch callback tore the state down" sh -c 'dmesg | grep -q "pgvm_state: state torn down"'
check "kernel state as before" test "$(kernel_state)" = "$before"
expect_rc 0 "gated apply of pgvm_state commits" $PG apply --klp $M/pgvm_state.ko -j --state-dir $SD \
	--set max_wait=10s --set dwell=0.2s --set bake=2s --set hang_timeout=1s
check "audit: final phase COMMITTED" test "$(json_field $SD/audit.log decision to)" = COMMITTED
check "audit: went through TRANSITION" grep -q '"to":"TRANSITION"' $SD/audit.log
check "audit: says there is nothing to observe" grep -q 'nothing to observe' $SD/audit.log
check "patch enabled after the gate" test "$(cat /sys/kernel/livepatch/pgvm_state/enabled)" = 1
expect_rc 0 "revert pgvm_state" $PG revert --klp pgvm_state
check "kernel state as before" test "$(kernel_state)" = "$before"
verdict "state-only patch applied, gated and reverted in $(( $(date +%s) - t0 ))s"
