# The exec tracepoint program (bpf/execwatch.bpf.c, tp_btf/sched_process_exec)
# that rollouts use to see processes that start during them: doctor loads
# it, execs a test process and must see that exec.  20 times, while a
# busybox loop execs as fast as it can, so that the program runs often and
# its ring buffer is drained under load; the rig fails the scenario on any
# WARNING or Oops on the console.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
( while :; do /bin/busybox true; done ) &
storm=$!
ok=0
for _ in $(seq 1 20); do
	$PG doctor -j >/tmp/xw.json 2>&1
	grep '"check":"exec_watch"' /tmp/xw.json | grep -q '"ok":true' && ok=$((ok + 1))
done
kill $storm
wait $storm 2>/dev/null
grep '"check":"exec_watch"' /tmp/xw.json
check "doctor: exec_watch saw its test exec 20 times of 20 (got $ok)" test "$ok" = 20
verdict "exec_watch ok $ok/20"
