# fentry cannot attach to a module function without BTF: watch falls back
# to kprobe/kretprobe at run time and says so.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
insmod $M/pgvm_helper.ko || fail "insmod pgvm_helper"
watch_start /tmp/w.json pgvm_helper:pgvm_block_read
i=0
while [ $i -lt 3 ]; do
	dd if=/proc/pgvm_block of=/tmp/dd.out bs=64 count=1 2>/dev/null &
	dd=$!
	wait_for 10 grep -q pgvm_block_read /proc/$dd/stack || fail "dd never slept"
	echo 1 >/proc/pgvm_block
	wait $dd
	i=$((i + 1))
done
watch_stop
cat /tmp/w.json
check "attached with kprobe" contains /tmp/w.json '"probe":"kprobe"'
check "warned about the fallback" contains /tmp/w.json '"type":"warning"'
c=$(summary_field /tmp/w.json pgvm_block_read calls)
check "3 calls (got $c)" test "$c" = 3
p50=$(summary_field /tmp/w.json pgvm_block_read p50_ns)
check "latency covers the sleep (p50 $p50 ns > 1 ms)" test "$p50" -gt 1000000
rmmod pgvm_helper || fail "rmmod pgvm_helper"
verdict "calls=$c p50=${p50}ns"
