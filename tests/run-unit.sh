#!/usr/bin/env bash
# Run cmocka unit test binaries; print a closing 'N passed, N failed' line.
set -u
pass=0 fail=0 failed=()
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	echo "$out" | grep -E '^\[  (PASSED|FAILED) \]|^\[==========\]' | sed "s|^|$(basename "$t"): |"
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0}))
	if [ $rc -ne 0 ]; then
		failed+=("$(basename "$t")")
		[ -z "$f" ] && fail=$((fail + 1))
		echo "$out" | tail -40
	fi
done
echo "unit: $pass passed, $fail failed"
[ ${#failed[@]} -eq 0 ]
