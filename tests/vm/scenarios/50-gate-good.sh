# gate, good patch: baseline under load, clear window, apply, bake,
# COMMITTED (exit 0); the patch stays in and userspace sees it.  Latency
# limits are wide: in a TCG guest on a shared host, the guest's clock also
# times the host's load (p50 x1.17 seen between baseline and bake for a
# patch that does the same work); the slow patch is x100+.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
SD=/tmp/gate50
orig=$(cat /proc/cmdline)
before=$(kernel_state)
(while :; do cat /proc/cmdline >/dev/null; done) &
load=$!
t0=$(date +%s)
expect_rc 0 "gated apply of pgvm_good commits" $PG apply --klp $M/pgvm_good.ko -j --state-dir $SD \
	--set min_samples=100 --set max_wait=60s --set dwell=0.5s --set bake=6s --set hang_timeout=5s \
	--set p50_ratio_max=3 --set p99_ratio_max=3
t1=$(date +%s)
kill $load; wait $load 2>/dev/null
check "audit: final phase COMMITTED" test "$(json_field $SD/audit.log decision to)" = COMMITTED
check "audit: went through BAKE" grep -q '"to":"BAKE"' $SD/audit.log
check "module stays loaded" loaded pgvm_good
expect_rc 0 "status --kernel" $PG status --kernel -j --state-dir $SD
check "status --kernel shows the gate's phase" sh -c "grep -F '\"type\":\"gate\"' /tmp/last | grep -qF '\"kind\":\"klp\",\"patch\":\"/pg/modules/pgvm_good.ko\",\"phase\":\"COMMITTED\"'"
check "status --kernel shows the patch" sh -c "grep -F '\"type\":\"patch\"' /tmp/last | grep -qF '\"kind\":\"klp\",\"patch\":\"pgvm_good\",\"enabled\":true'"
expect_rc 0 "status --kernel (plain)" $PG status --kernel --state-dir $SD
check "plain status --kernel: the gate's phase" contains /tmp/last "the kernel: gate for /pg/modules/pgvm_good.ko: phase COMMITTED"
check "patch enabled" test "$(cat /sys/kernel/livepatch/pgvm_good/enabled)" = 1
check "userspace sees the new /proc/cmdline" test "$(cat /proc/cmdline)" = "pgvm_good patched"
expect_rc 0 "revert pgvm_good" $PG revert --klp pgvm_good
check "/proc/cmdline restored" test "$(cat /proc/cmdline)" = "$orig"
check "kernel state as before" test "$(kernel_state)" = "$before"
verdict "committed in $((t1 - t0))s"
