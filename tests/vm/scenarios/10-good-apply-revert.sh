# good: applies, the transition completes, /proc/cmdline changes; revert
# restores it and unloads the module.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
orig=$(cat /proc/cmdline)
before=$(kernel_state)
expect_rc 0 "apply good" $PG apply --klp $M/pgvm_good.ko --no-gate -j
check "apply record names the patch" sh -c "grep -F '\"type\":\"apply\"' /tmp/last | grep -qF '\"kind\":\"klp\",\"patch\":\"pgvm_good\"'"
check "applied record lists cmdline_proc_show" contains /tmp/last '"func":"cmdline_proc_show","sympos":0'
check "module loaded" loaded pgvm_good
check "transition is over" test "$(cat /sys/kernel/livepatch/pgvm_good/transition)" = 0
check "userspace sees the new /proc/cmdline" test "$(cat /proc/cmdline)" = "pgvm_good patched"
expect_rc 0 "status --kernel" $PG status --kernel -j
check "status: enabled, no transition" contains /tmp/last '"patch":"pgvm_good","enabled":true,"transition":false'
check "status lists vmlinux:cmdline_proc_show" contains /tmp/last '{"object":"vmlinux","func":"cmdline_proc_show","sympos":1}'
expect_rc 0 "revert good" $PG revert --klp pgvm_good -j
check "reverted record" sh -c "grep -F '\"type\":\"revert\"' /tmp/last | grep -qF '\"kind\":\"klp\",\"patch\":\"pgvm_good\",\"state\":\"reverted\"'"
check "module unloaded" sh -c '! grep -q "^pgvm_good " /proc/modules'
check "sysfs entry gone" test ! -e /sys/kernel/livepatch/pgvm_good
check "/proc/cmdline restored" test "$(cat /proc/cmdline)" = "$orig"
check "kernel state as before" test "$(kernel_state)" = "$before"
expect_rc 1 "revert of a patch no longer loaded" $PG revert --klp pgvm_good
verdict "applied, reverted, kernel as before"
