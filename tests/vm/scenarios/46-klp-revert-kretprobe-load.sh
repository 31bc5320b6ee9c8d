# pgvm-timeout: 420
# A gated livepatch of a syscall (getpid) under load, observed with the
# kprobe fallback (forced, as for a function that is already livepatched),
# and reverted in its bake (operator abort), 20 times.  A return probe left
# on the stacks the livepatch transition walks made 6.1 warn in
# rethook_find_ret_addr and then oops; the gate now takes its kprobes off
# for each transition.  Every run must revert cleanly, and the kernel must
# log no WARNING, BUG or Oops (init fails the scenario on any).
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
SD=/tmp/gate46
RUNS=${PGVM_KRP_RUNS:-20}
before=$(kernel_state)
for _ in 1 2; do /pg/bin/getpid-load & done
ok=0
i=0
while [ $i -lt "$RUNS" ]; do
	i=$((i + 1))
	PATCHGATE_KPROBE=1 $PG apply --klp $M/pgvm_getpid.ko -j --state-dir $SD \
		--set min_samples=200 --set max_wait=60s --set dwell=0.2s --set bake=120s \
		>/tmp/g46.$i 2>&1 &
	gate=$!
	if ! wait_for 60 grep -qs '"to":"BAKE"' /tmp/g46.$i; then
		cat /tmp/g46.$i
		fail "run $i: never reached BAKE"
		kill $gate
		wait $gate
		break
	fi
	sleep 1	# calls in the bake, through the probes put back after the transition
	$PG abort pgvm_getpid --state-dir $SD >/tmp/a46 2>&1
	wait $gate
	rc=$?
	if [ $rc != 6 ] || loaded pgvm_getpid || [ -e /sys/kernel/livepatch/pgvm_getpid ]; then
		cat /tmp/g46.$i /tmp/a46
		fail "run $i: exit $rc (want 6), module $(loaded pgvm_getpid && echo loaded || echo gone)"
		break
	fi
	ok=$((ok + 1))
done
check "$ok of $RUNS gated reverts under load completed" test "$ok" = "$RUNS"
check "probed with kprobes" grep -q 'using kprobe/kretprobe' /tmp/g46.1
check "the probes were off for the transition" grep -q 'kprobes detached for the transition' /tmp/g46.1
check "and for the reverse transition" grep -q 'kprobes detached for the reverse transition' /tmp/g46.1
check "the bake saw calls again after the transition" sh -c "grep '\"to\":\"REVERTING\"' $SD/audit.log | head -n1 | grep -q '\"n_post\":[1-9]'"
check "kernel state as before" test "$(kernel_state)" = "$before"
verdict "$ok/$RUNS reverted under getpid load with kprobes"
