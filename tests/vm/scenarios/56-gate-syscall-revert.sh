# hazard: a gated revert of a getpid livepatch while getpid ran under load
# made Debian's 6.1 warn in rethook_find_ret_addr and, in one run of two,
# oops: the gate had fallen back to a kretprobe on __x64_sys_getpid (no
# BTF), which sat on task stacks through the transition.  A kernel gate now
# times with fentry only: the syscall wrapper is not probed, its stacks are
# still scanned.  pgvm_syscall (getpid, and cmdline_proc_show 2 ms slower)
# is gated and reverted on the regression PGVM_SYSCALL_ROUNDS times (20 in
# make check, 100 in make check-vm-syscall) while two loaders call getpid
# (pausing PGVM_SYSCALL_PAUSE_US every 1000 calls: 1 ms in make check, none
# in make check-vm-syscall) and one reads /proc/cmdline; the rig fails the scenario on any kernel
# WARNING, BUG, Oops or soft lockup in dmesg.  (The rig runs QEMU with one
# thread for both vCPUs: with a thread each, a plain insmod of this patch
# under these loaders, without patchgate, wedged the guest; tests/vm/run.sh.)
# pgvm-timeout: 900
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
SD=/tmp/gate56
N=${PGVM_SYSCALL_ROUNDS:-20}
GATE="--set min_samples=100 --set max_wait=60s --set dwell=0.5s --set bake=15s --set hang_timeout=5s"
orig=$(cat /proc/cmdline)
before=$(kernel_state)
t0=$(date +%s)
rm -f /tmp/stop56
pgvm-getpid 1000 "${PGVM_SYSCALL_PAUSE_US:-1000}" &
l1=$!
pgvm-getpid 1000 "${PGVM_SYSCALL_PAUSE_US:-1000}" &
l2=$!
# builtins only (no fork per call): the baseline fills in a few seconds
(while [ ! -e /tmp/stop56 ]; do read -r _ </proc/cmdline; done) &
l3=$!
# the first round through expect_rc: its JSON is checked against the schema
# shellcheck disable=SC2086
expect_rc 2 "round 1: gated pgvm_syscall reverted on the regression" \
	$PG apply --klp $M/pgvm_syscall.ko -j --state-dir $SD $GATE
check "the gate says getpid is not timed" contains /tmp/last '__x64_sys_getpid is not timed'
check "STARTED's detail says so" contains $SD/audit.log '__x64_sys_getpid not timed'
check "audit: REVERTING on a latency regression" \
	sh -c "grep '\"to\":\"REVERTING\"' $SD/audit.log | grep -q '\"verdict\":\"regressed\"'"
reverted=1
i=1
while [ $i -lt "$N" ]; do
	i=$((i + 1))
	# shellcheck disable=SC2086
	$PG apply --klp $M/pgvm_syscall.ko -j --state-dir $SD $GATE >/tmp/g56.out 2>&1
	rc=$?
	if [ $rc != 2 ] || loaded pgvm_syscall || [ "$(cat /proc/cmdline)" != "$orig" ]; then
		cat /tmp/g56.out
		fail "round $i: exit $rc (want 2), or the module is still loaded, or /proc/cmdline changed"
		break
	fi
	reverted=$((reverted + 1))
done
t1=$(date +%s)
check "the getpid loaders lived through every transition" kill -0 $l1 $l2
touch /tmp/stop56
kill $l1 $l2
wait $l1 $l2 $l3 2>/dev/null
check "$reverted of $N gated reverts under getpid load" test $reverted = "$N"
check "module unloaded" sh -c '! grep -q "^pgvm_syscall " /proc/modules'
check "/proc/cmdline as before" test "$(cat /proc/cmdline)" = "$orig"
check "kernel state as before" test "$(kernel_state)" = "$before"
check "no kernel WARNING" sh -c '! dmesg | grep -q -e "WARNING:" -e "BUG:" -e "Oops"'
verdict "$reverted gated reverts of a getpid livepatch under load in $((t1 - t0))s"
