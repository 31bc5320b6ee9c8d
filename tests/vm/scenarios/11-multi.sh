# multi: two functions patched at once, sysfs matches the file, both restored.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
c0=$(cat /proc/cmdline); v0=$(cat /proc/version)
expect_rc 0 "apply multi" $PG apply --klp $M/pgvm_multi.ko --no-gate -j
check "both functions listed" contains /tmp/last '"funcs":[{"object":"vmlinux","func":"cmdline_proc_show","sympos":0},{"object":"vmlinux","func":"version_proc_show","sympos":0}]'
check "sysfs has cmdline_proc_show,1" test -d /sys/kernel/livepatch/pgvm_multi/vmlinux/cmdline_proc_show,1
check "sysfs has version_proc_show,1" test -d /sys/kernel/livepatch/pgvm_multi/vmlinux/version_proc_show,1
check "/proc/cmdline patched" test "$(cat /proc/cmdline)" = "pgvm_multi cmdline"
check "/proc/version patched" test "$(cat /proc/version)" = "pgvm_multi version"
expect_rc 0 "revert multi" $PG revert --klp pgvm_multi
check "/proc/cmdline restored" test "$(cat /proc/cmdline)" = "$c0"
check "/proc/version restored" test "$(cat /proc/version)" = "$v0"
check "module unloaded" sh -c '! grep -q "^pgvm_multi " /proc/modules'
verdict "2 functions applied and reverted"
