#!/usr/bin/env bash
# Run every benchmark under bench/ (each prints a table and writes a CSV to bench/results/).
set -u
cd "$(dirname "$0")" || exit 1
rc=0
for b in */run.sh; do
	[ -f "$b" ] || continue
	echo "== $b"
	bash "$b" || rc=1
done
exit $rc
