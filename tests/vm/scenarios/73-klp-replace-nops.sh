# hazard: a cumulative (replace=1) patch over another was refused after
# loading: the kernel adds nop functions for what it replaces, and the
# check that sysfs lists the file's functions counted them ("Message too
# long").  pgvm_cum2 replaces pgvm_cum1 and drops its version_proc_show
# change (gated: 74-klp-replace-revert-restores).
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
t0=$(date +%s)
orig_version=$(cat /proc/version)
before=$(kernel_state)
expect_rc 0 "apply pgvm_cum1" $PG apply --klp $M/pgvm_cum1.ko --no-gate
expect_rc 0 "apply pgvm_cum2 over it (replace)" $PG apply --klp $M/pgvm_cum2.ko --no-gate -j
check "apply record: replace" contains /tmp/last '"replace":true'
check "/proc/cmdline is cum2's" test "$(cat /proc/cmdline)" = "pgvm_cum2 cmdline"
check "/proc/version is the kernel's again" test "$(cat /proc/version)" = "$orig_version"
check "pgvm_cum1 replaced" test ! -e /sys/kernel/livepatch/pgvm_cum1
expect_rc 0 "revert pgvm_cum2" $PG revert --klp pgvm_cum2
rmmod pgvm_cum1 || fail "rmmod pgvm_cum1 (disabled by the replace)"
check "kernel state as before" test "$(kernel_state)" = "$before"
verdict "cumulative patch applied over another in $(( $(date +%s) - t0 ))s"
