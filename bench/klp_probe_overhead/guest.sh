# shellcheck shell=dash
# Kernel probe benchmark, guest side (busybox sh; run by the VM rig's init
# after the scenarios).  Prints "PGVM BENCH <csv row>" lines.
PG=/bin/patchgate
B=/pg/bench
FN=__x64_sys_getppid
CALLS=${CALLS:-100000}
ROUNDS=${ROUNDS:-7}

# The host is shared and TCG runs on wall time: a round that the host
# descheduled is slower, never faster, so each mode's best round is its cost.
best() { sort -n | head -n1; }

# one MODE -> ns per call of $CALLS getppid()s with MODE attached
one() {
	tp=
	: >/tmp/b.out
	case $1 in
	none) ;;
	fentry-empty) $PG watch --kernel --empty-probes -j -i 100 $FN >/tmp/b.out 2>&1 & tp=$! ;;
	fentry-pg) $PG watch --kernel -j -i 100 $FN >/tmp/b.out 2>&1 & tp=$! ;;
	kprobe-empty) PATCHGATE_KPROBE=1 $PG watch --kernel --empty-probes -j -i 100 $FN >/tmp/b.out 2>&1 & tp=$! ;;
	kprobe-pg) PATCHGATE_KPROBE=1 $PG watch --kernel -j -i 100 $FN >/tmp/b.out 2>&1 & tp=$! ;;
	esac
	if [ -n "$tp" ]; then
		n=0
		until grep -q attached /tmp/b.out; do sleep 0.1; n=$((n + 1)); [ $n -gt 300 ] && break; done
	fi
	$B/loop "$CALLS"
	[ -n "$tp" ] && { kill -INT $tp; wait $tp; }
}

echo "PGVM BENCH probe,function,mode,ns_per_call,overhead_ns,ratio_to_empty,calls,rounds"
for m in none fentry-empty fentry-pg kprobe-empty kprobe-pg; do
	: >/tmp/r.$m
done
r=0
while [ $r -lt "$ROUNDS" ]; do	# interleaved, so drift hits every mode alike
	for m in none fentry-empty fentry-pg kprobe-empty kprobe-pg; do
		one $m >>/tmp/r.$m
	done
	r=$((r + 1))
done
base=$(best </tmp/r.none)
for p in fentry kprobe; do
	e=$(best </tmp/r.$p-empty)
	g=$(best </tmp/r.$p-pg)
	eo=$(awk "BEGIN{printf \"%.1f\", $e - $base}")
	go=$(awk "BEGIN{printf \"%.1f\", $g - $base}")
	ratio=$(awk "BEGIN{printf \"%.2f\", (($e - $base) > 0 ? ($g - $base) / ($e - $base) : 0)}")
	echo "PGVM BENCH probe,$FN,$p-empty,$e,$eo,1.00,$CALLS,$ROUNDS"
	echo "PGVM BENCH probe,$FN,$p-patchgate,$g,$go,$ratio,$CALLS,$ROUNDS"
done
echo "PGVM BENCH probe,$FN,none,$base,0,,$CALLS,$ROUNDS"

# residency scan: time of one iter/task walk, with the idle guest and with
# 1000 more sleeping tasks
echo "PGVM BENCH resid,tasks,scan_ms,ms_per_1000_tasks"
scan() {
	for i in 1 2 3 4 5; do
		$PG residency --kernel --verbose hrtimer_nanosleep 2>&1 | sed -n 's/.* \([0-9]*\) task(s) walked in \([0-9.]*\) ms.*/\1 \2/p'
	done | sort -k2 -n | head -n1
}
# resid: one "TASKS MS" row of scan, printed as a PGVM BENCH line
resid() {
	row=$(scan)
	tasks=${row% *} ms=${row#* }
	echo "PGVM BENCH resid,$tasks,$ms,$(awk "BEGIN{printf \"%.3f\", $ms * 1000 / $tasks}")"
}
resid
i=0
while [ $i -lt 1000 ]; do sleep 600 & i=$((i + 1)); done
sleep 2
resid
for p in $(jobs -p); do kill "$p"; done 2>/dev/null
