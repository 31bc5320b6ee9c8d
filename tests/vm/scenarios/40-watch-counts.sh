# watch --kernel: exact call counts for a known number of triggering
# operations, fentry/fexit by default, the same JSON fields as the process side.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
watch_start /tmp/w.json --errors neg cmdline_proc_show version_proc_show
repeat 50 cat /proc/cmdline
repeat 7 cat /proc/version
watch_stop
cat /tmp/w.json
check "watch exit 0" test "$watch_rc" = 0
check "attached with fentry" contains /tmp/w.json '"probe":"fentry"'
c=$(summary_field /tmp/w.json cmdline_proc_show calls)
check "cmdline_proc_show: 50 calls (got $c)" test "$c" = 50
v=$(summary_field /tmp/w.json version_proc_show calls)
check "version_proc_show: 7 calls (got $v)" test "$v" = 7
e=$(summary_field /tmp/w.json cmdline_proc_show errors)
check "no errors (got $e)" test "$e" = 0
for k in calls_per_s inflight inflight_max p50_ns p90_ns p99_ns max_ns error_rate probe overflow object; do
	check "summary has $k" test -n "$(summary_field /tmp/w.json cmdline_proc_show $k)"
done
p50=$(summary_field /tmp/w.json cmdline_proc_show p50_ns)
check "p50 is positive ($p50 ns)" test "$p50" -gt 0
# plain output, and errors
expect_rc 1 "no such function" $PG watch --kernel -d 1 pgvm_no_such_function
check "says no function" contains /tmp/last "no function pgvm_no_such_function in vmlinux"
verdict "cmdline=$c version=$v p50=${p50}ns"
