# Every bad input: exit 1, a clear message, and the kernel unchanged.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
orig=$(cat /proc/cmdline)
before=$(kernel_state)
bad() {	# bad DESC MESSAGE-FRAGMENT MODULE
	expect_rc 1 "$1" $PG apply --klp "$3" --no-gate
	check "$1: says '$2'" contains /tmp/last "$2"
	check "$1: kernel unchanged" test "$(kernel_state)" = "$before"
}
bad "not a livepatch" "not a livepatch module" $M/pgvm_plain.ko
bad "vermagic mismatch" "vermagic mismatch" $M/pgvm_badmagic.ko
bad "function missing from kallsyms" "no function pgvm_no_such_function in vmlinux" $M/pgvm_nosym.ko
bad "missing file" "no-such.ko: No such file or directory" /pg/no-such.ko
bad "not an ELF file" "not a kernel module" /pg/lib.sh
expect_rc 1 "json error" $PG apply --klp $M/pgvm_plain.ko --no-gate -j
check "json error record with exit 1" contains /tmp/last '"type":"error"'
check "json error exit field" contains /tmp/last '"exit":1'
# already loaded: the second apply must refuse and leave the first in place
expect_rc 0 "apply good once" $PG apply --klp $M/pgvm_good.ko --no-gate
during=$(kernel_state)
expect_rc 1 "apply good twice" $PG apply --klp $M/pgvm_good.ko --no-gate
check "already loaded: says so" contains /tmp/last "already loaded"
check "already loaded: kernel unchanged" test "$(kernel_state)" = "$during"
check "already loaded: still patched" test "$(cat /proc/cmdline)" = "pgvm_good patched"
expect_rc 0 "revert good" $PG revert --klp pgvm_good
check "restored" test "$(cat /proc/cmdline)" = "$orig"
check "kernel state as at start" test "$(kernel_state)" = "$before"
verdict "every bad input refused, kernel unchanged"
