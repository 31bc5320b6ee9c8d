# hazard: a gated revert of a replace patch whose transition completed left
# no patch in effect (the kernel disables a replaced patch for good) and
# reported REVERTED.  The gate must bring the replaced patch back from its
# file (--previous FILE, or the file patchgate loaded it from), or refuse to
# gate when it cannot.
# pgvm-timeout: 300
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
t0=$(date +%s)
SD=/tmp/gate74
orig=$(cat /proc/cmdline)
GATE="--set max_wait=2s --set dwell=0.2s --set bake=2s --set hang_timeout=1s --set min_samples=100000"
insmod $M/pgvm_cum1.ko || fail "insmod pgvm_cum1"
check "pgvm_cum1's transition is over" wait_for 20 transition_is pgvm_cum1 0
before=$(kernel_state)
# shellcheck disable=SC2086
expect_rc 1 "gate refuses a replace patch whose predecessor it cannot restore" \
	$PG apply --klp $M/pgvm_cum2.ko -j --state-dir $SD $GATE
check "the refusal names --previous" contains /tmp/last '--previous'
# shellcheck disable=SC2086
expect_rc 1 "gate refuses a --previous that is another patch" \
	$PG apply --klp $M/pgvm_cum2.ko --previous $M/pgvm_good.ko -j --state-dir $SD $GATE
check "the refusal says why" contains /tmp/last 'it is patch pgvm_good, not pgvm_cum1'
check "nothing changed" test "$(kernel_state)" = "$before"
check "/proc/cmdline still cum1's" test "$(cat /proc/cmdline)" = "pgvm_cum1 cmdline"
# the same patch applied by patchgate, which records the file it loaded it from
expect_rc 0 "revert pgvm_cum1" $PG revert --klp pgvm_cum1
expect_rc 0 "apply pgvm_cum1" $PG apply --klp $M/pgvm_cum1.ko --no-gate --state-dir $SD
check "patchgate recorded pgvm_cum1's file" test "$(head -n1 $SD/klp-pgvm_cum1.module)" = $M/pgvm_cum1.ko
before=$(kernel_state)
# cmdline_proc_show is cum1's, so the gate cannot time it (no fentry on a
# patched function) and only scans its stacks: the revert comes from an
# operator's abort in the bake
# shellcheck disable=SC2086
$PG apply --klp $M/pgvm_cum2.ko -j --state-dir $SD $GATE --set bake=120s >/tmp/g74.out 2>&1 &
gate=$!
check "gated pgvm_cum2 reached BAKE" wait_for 60 grep -qs '"to":"BAKE"' /tmp/g74.out
check "the gate says cmdline_proc_show is not timed" contains /tmp/g74.out 'cmdline_proc_show is not timed'
check "top --once shows the kernel gate in BAKE" \
	sh -c "patchgate top --once --state-dir $SD | grep pgvm_cum2 | grep -q BAKE"
expect_rc 0 "operator abort in the bake" $PG abort pgvm_cum2 --state-dir $SD -j
wait $gate
rc=$?
cat /tmp/g74.out
check "gated pgvm_cum2 (no --previous) ends aborted by the operator (exit $rc, want 6)" test $rc = 6
check "audit: went through BAKE" grep -q '"to":"BAKE"' $SD/audit.log
check "audit: reverted on the operator's abort" grep -q 'operator_abort' $SD/audit.log
check "audit: final phase REVERTED" test "$(json_field $SD/audit.log decision to)" = REVERTED
check "pgvm_cum1 enabled again" test "$(cat /sys/kernel/livepatch/pgvm_cum1/enabled 2>/dev/null)" = 1
check "/proc/cmdline is cum1's again" test "$(cat /proc/cmdline)" = "pgvm_cum1 cmdline"
check "/proc/version is cum1's again" test "$(cat /proc/version)" = "pgvm_cum1 version"
check "pgvm_cum2 unloaded" sh -c '! grep -q "^pgvm_cum2 " /proc/modules'
check "kernel state as before" test "$(kernel_state)" = "$before"
expect_rc 0 "revert pgvm_cum1" $PG revert --klp pgvm_cum1
check "/proc/cmdline restored" test "$(cat /proc/cmdline)" = "$orig"
verdict "the replaced patch restored from its file in $(( $(date +%s) - t0 ))s"
