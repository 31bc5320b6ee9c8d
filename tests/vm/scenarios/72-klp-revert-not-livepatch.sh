# hazard: `revert --klp NAME` of a loaded module that is not a livepatch
# unloaded it and said "reverted and unloaded", exit 0.  It must refuse
# (exit 1) and leave the module loaded.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
t0=$(date +%s)
insmod $M/pgvm_helper.ko || fail "insmod pgvm_helper"
before=$(kernel_state)
expect_rc 1 "revert --klp of a module that is not a livepatch" $PG revert --klp pgvm_helper -j
check "the refusal says why" contains /tmp/last 'no livepatch named pgvm_helper in /sys/kernel/livepatch'
check "pgvm_helper still loaded" loaded pgvm_helper
check "kernel state unchanged" test "$(kernel_state)" = "$before"
expect_rc 1 "revert --klp of a module that is not a livepatch (plain)" $PG revert --klp pgvm_helper
check "pgvm_helper still loaded" loaded pgvm_helper
rmmod pgvm_helper || fail "rmmod pgvm_helper"
verdict "refused, module left loaded in $(( $(date +%s) - t0 ))s"
