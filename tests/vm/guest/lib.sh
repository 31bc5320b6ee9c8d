# shellcheck shell=dash
# Helpers for tests/vm/scenarios/*.sh (sourced in the guest, busybox sh).
# A scenario calls check/fail as it goes and ends with `verdict`; the first
# failure is what the host reports.
# M and watch_rc are read by the scenarios
# shellcheck disable=SC2034
M=/pg/modules
PG=/pg/pgjson	# /bin/patchgate, its -j output kept for the host's schema check
# the host's knobs (tests/vm/run.sh): PGVM_SYSCALL_ROUNDS, PGVM_SYSCALL_PAUSE_US
# shellcheck disable=SC1091
[ -f /pg/env ] && . /pg/env
: >/tmp/fails

# fail MSG: record a failure (the scenario goes on, the verdict is FAIL)
fail() { echo "FAIL: $*"; echo "$*" >>/tmp/fails; }
# ok MSG: log a passed check
ok() { echo "ok: $*"; }
# check DESC CMD...: run CMD, ok/fail on its exit status
check() { d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
# expect_rc WANT DESC CMD...: run CMD (output to /tmp/last), compare exit code
expect_rc() {
	want=$1 d=$2; shift 2
	# a file per call, not one rewritten: $PG's JSON hook reads it after the scenario
	erc_n=$((${erc_n:-0} + 1))
	"$@" >/tmp/last.$erc_n 2>&1
	got=$?
	cp /tmp/last.$erc_n /tmp/last
	cat /tmp/last
	if [ "$got" = "$want" ]; then ok "$d (exit $got)"; else fail "$d: exit $got, want $want"; fi
}
# contains FILE STRING: grep -F
contains() { grep -qF -- "$2" "$1"; }
# json_field FILE TYPE KEY: value of KEY in the last JSON line of TYPE
json_field() {
	grep "\"type\":\"$2\"" "$1" | tail -n1 | sed -n "s/.*\"$3\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | tr -d '"'
}
# kernel_state: what a patch attempt must not change (modules, patches, taint)
kernel_state() {
	{ cut -d' ' -f1 /proc/modules | sort; ls /sys/kernel/livepatch; } | tr '\n' ' '
}
loaded() { grep -q "^$1 " /proc/modules; }
# wait_for SECONDS CMD...: poll CMD every 0.2 s
wait_for() {
	n=$(( $1 * 5 )); shift
	while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.2; n=$((n - 1)); done
	return 1
}
# transition_is PATCH 0|1: the patch's sysfs transition flag
transition_is() { [ "$(cat "/sys/kernel/livepatch/$1/transition" 2>/dev/null)" = "$2" ]; }
verdict() {
	if [ -s /tmp/fails ]; then echo "FAIL $(head -n1 /tmp/fails)" >/tmp/result
	else echo "PASS ${1:-}" >/tmp/result; fi
}
# watch_start OUT ARGS...: start `patchgate watch --kernel -j ARGS` in the
# background (pid in $watch_pid) and wait until its probes are attached
watch_start() {
	out=$1; shift
	$PG watch --kernel -j -i 100 "$@" >"$out" 2>&1 &
	watch_pid=$!
	wait_for 60 grep -q '"type":"attached"' "$out" || { cat "$out"; fail "watch never attached"; }
}
# watch_stop: SIGINT the watch and wait for its summary
watch_stop() {
	kill -INT "$watch_pid"
	wait "$watch_pid"
	# read by the scenarios
	# shellcheck disable=SC2034
	watch_rc=$?
}
# summary_field OUT FUNC KEY: KEY of FUNC in the summary record
summary_field() {
	grep '"type":"summary"' "$1" | tail -n1 | sed 's/},{/}\n{/g' | grep "\"func\":\"$2\"" |
		sed -n "s/.*\"$3\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | tr -d '"'
}
# repeat N CMD...: run CMD N times, output discarded
repeat() { n=$1; shift; while [ "$n" -gt 0 ]; do "$@" >/dev/null 2>&1; n=$((n - 1)); done; }
