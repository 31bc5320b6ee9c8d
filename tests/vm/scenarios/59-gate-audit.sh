# gate, audit log: every line is one JSON object (checked by a small
# recursive-descent parser) of "type":"decision" with a "policy" object and
# a "functions" array.  The logs are this scenario's own, so it gives the
# same verdict alone as after the other 5x scenarios: a --dry-run
# (ABORTED/dry_run, exit 0, nothing loaded), a gate that reverts an
# erroring patch (every phase through BAKE, a non-empty "rules" array) and
# one that aborts on a blocker (a non-empty "blockers" array).  A corrupted
# line must be rejected.
# shellcheck shell=dash
# shellcheck source=../guest/lib.sh
. /pg/lib.sh
SD=/tmp/gate59
before=$(kernel_state)
(while :; do cat /proc/cmdline >/dev/null; done) &
load=$!
expect_rc 0 "gated --dry-run" $PG apply --klp $M/pgvm_good.ko --dry-run -j --state-dir $SD \
	--set min_samples=100 --set max_wait=60s --set dwell=0.5s
kill $load; wait $load 2>/dev/null
check "dry run: final phase ABORTED" test "$(json_field $SD/audit.log decision to)" = ABORTED
check "dry run: reason dry_run" test "$(json_field $SD/audit.log decision reason)" = dry_run
check "dry run: nothing loaded" test "$(kernel_state)" = "$before"
check "dry run: the baseline is in the record" sh -c "tail -n1 $SD/audit.log | grep -q '\"name\":\"cmdline_proc_show\".*\"n_base\":[1-9]'"

# reverted: the error-rate rule fires in the bake (as in 52-gate-erroring)
SDE=/tmp/gate59-erroring
# dd: exactly one read per run (cat retries a failed sendfile with read)
(while :; do dd if=/proc/cmdline of=/dev/null bs=4k count=1 2>/dev/null; done) &
load=$!
expect_rc 2 "gated apply of pgvm_erroring is reverted" $PG apply --klp $M/pgvm_erroring.ko -j --state-dir $SDE \
	--errors neg --set min_samples=100 --set max_wait=60s --set dwell=0.5s --set bake=15s --set hang_timeout=5s
kill $load; wait $load 2>/dev/null
check "erroring: final phase REVERTED" test "$(json_field $SDE/audit.log decision to)" = REVERTED
check "erroring: a record with rules" grep -q '"rules":\["' $SDE/audit.log

# aborted: a cat asleep in pgvm_block_read never leaves (as in 54-gate-blocker-stays)
SDB=/tmp/gate59-blocker
insmod $M/pgvm_helper.ko || fail "insmod pgvm_helper"
cat /proc/pgvm_block >/dev/null &
helper=$!
check "helper sleeps in pgvm_block_read" wait_for 10 grep -q pgvm_block_read "/proc/$helper/stack"
expect_rc 3 "gated apply aborts on the blocker" $PG apply --klp $M/pgvm_blocking.ko -j --state-dir $SDB \
	--set min_samples=100 --set max_wait=3s --set dwell=0.5s --set bake=10s
check "blocker: final phase ABORTED" test "$(json_field $SDB/audit.log decision to)" = ABORTED
check "blocker: a record with blockers" grep -q '"blockers":\[{' $SDB/audit.log
echo 1 >/proc/pgvm_block
wait $helper
rmmod pgvm_helper || fail "rmmod pgvm_helper"

# audit_ok FILE: every line a JSON object with type decision, policy {}, functions []
audit_ok() {
	awk '
	function ws() { while (pos <= n && index(" \t\r", substr(s, pos, 1)) > 0) pos++ }
	function str(   c) {
		pos++
		while (pos <= n) {
			c = substr(s, pos, 1)
			if (c == "\\") { pos += 2; continue }
			pos++
			if (c == "\"") return 1
		}
		return 0
	}
	function val(   c) {
		ws(); c = substr(s, pos, 1)
		if (c == "{") return obj()
		if (c == "[") return arr()
		if (c == "\"") return str()
		if (match(substr(s, pos), /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/)) { pos += RLENGTH; return 1 }
		if (substr(s, pos, 4) == "true" || substr(s, pos, 4) == "null") { pos += 4; return 1 }
		if (substr(s, pos, 5) == "false") { pos += 5; return 1 }
		return 0
	}
	function obj(   k, k0, c) {
		depth++; pos++; ws()
		if (substr(s, pos, 1) == "}") { pos++; depth--; return 1 }
		for (;;) {
			ws(); if (substr(s, pos, 1) != "\"") return 0
			k0 = pos; if (!str()) return 0
			k = substr(s, k0 + 1, pos - k0 - 2)
			ws(); if (substr(s, pos, 1) != ":") return 0
			pos++; ws()
			if (depth == 1) { top[k] = substr(s, pos, 1); if (k == "type") tv = substr(s, pos) }
			if (!val()) return 0
			ws(); c = substr(s, pos, 1); pos++
			if (c == "}") { depth--; return 1 }
			if (c != ",") return 0
		}
	}
	function arr(   c) {
		pos++; ws()
		if (substr(s, pos, 1) == "]") { pos++; return 1 }
		for (;;) {
			if (!val()) return 0
			ws(); c = substr(s, pos, 1); pos++
			if (c == "]") return 1
			if (c != ",") return 0
		}
	}
	{
		s = $0; n = length(s); pos = 1; depth = 0; tv = ""
		for (k in top) delete top[k]
		good = substr(s, 1, 1) == "{" && val() && (ws() || 1) && pos > n
		good = good && index(tv, "\"decision\"") == 1 && top["policy"] == "{" && top["functions"] == "["
		if (!good) { printf "%s:%d: not a decision JSON line: %.80s\n", FILENAME, NR, s; bad++ }
		lines++
	}
	END { print FILENAME ": " lines " lines"; exit (bad || !lines) }' "$1"
}
nl=0
for f in $SD/audit.log $SDE/audit.log $SDB/audit.log; do
	check "$f parses" audit_ok "$f"
	nl=$((nl + $(wc -l <"$f")))
done
# the parser can fail: a truncated line, a line without "functions"
rejects() { ! audit_ok "$1"; }
head -n1 $SD/audit.log | cut -c1-200 >/tmp/bad1.log
check "a truncated line is rejected" rejects /tmp/bad1.log
head -n1 $SD/audit.log | sed 's/"functions":/"funcs":/' >/tmp/bad2.log
check "a line without functions is rejected" rejects /tmp/bad2.log
head -n1 $SD/audit.log | sed 's/"to":"/"to":/' >/tmp/bad3.log
check "a line with a broken string is rejected" rejects /tmp/bad3.log
verdict "$nl audit lines parsed"
