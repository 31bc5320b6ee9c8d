#!/usr/bin/env bash
# Run every tests/host/test_*.sh; sum their "N passed, M failed" lines.
set -u
cd "$(dirname "$0")"
if [ "$(id -u)" -ne 0 ]; then
	echo "host tests need root (BPF, ptrace)" >&2
	exit 1
fi
pass=0 fail=0 bad=()
for t in test_*.sh; do
	[ -f "$t" ] || continue
	echo "== $t"
	out=$(bash "$t" 2>&1); rc=$?
	echo "$out"
	line=$(echo "$out" | grep -E '^[a-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.*passed, \([0-9]*\) failed.*/\1/p')
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
	if [ $rc -ne 0 ]; then
		bad+=("$t")
		[ -z "$line" ] && fail=$((fail + 1))
	fi
done
echo "host: $pass passed, $fail failed"
[ ${#bad[@]} -eq 0 ]
