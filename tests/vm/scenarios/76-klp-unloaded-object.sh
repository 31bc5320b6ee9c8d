# hazard: a livepatch of a function in a module that is not loaded applies
# with --no-gate, but the gated apply exited 1 right after the warning that
# this is fine.  The gate must observe what it can (nothing yet), apply,
# say so in the audit; the kernel patches the module when it loads.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
t0=$(date +%s)
SD=/tmp/gate76
before=$(kernel_state)
check "pgvm_helper is not loaded" sh -c '! grep -q "^pgvm_helper " /proc/modules'
expect_rc 0 "gated apply of pgvm_blocking (its object pgvm_helper not loaded) commits" \
	$PG apply --klp $M/pgvm_blocking.ko -j --state-dir $SD \
	--set max_wait=5s --set dwell=0.2s --set bake=2s --set hang_timeout=1s
check "audit: final phase COMMITTED" test "$(json_field $SD/audit.log decision to)" = COMMITTED
check "audit: says pgvm_helper is not loaded" grep -q 'pgvm_helper is not loaded' $SD/audit.log
insmod $M/pgvm_helper.ko || fail "insmod pgvm_helper"
# unpatched, the read sleeps until woken: bounded
check "the module is patched as it loads" test "$(timeout 5 cat /proc/pgvm_block)" = patched
expect_rc 0 "revert pgvm_blocking" $PG revert --klp pgvm_blocking
rmmod pgvm_helper || fail "rmmod pgvm_helper"
check "kernel state as before" test "$(kernel_state)" = "$before"
verdict "patch for a module not loaded yet gated and applied in $(( $(date +%s) - t0 ))s"
