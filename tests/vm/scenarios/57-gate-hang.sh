# gate, a patch whose calls hang (10 s each): in-flight stays above the
# baseline's and no call returns for hang_timeout (3 s), so the gate
# REVERTS (exit 2), naming the stuck task; the reverse transition ends when
# the sleeper leaves, the module is unloaded, /proc/cmdline is as before.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
SD=/tmp/gate57
orig=$(cat /proc/cmdline)
before=$(kernel_state)
rm -f /tmp/stop57
# two loaders: hung, they hold in-flight above what the baseline saw
for _ in 1 2; do (while [ ! -e /tmp/stop57 ]; do cat /proc/cmdline >/dev/null; done) & done
$PG apply --klp $M/pgvm_hang.ko -j --state-dir $SD \
	--set min_samples=100 --set max_wait=60s --set dwell=0.5s --set bake=15s \
	--set hang_timeout=3s >/tmp/g57.out 2>&1 &
gate=$!
check "patch applied" wait_for 60 grep -qs '"to":"BAKE"' /tmp/g57.out
check "reverting" wait_for 30 grep -q '"to":"REVERTING"' /tmp/g57.out
touch /tmp/stop57
wait $gate
rc=$?
cat /tmp/g57.out
check "gated apply: reverted (exit $rc, want 2)" test $rc = 2
check "audit: final phase REVERTED" test "$(json_field $SD/audit.log decision to)" = REVERTED
check "audit: reverted as hung" grep -q '"to":"REVERTING","reason":"hung"' $SD/audit.log
stuck() { grep '"what":"stuck in the patched code"' /tmp/g57.out | grep -q '"comm":"cat","func":"pgvm_cmdline_proc_show_hang"'; }
check "-j output names the stuck cat" stuck
check "module unloaded" sh -c '! grep -q "^pgvm_hang " /proc/modules'
check "/proc/cmdline as before" test "$(cat /proc/cmdline)" = "$orig"
check "kernel state as before" test "$(kernel_state)" = "$before"
verdict "$(grep '"to":"REVERTING"' $SD/audit.log | sed -n 's/.*"detail":"\([^"]*\)".*/\1/p')"
