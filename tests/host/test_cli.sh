#!/usr/bin/env bash
# Option parsing as --help documents it: short options, and the one duration
# grammar (us/ms/s/m/h) for options as for policy keys.  Each check gives a
# pid that does not exist, so that a parse that succeeds fails afterwards on
# the pid, with a message that names the pid, not the option.
# shellcheck source=tests/host/lib.sh
. "$(dirname "$0")/lib.sh"

nopid=999999999
fixture=$EX/demo-patches/good.so

# parses VERB...: the command got past option parsing (error names the pid)
parses() {
	local out rc
	out=$("$PG" "$@" -j 2>&1); rc=$?
	[ "$rc" -eq 1 ] && echo "$out" | grep -q "$nopid" &&
		! echo "$out" | grep -qiE 'bad option|invalid --|unrecognized|invalid option'
}

echo "== apply: short options from --help"
"$PG" apply --help | grep -q -- '-e, --errors' && ok "apply --help documents -e"
check "apply -e neg is accepted" parses apply -e neg --pid $nopid "$fixture"
check "apply --errors zero is accepted" parses apply --errors zero --pid $nopid "$fixture"
check "apply -W 2 is accepted" parses apply -W 2 --pid $nopid "$fixture"

echo "== one duration grammar for options"
for d in 1h 5m 30s 500ms 250us 1.5; do
	# a short max_wait needs a shorter dwell (the policy checks dwell < max_wait)
	check "apply --max-wait $d is accepted" \
		parses apply --set dwell=100us --max-wait "$d" --pid $nopid "$fixture"
done
check "watch --interval 250ms --duration 1h are accepted" \
	parses watch --pid $nopid --interval 250ms --duration 1h some_func
for d in 5d 1hr -1s 0x10 inf; do
	out=$("$PG" apply --max-wait "$d" --pid $nopid "$fixture" -j 2>&1); rc=$?
	check "apply --max-wait $d is refused (exit 1, names the option)" \
		test "$rc" -eq 1 -a -n "$(echo "$out" | grep max-wait)"
done
check "policy --set max_wait=1h and --max-wait 1h agree" \
	parses apply --set max_wait=1h --max-wait 1h --pid $nopid "$fixture"

echo "== apply --klp: module parameters and --previous are parsed before anything is read"
for bad in =x count 'co/nt=1' 'msg=a"b'; do
	out=$("$PG" apply --klp "$TMP/none.ko" "$bad" --no-gate -j 2>&1); rc=$?
	check "module parameter '$bad' is refused (exit 1, says KEY=VALUE or why)" \
		test "$rc" -eq 1 -a -n "$(echo "$out" | grep -E 'not KEY=VALUE|cannot hold')"
done
out=$("$PG" apply --klp "$TMP/none.ko" msg=hello "count=1 2" --no-gate -j 2>&1)
check "well-formed module parameters get past parsing" \
	test -z "$(echo "$out" | grep -E 'KEY=VALUE|unexpected argument')"
out=$("$PG" apply --pid $nopid "$fixture" --previous "$TMP/none.ko" -j 2>&1); rc=$?
check "--previous with --pid is refused (exit 1)" \
	test "$rc" -eq 1 -a -n "$(echo "$out" | grep -- '--previous is for a kernel livepatch')"

echo "== kernel livepatch commands on this host"
if [ -d /sys/kernel/livepatch ]; then
	check "status --kernel lists the kernel's patches (exit 0)" "$PG" status --kernel -j
else
	# this host's kernel has no livepatch: every --klp command says so, exit 5
	for cmd in "apply --klp $TMP/none.ko" "apply --klp $TMP/none.ko --no-gate" \
		"revert --klp none" "status --kernel"; do
		# shellcheck disable=SC2086 # the command line is split on purpose
		out=$("$PG" $cmd -j 2>&1); rc=$?
		check "$cmd: exit 5, says the kernel has no livepatch support" \
			test "$rc" -eq 5 -a -n "$(echo "$out" | grep '"type":"error".*no livepatch support')"
	done
fi

finish host-cli
