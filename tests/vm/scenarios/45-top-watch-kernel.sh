# top --kernel FUNC (ad-hoc watch mode) with --once: top attaches the probes
# itself; -j gives the "attached" record, then after one delay a "func"
# record per function with the exact calls made meanwhile.  The plain frame
# has the watch table; bad input exits 1.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
$PG top --kernel --once -d 20 -j cmdline_proc_show version_proc_show >/tmp/tw.json 2>&1 &
tw=$!
wait_for 60 grep -q '"type":"attached"' /tmp/tw.json || fail "top never attached"
repeat 40 cat /proc/cmdline
repeat 3 cat /proc/version
wait $tw
rc=$?
cat /tmp/tw.json
check "top --kernel --once -j: exit 0 (got $rc)" test "$rc" = 0
c=$(grep '"func":"cmdline_proc_show"' /tmp/tw.json | sed -n 's/.*"calls":\([0-9]*\).*/\1/p')
v=$(grep '"func":"version_proc_show"' /tmp/tw.json | sed -n 's/.*"calls":\([0-9]*\).*/\1/p')
check "cmdline_proc_show: 40 calls (got $c)" test "$c" = 40
check "version_proc_show: 3 calls (got $v)" test "$v" = 3
check "probed with fentry" contains /tmp/tw.json '"probe":"fentry"'
expect_rc 0 "plain frame" $PG top --kernel --once -d 0.5 cmdline_proc_show
check "plain frame: the watch table" grep -Eq '^FUNCTION +PROBE +CALLS/S' /tmp/last
check "plain frame: the function's row" grep -Eq '^cmdline_proc_show +fentry' /tmp/last
expect_rc 1 "no such function" $PG top --kernel --once pgvm_no_such_function
check "says no function" contains /tmp/last "pgvm_no_such_function"
expect_rc 1 "no FUNC" $PG top --kernel --once
verdict "cmdline=$c version=$v"
