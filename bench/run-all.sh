#!/usr/bin/env bash
# Run every benchmark under bench/ (each prints a table, writes its CSV or TSV to
# bench/results/, and those with figures draw them with bench/plot/draw.sh).
set -u
cd "$(dirname "$0")" || exit 1
rc=0
for b in */run.sh; do
	[ -f "$b" ] || continue
	echo "== $b"
	bash "$b" || rc=1
done
exit $rc
