# slow raises latency, erroring raises the error rate, as watch --kernel
# sees them on the patched function.  As the gate does, each watch starts
# before its patch goes in (fentry on the old symbol; the livepatch
# redirects from there, so the new code is what is timed).
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
N=30
watch_start /tmp/base.json --errors neg cmdline_proc_show
repeat $N cat /proc/cmdline
watch_stop
base=$(summary_field /tmp/base.json cmdline_proc_show p50_ns)
be=$(summary_field /tmp/base.json cmdline_proc_show errors)
check "baseline: 0 errors (got $be)" test "$be" = 0

watch_start /tmp/slow.json --errors neg cmdline_proc_show
expect_rc 0 "apply slow" $PG apply --klp $M/pgvm_slow.ko --no-gate
# the patch is in effect for a reader while watch's fentry sits on the old
# symbol (CI once timed 30 reads at 26 us, the old code's speed: was the new
# code not reached, or not timed?)
check "slow: a reader gets the patched text" wait_for 10 grep -q "pgvm_slow patched" /proc/cmdline
repeat $((N - 1)) cat /proc/cmdline
watch_stop
expect_rc 0 "revert slow" $PG revert --klp pgvm_slow
slow=$(summary_field /tmp/slow.json cmdline_proc_show p50_ns)
sc=$(summary_field /tmp/slow.json cmdline_proc_show calls)
echo "baseline p50 ${base} ns, slow p50 ${slow} ns"
check "slow: $N calls seen (got $sc)" test "$sc" -ge $N
check "slow: p50 >= 1.9 ms (got $slow ns)" test "$slow" -ge 1900000
check "slow: p50 at least 10x the baseline ($base -> $slow)" test "$slow" -ge $((base * 10))

watch_start /tmp/err.json --errors neg cmdline_proc_show
expect_rc 0 "apply erroring" $PG apply --klp $M/pgvm_erroring.ko --no-gate
# dd: exactly one read per run (cat retries a failed sendfile with read)
check "userspace sees EIO" sh -c '! dd if=/proc/cmdline of=/dev/null bs=4k count=1'
repeat $((N - 1)) dd if=/proc/cmdline of=/dev/null bs=4k count=1
watch_stop
expect_rc 0 "revert erroring" $PG revert --klp pgvm_erroring
ec=$(summary_field /tmp/err.json cmdline_proc_show errors)
er=$(summary_field /tmp/err.json cmdline_proc_show error_rate)
ecalls=$(summary_field /tmp/err.json cmdline_proc_show calls)
check "erroring: $N calls (got $ecalls)" test "$ecalls" = $N
check "erroring: $N errors (got $ec)" test "$ec" = $N
check "erroring: error rate 1 (got $er)" test "$er" = 1 -o "$er" = 1.0
check "reads succeed again" cat /proc/cmdline
verdict "p50 ${base}ns -> ${slow}ns; errors $be -> $ec/$N"
