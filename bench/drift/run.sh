#!/usr/bin/env bash
# Drift on the host: 20-run counts of the gate's verdicts with and without a
# concurrent control, side by side in one run (docs/benchmarks.md, "Drift").
#   bench/drift/run.sh [RUNS]      (default 20; needs root and a built tree)
# Prints a table, writes bench/results/drift.tsv and draws
# docs/img/false-reverts-host.png (bench/plot/draw.sh).
set -u
RUNS=${1:-20}
source "$(dirname "$0")/../../tests/host/lib.sh"
# shellcheck source=tests/host/drift_lib.sh
source "$ROOT/tests/host/drift_lib.sh"
P=$EX/demo-patches
OUT=$ROOT/bench/results/drift.tsv
mkdir -p "$(dirname "$OUT")"
drift_svc
printf 'case\tcontrol\tcommitted\treverted\tother\truns\n' >"$OUT"
row() { # row CASE MODE PATCH
	local c
	for c in with without; do
		if [ $c = with ]; then
			drift_count "$RUNS" "$2" "$P/$3" "$TMP/$1.$c" --set control=parse_request
		else
			drift_count "$RUNS" "$2" "$P/$3" "$TMP/$1.$c"
		fi
		printf '%s\t%s\t%d\t%d\t%d\t%d\n' "$1" "$c" "$COMMITTED" "$REVERTED" "$OTHER" "$RUNS" |
			tee -a "$OUT"
	done
}
# the issue's goals first: a run cut short by a deadline still has them
row harmless-hog-in-bake bake same.so
row slow-hog-in-bake bake slow.so
row slow-hog-in-baseline baseline slow.so
row harmless-quiet none same.so
drift_svc_stop
echo "drift: written $OUT"
check "the false-revert plot is drawn" "$ROOT/bench/plot/draw.sh" drift
finish bench-drift
