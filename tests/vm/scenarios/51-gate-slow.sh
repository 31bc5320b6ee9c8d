# gate, slow patch (+2 ms per call): REVERTED within the bake (exit 2),
# the module unloaded and /proc/cmdline as before.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
SD=/tmp/gate51
orig=$(cat /proc/cmdline)
before=$(kernel_state)
(while :; do cat /proc/cmdline >/dev/null; done) &
load=$!
t0=$(date +%s)
expect_rc 2 "gated apply of pgvm_slow is reverted" $PG apply --klp $M/pgvm_slow.ko -j --state-dir $SD \
	--set min_samples=100 --set max_wait=60s --set dwell=0.5s --set bake=15s --set hang_timeout=5s
t1=$(date +%s)
kill $load; wait $load 2>/dev/null
check "audit: final phase REVERTED" test "$(json_field $SD/audit.log decision to)" = REVERTED
check "audit: REVERTING on a latency regression" sh -c "grep '\"to\":\"REVERTING\"' $SD/audit.log | grep -q '\"verdict\":\"regressed\"'"
# the revert decision came before the bake was over (elapsed since BAKE < 15 s)
bake_at=$(grep '"to":"BAKE"' $SD/audit.log | sed -n 's/.*"elapsed_s":\([0-9]*\).*/\1/p')
rev_at=$(grep '"to":"REVERTING"' $SD/audit.log | sed -n 's/.*"elapsed_s":\([0-9]*\).*/\1/p')
check "reverted within the bake (BAKE at ${bake_at}s, REVERTING at ${rev_at}s)" test $((rev_at - bake_at)) -lt 15
check "module unloaded" sh -c '! grep -q "^pgvm_slow " /proc/modules'
check "/proc/cmdline as before" test "$(cat /proc/cmdline)" = "$orig"
check "kernel state as before" test "$(kernel_state)" = "$before"
verdict "reverted $((rev_at - bake_at))s into the bake, $((t1 - t0))s in all"
