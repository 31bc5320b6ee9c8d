# hazard: `apply --klp MOD.ko key=value ...` did not pass the parameters to
# the module as insmod does.  They must reach it, ungated and gated, and a
# parameter that is not key=value is bad input (exit 1, nothing loaded).
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
t0=$(date +%s)
SD=/tmp/gate75
orig=$(cat /proc/cmdline)
before=$(kernel_state)
expect_rc 0 "apply with parameters" $PG apply --klp $M/pgvm_param.ko "msg=two words" count=7 --no-gate -j
check "/proc/cmdline shows them (a value with a blank whole)" test "$(cat /proc/cmdline)" = "pgvm_param two words 7"
check "sysfs shows msg" test "$(cat /sys/module/pgvm_param/parameters/msg)" = "two words"
expect_rc 0 "revert pgvm_param" $PG revert --klp pgvm_param
expect_rc 1 "a parameter with no key" $PG apply --klp $M/pgvm_param.ko =x --no-gate
expect_rc 1 "a parameter with no value" $PG apply --klp $M/pgvm_param.ko count --no-gate
expect_rc 1 "a key with a bad character" $PG apply --klp $M/pgvm_param.ko 'co/nt=1' --no-gate
check "nothing loaded" test "$(kernel_state)" = "$before"
expect_rc 0 "gated apply with parameters commits" $PG apply --klp $M/pgvm_param.ko msg=gated count=3 -j \
	--state-dir $SD --set max_wait=2s --set dwell=0.2s --set bake=2s --set hang_timeout=1s --set on_inconclusive=hold
check "/proc/cmdline shows them" test "$(cat /proc/cmdline)" = "pgvm_param gated 3"
expect_rc 0 "revert pgvm_param" $PG revert --klp pgvm_param
check "/proc/cmdline restored" test "$(cat /proc/cmdline)" = "$orig"
check "kernel state as before" test "$(kernel_state)" = "$before"
verdict "parameters passed, bad ones refused in $(( $(date +%s) - t0 ))s"
