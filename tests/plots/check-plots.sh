#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# `make check-plots`: the benchmark figures are drawn from the recorded
# tables, and docs/benchmarks.md shows them.
#  1. bench/plot/draw.sh redraws every figure from bench/results/ into a
#     temporary directory; each expected PNG is there, a valid PNG of its
#     size, with data drawn on it (tests/plots/pngcheck.py), and nothing else
#     is drawn;
#  2. every PNG docs/benchmarks.md embeds is one of those figures and is in
#     docs/img, a valid PNG of its size, and every figure is embedded;
#  3. draw.sh fails, saying which table, when a table is missing or holds no
#     rows, and then draws nothing for it.
# Needs gnuplot (gnuplot-nox) and python3.  About 15 s.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
T=$(mktemp -d /tmp/pg-plots.XXXXXX)
trap 'rm -rf "$T"' EXIT
# shellcheck source=tests/pkg/verdict.sh
source "tests/pkg/verdict.sh"
DOC=docs/benchmarks.md
# every figure draw.sh makes: name width height
FIGURES="probe-overhead.png 900 440
apply-pause.png 900 440
detection-power.png 900 440
false-reverts-sim.png 900 440
power-sigma0.5.png 900 440
power-sigma1.png 900 440
power-baseline.png 900 440
false-reverts-drift.png 900 440
false-reverts-host.png 900 440"

echo "== redraw from bench/results into $T/img"
bench/plot/draw.sh -o "$T/img" >"$T/draw.log" 2>&1
rc=$?
verdict "bench/plot/draw.sh -o DIR draws every group" "exit $rc: $(cat "$T/draw.log")" test $rc -eq 0
# png WHAT [--no-pixels] FILE WIDTH HEIGHT...: a verdict a file from one
# run of pngcheck.py (its lines: "ok|FAIL FILE: detail")
png() {
	local what=$1 st file detail n=0
	shift
	while read -r st file detail; do
		n=$((n + 1))
		file=${file%:}
		verdict "${file#"$T/"}: $what" "$detail" test "$st" = ok
	done < <(tests/plots/pngcheck.py "$@")
	[ "$n" -gt 0 ] || verdict "pngcheck.py answers" "no output" false
}
args=()
while read -r name w h; do args+=("$T/img/$name" "$w" "$h"); done <<<"$FIGURES"
png "a PNG of its size with data drawn" "${args[@]}"
extra=$(comm -13 <(cut -d' ' -f1 <<<"$FIGURES" | sort) <(find "$T/img" -mindepth 1 -printf '%f\n' | sort))
verdict "no other figure is drawn" "$extra" test -z "$extra"

echo "== $DOC"
mapfile -t embedded < <(grep -o '](img/[^)]*\.png)' "$DOC" | sed 's/^](img\///; s/)$//' | sort -u)
verdict "$DOC embeds figures" "" test ${#embedded[@]} -gt 0
args=()
for name in "${embedded[@]}"; do
	size=$(awk -v n="$name" '$1 == n { print $2, $3 }' <<<"$FIGURES")
	if [ -z "$size" ]; then
		verdict "docs/img/$name is drawn by bench/plot/draw.sh" "not one of its figures" false
		verdict "docs/img/$name exists" "" test -s "docs/img/$name"
		continue
	fi
	args+=("docs/img/$name" "${size% *}" "${size#* }")
done
[ ${#args[@]} -eq 0 ] || png "embedded: a valid PNG of its size" --no-pixels "${args[@]}"
while read -r name _; do
	verdict "$DOC embeds $name" "" grep -q "](img/$name)" "$DOC"
done <<<"$FIGURES"

echo "== a missing or empty table fails its figure"
mkdir -p "$T/res" "$T/neg"
cp bench/results/*.csv bench/results/*.tsv "$T/res/"
rm "$T/res/probe_overhead.csv"
head -1 bench/results/apply_pause_summary.csv >"$T/res/apply_pause_summary.csv"
bench/plot/draw.sh -o "$T/neg" -r "$T/res" probe_overhead >"$T/neg.log" 2>&1
rc=$?
verdict "a missing table: exit 1" "exit $rc" test $rc -eq 1
verdict "a missing table: the message names it" "$(cat "$T/neg.log")" \
	grep -q "probe_overhead.csv is missing" "$T/neg.log"
bench/plot/draw.sh -o "$T/neg" -r "$T/res" apply_pause >"$T/neg.log" 2>&1
rc=$?
verdict "a table without rows: exit 1" "exit $rc" test $rc -eq 1
verdict "a table without rows: gnuplot's complaint is shown" "$(cat "$T/neg.log")" \
	grep -q "apply-pause.gp failed" "$T/neg.log"
left=$(ls "$T/neg")
verdict "nothing drawn for them" "$left" test -z "$left"

echo "check-plots: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
