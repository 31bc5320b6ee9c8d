#!/usr/bin/env bash
# The VM suite on each kernel users run: tests/vm/run.sh once per Debian
# suite (PGVM_KERNEL), one kernel at a time, then a table of the results
# (the one docs/kernel.md records).  Not part of `make check`: each run is
# a full TCG guest boot (minutes).
#
#   tests/vm/matrix.sh [SUITE...] [-- SCENARIO...]
#       SUITE: bookworm, trixie, bookworm-backports (default: all three)
#   PGVM_MATRIX_OUT=/tmp/vm-matrix tests/vm/matrix.sh   (per-suite build
#       directories PGVM_MATRIX_OUT-SUITE, the table in PGVM_MATRIX_OUT.md)
#
# On the 6.12 kernels (trixie, bookworm-backports) scenario 56 runs 5 rounds,
# not 20, and the guest gets 2400 s, not 1200: each of its rounds took about
# 40 s there (18 s on 6.1): the insmod of a livepatch of a function that a loop calls
# while a fentry probe sits on it is slow (the kernel reports an RCU-tasks
# grace period thousands of jiffies old meanwhile; a few seconds on 6.1).
# bookworm-backports' guest gets QEMU's CPU model without CMPXCHG16B
# (max,-cx16): with it, its 6.12.95 kernel took a debug exception in SLUB's
# cmpxchg16b fast path under TCG at boot, with a corrupt EFLAGS, and oopsed.
# PGVM_SYSCALL_ROUNDS, PGVM_TIMEOUT and PGVM_CPU, when set, win.
#
# Exits non-zero if any scenario failed on any kernel.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
base=${PGVM_MATRIX_OUT:-$ROOT/.output/vm-matrix}

suites=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do suites+=("$1"); shift; done
[ $# -gt 0 ] && shift
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie bookworm-backports)

table=$base.md
mkdir -p "$(dirname "$base")"
{
	echo "| kernel | package | passed | failed | time |"
	echo "| --- | --- | --- | --- | --- |"
} >"$table"

bad=0
for suite in "${suites[@]}"; do
	out=$base-$suite
	mkdir -p "$out"
	log=$out/matrix.log
	echo "matrix: $suite (log in $log)"
	start=$(date +%s)
	rc=0
	# this suite's own defaults (above); bookworm takes run.sh's
	own=()
	case $suite in
	trixie | bookworm-backports)
		own+=("PGVM_SYSCALL_ROUNDS=${PGVM_SYSCALL_ROUNDS:-5}" "PGVM_TIMEOUT=${PGVM_TIMEOUT:-2400}") ;;
	esac
	[ "$suite" != bookworm-backports ] || own+=("PGVM_CPU=${PGVM_CPU:-max,-cx16}")
	env "${own[@]}" PGVM_KERNEL="$suite" PGVM_OUT="$out" "$ROOT/tests/vm/run.sh" "$@" >"$log" 2>&1 || rc=$?
	secs=$(( $(date +%s) - start ))
	# "vm: guest kernel KVER (package VERSION, SUITE)"
	kver=$(sed -n 's/^vm: guest kernel \([^ ]*\) (package \([^,]*\),.*/\1/p' "$log" | head -n1)
	kpkg=$(sed -n 's/^vm: guest kernel \([^ ]*\) (package \([^,]*\),.*/\2/p' "$log" | head -n1)
	npass=$(grep -c '^  PASS ' "$log" || true)
	nfail=$(grep -c '^  FAIL ' "$log" || true)
	# a failed run: each FAIL line "  FAIL name detail", or run.sh's error
	fails=$(sed -n 's/^  FAIL \([^ ]*\) *\(.*\)/\1 (\2)/p' "$log" | sed 's/((\(.*\)))$/(\1)/; s/|/\\|/g' |
		paste -sd';' - | sed 's/;/; /g')
	if [ "$rc" -ne 0 ] && [ "$nfail" -eq 0 ]; then
		nfail=1
		fails="run: $(grep -m1 '^vm: error:' "$log" | sed 's/^vm: error: //; s/|/\\|/g')"
	fi
	[ "$rc" -eq 0 ] || bad=$((bad + 1))
	printf '| %s %s | %s | %s | %s | %dm%02ds |\n' "$suite" "${kver:-?}" "${kpkg:-?}" \
		"$npass" "$nfail${fails:+: $fails}" $((secs / 60)) $((secs % 60)) >>"$table"
	echo "matrix: $suite: $npass passed, $nfail failed in ${secs}s"
done
echo
cat "$table"
echo
echo "matrix: ${#suites[@]} kernels, $bad with failures"
[ "$bad" -eq 0 ]
