# hazard: a livepatch with a callback-only object (its function list one
# all-zero klp_func in .bss, as the kernel's callback selftests build them)
# was refused ("no klp_patch records found").  It must apply, list the
# function of its other object, run its callbacks, and revert.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
t0=$(date +%s)
orig=$(cat /proc/cmdline)
before=$(kernel_state)
expect_rc 0 "apply pgvm_callbacks" $PG apply --klp $M/pgvm_callbacks.ko --no-gate -j
check "apply record lists only cmdline_proc_show" contains /tmp/last '"funcs":[{"object":"vmlinux","func":"cmdline_proc_show","sympos":0}]'
check "the vmlinux object's post_patch callback ran" sh -c 'dmesg | grep -q "pgvm_callbacks: post_patch vmlinux"'
check "/proc/cmdline patched" test "$(cat /proc/cmdline)" = "pgvm_callbacks patched"
expect_rc 0 "revert pgvm_callbacks" $PG revert --klp pgvm_callbacks -j
check "the post_unpatch callback ran" sh -c 'dmesg | grep -q "pgvm_callbacks: post_unpatch vmlinux"'
check "/proc/cmdline restored" test "$(cat /proc/cmdline)" = "$orig"
check "kernel state as before" test "$(kernel_state)" = "$before"
verdict "callback-only object read, applied, reverted in $(( $(date +%s) - t0 ))s"
