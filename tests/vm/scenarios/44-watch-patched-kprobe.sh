# watch --kernel on a function that is already livepatched uses kprobes
# (a trampoline there is not safe on this kernel), counts exactly, and the
# patch still reverts cleanly afterwards.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
expect_rc 0 "apply good" $PG apply --klp $M/pgvm_good.ko --no-gate
watch_start /tmp/w.json cmdline_proc_show
repeat 20 cat /proc/cmdline
watch_stop
cat /tmp/w.json
check "kprobe chosen" contains /tmp/w.json '"probe":"kprobe"'
check "says why" contains /tmp/w.json 'livepatched by pgvm_good'
c=$(summary_field /tmp/w.json cmdline_proc_show calls)
check "20 calls (got $c)" test "$c" = 20
check "still the patched output" test "$(cat /proc/cmdline)" = "pgvm_good patched"
expect_rc 0 "revert good" $PG revert --klp pgvm_good
check "module unloaded" sh -c '! grep -q "^pgvm_good " /proc/modules'
check "no kernel warning" sh -c '! dmesg | grep -q "WARNING:"'
verdict "calls=$c"
