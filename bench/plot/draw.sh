#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Draw the benchmark figures with gnuplot from the tables in bench/results/.
#   bench/plot/draw.sh [-o OUTDIR] [-r RESULTS] [GROUP...]    (-h, --help: this text)
# GROUP is the benchmark whose tables are drawn (default: all of them):
#   probe_overhead  probe-overhead.png      probe_overhead.csv
#   apply_pause     apply-pause.png         apply_pause_summary.csv
#   detection       detection-power.png     detection_power.tsv
#                   false-reverts-sim.png   detection.csv
#   drift_sim       power-sigma0.5.png, power-sigma1.png, power-baseline.png
#                                           power.tsv
#                   false-reverts-drift.png drift_sim.tsv
#   drift           false-reverts-host.png  drift.tsv
# OUTDIR defaults to docs/img, RESULTS to bench/results.  Each bench script
# calls this at its end; run it alone to redraw from the recorded tables.
# The gnuplot scripts are bench/plot/*.gp; the awk here only picks and
# reshapes rows.  Any gnuplot warning (a missing or empty table, a curve
# without points) fails the figure.  Exit status: 0, or 1 when a figure
# could not be drawn, 2 on bad usage.
#
# Examples:
#   bench/plot/draw.sh                      redraw every figure into docs/img
#   bench/plot/draw.sh apply_pause          only docs/img/apply-pause.png
#   bench/plot/draw.sh -o /tmp/img          every figure, into /tmp/img
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUTDIR=$ROOT/docs/img
RES=$ROOT/bench/results
ALL=(probe_overhead apply_pause detection drift_sim drift)
# the simulated bake (bench/detection/run.sh: the default policy's 300 s):
# the power curves' grid points past its end are drawn at its end
BAKE_S=300

usage() {
	sed -n '3,/^set -uo/{ /^set -uo/d; s/^# \{0,1\}//p }' "$0"
}
[ "${1:-}" = --help ] && { usage; exit 0; }
while getopts "o:r:h" opt; do
	case $opt in
	o) OUTDIR=$OPTARG ;;
	r) RES=$OPTARG ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=("${ALL[@]}")
for g in "${groups[@]}"; do
	case " ${ALL[*]} " in *" $g "*) ;; *)
		echo "draw: unknown group '$g' (one of: ${ALL[*]})" >&2
		exit 2 ;;
	esac
done
if ! command -v gnuplot >/dev/null; then
	echo "draw: gnuplot not found (scripts/deps.sh plot installs gnuplot-nox)" >&2
	exit 1
fi
mkdir -p "$OUTDIR" || exit 1
OUTDIR=$(cd "$OUTDIR" && pwd)
TMP=$(mktemp -d /tmp/pg-plot.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
rc=0

# need FILE...: every table is there and has rows, or say which bench makes it
need() {
	local f
	for f in "$@"; do
		if [ ! -s "$RES/$f" ]; then
			echo "draw: $RES/$f is missing or empty (run the benchmark that writes it)" >&2
			return 1
		fi
	done
}

# gp SCRIPT VAR=VALUE...: run bench/plot/SCRIPT with string variables set.
# It draws into a staging directory; its PNGs go to OUTDIR only when gnuplot
# exits 0 and prints nothing on stderr, so a failed figure leaves the last
# good one in place.
gp() {
	local script=$1 args="" kv stage=$TMP/stage
	shift
	rm -rf "$stage" && mkdir "$stage" || return 1
	for kv in "$@"; do args+="${kv%%=*}='${kv#*=}'; "; done
	args+="dir='$TMP'; outdir='$stage'"
	if ! (cd "$HERE" && gnuplot -e "$args" "$script") 2>"$TMP/gp.err" || [ -s "$TMP/gp.err" ]; then
		echo "draw: $script failed:" >&2
		cat "$TMP/gp.err" >&2
		return 1
	fi
	mv "$stage"/*.png "$OUTDIR/"
}

# probe_overhead.csv: site,tool,ns_per_call,ratio_to_floor,calls -> per site,
# the tools' rows (label ns ratio) and the floor (the empty probes' ns)
draw_probe_overhead() {
	need probe_overhead.csv || return 1
	awk -F, -v dir="$TMP" 'NR > 1 {
		if ($2 == "empty") { print $3 > (dir "/po-" $1 ".floor"); next }
		name = $2 == "none" ? "no probe" : $2
		printf "\"%s\"\t%s\t%s\n", name, $3, $4 > (dir "/po-" $1 ".dat") }' "$RES/probe_overhead.csv"
	local s
	for s in nop5 trap; do
		if [ ! -s "$TMP/po-$s.dat" ] || [ ! -s "$TMP/po-$s.floor" ]; then
			echo "draw: probe_overhead.csv has no $s rows with the floor (empty)" >&2
			return 1
		fi
	done
	gp probe-overhead.gp floor_nop5="$(cat "$TMP/po-nop5.floor")" floor_trap="$(cat "$TMP/po-trap.floor")"
}

# apply_pause_summary.csv: one row per (threads, op)
draw_apply_pause() {
	need apply_pause_summary.csv || return 1
	awk -F, -v dir="$TMP" 'NR > 1 { print $1, $4, $5, $6, $7, $8, $9 > (dir "/ap-" $2 ".dat") }' \
		"$RES/apply_pause_summary.csv"
	gp apply-pause.gp
}

# detection_power.tsv: label sigma shift rate calls share -> one curve per
# (sigma, shift, rate); detection.csv's harmless ("null") rows of the default
# shape (median 20 us): stationary per rate and tick, and under bursts.
# Each figure is drawn when its own table is there.
draw_detection() {
	local rc=0
	if need detection_power.tsv; then
		awk -F'\t' -v dir="$TMP" -v bake="$BAKE_S" '{ end = $4 * bake
			print ($5 + 0 > end ? end : $5), $6 > (dir "/dp-" $2 "-" $3 "-" $4 ".dat") }' \
			"$RES/detection_power.tsv"
		gp detection-power.gp end=$((1000 * BAKE_S)) || rc=1
	else
		rc=1
	fi
	need detection.csv || return 1
	awk -F, -v dir="$TMP" '$1 == "null" && $2 == 20000 {
		if ($16 == "") {
			# "\\n": a line break in the tic label
			cell = ($6 == 10000 ? "10 000/s" : $6 "/s") ($7 == 1000 ? "" : "\\n" $7 " ms ticks")
			if (!(cell in seen)) { seen[cell] = 1; order[++n] = cell }
			v[cell, $3 + 0] = $10 }
		else if ($3 == 0.5 && $6 == 1000 && $7 == 1000) {
			split($16, b, "/")
			printf "\"%s/s, %s%%\\n+%s ms\"\t%s\n", b[1], 100 * b[2], b[3], $10 > (dir "/fr-burst.dat") } }
		END { for (i = 1; i <= n; i++)
			printf "\"%s\"\t%s\t%s\n", order[i], v[order[i], 0.5], v[order[i], 1] > (dir "/fr-stat.dat") }' \
		"$RES/detection.csv"
	gp false-reverts-sim.gp && return $rc
}

# power.tsv: label sigma shift rate calls share, the drift cells' curves;
# drift_sim.tsv: the drift cells' false reverts without and with the control
draw_drift_sim() {
	need power.tsv drift_sim.tsv || return 1
	# 1000 calls/s in every cell
	awk -F'\t' -v dir="$TMP" -v end=$((1000 * BAKE_S)) '{
		f = $1 "-" $2; gsub(/[\/=]/, "_", f)
		print ($5 + 0 > end ? end : $5) "\t" $6 > (dir "/" f ".dat") }' "$RES/power.tsv"
	awk -F'\t' -v dir="$TMP" 'NR > 1 {
		f = dir "/fd-" ($1 + 0) ".dat"
		if ($3 == 0) no[f, $2] = $4 / $5; else yes[f, $2] = $4 / $5
		if (!((f, $2) in seen)) { seen[f, $2] = 1; order[f] = order[f] " " $2; files[f] = 1 } }
		END { for (f in files) { n = split(order[f], d, " ")
			for (i = 1; i <= n; i++) printf "%s\t%s\t%s\n", d[i], no[f, d[i]], yes[f, d[i]] > f } }' \
		"$RES/drift_sim.tsv"
	gp power-drift.gp end=$((1000 * BAKE_S)) && gp false-reverts-drift.gp
}

# drift.tsv: the harmless cases' reverts with and without the control
draw_drift() {
	need drift.tsv || return 1
	awk -F'\t' -v dir="$TMP" 'NR > 1 && $1 ~ /^harmless/ {
		if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
		v[$1, $2] = $4 / $6; r[$1, $2] = $4 "/" $6 }
		END { for (i = 1; i <= n; i++) { c = order[i]; name = c
			sub(/^harmless-/, "", name); gsub(/-/, " ", name)
			printf "\"%s\"\t%s\t%s\t%s\t%s\n", name, v[c, "without"], v[c, "with"],
				r[c, "without"], r[c, "with"] > (dir "/fh.dat") } }' "$RES/drift.tsv"
	gp false-reverts-host.gp
}

# draw GROUP
draw() {
	case $1 in
	probe_overhead) draw_probe_overhead ;;
	apply_pause) draw_apply_pause ;;
	detection) draw_detection ;;
	drift_sim) draw_drift_sim ;;
	drift) draw_drift ;;
	esac
}

for g in "${groups[@]}"; do
	if draw "$g"; then
		echo "draw: $g -> $OUTDIR"
	else
		echo "draw: $g: not drawn" >&2
		rc=1
	fi
done
exit $rc
