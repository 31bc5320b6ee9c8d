#!/usr/bin/env bash
# Each directory under user/ is one layer, and includes point down only:
#
#   cmd -> gate -> {backend, probe, view} -> {core, lib}
#
# A file may include headers of its own layer or of a lower rank; an include
# that points up, or across to a sibling of the same rank, is an error.  BPF
# skeletons (*.skel.h) belong to the probe layer alone.  Prints every
# offending line and exits 1 when there is one.
#
# It also measures the layer graph (which layer includes which) and compares
# it with the "includes" column of the layer table in docs/architecture.md,
# so that the table is the include graph.  --graph prints the graph.
set -euo pipefail
cd "$(dirname "$0")/.."

rank() {
	case "$1" in
	cmd) echo 4 ;;
	gate) echo 3 ;;
	backend | probe | view) echo 2 ;;
	core | lib) echo 1 ;;
	*) echo 0 ;;
	esac
}

bad=0 files=0 edges=0
declare -A graph=()
while IFS= read -r f; do
	files=$((files + 1))
	layer=${f#user/}
	layer=${layer%%/*}
	r=$(rank "$layer")
	if [ "$r" -eq 0 ]; then
		echo "layers: $f: not in a layer directory (cmd gate backend probe view core lib)"
		bad=1
		continue
	fi
	while IFS=: read -r ln inc; do
		inc=${inc#*\"}
		inc=${inc%%\"*}
		case "$inc" in
		*.skel.h)
			if [ "$layer" != probe ]; then
				echo "layers: $f:$ln: includes the BPF skeleton $inc (only probe/ may)"
				bad=1
			fi
			continue
			;;
		*/*) ;;
		*) continue ;;	# a header beside the file: same layer
		esac
		to=${inc%%/*}
		edges=$((edges + 1))
		[ "$to" = "$layer" ] && continue
		graph[$layer]="${graph[$layer]:-} $to"
		tr=$(rank "$to")
		if [ "$tr" -eq 0 ]; then
			echo "layers: $f:$ln: includes \"$inc\", which is in no layer"
			bad=1
		elif [ "$tr" -ge "$r" ]; then
			dir=up
			[ "$tr" -eq "$r" ] && dir=across
			echo "layers: $f:$ln: $layer includes $inc ($dir)"
			bad=1
		fi
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" || true)
done < <(find user -name '*.[ch]' | sort)

# the measured graph, one line a layer: "gate: backend core lib probe view"
layers=(cmd gate backend probe view core lib)
measured() {
	local l
	for l in "${layers[@]}"; do
		# shellcheck disable=SC2086 # the list is space-separated layer names
		printf '%s: %s\n' "$l" "$(printf '%s\n' ${graph[$l]:-} | sort -u | xargs)"
	done
}
if [ "${1:-}" = --graph ]; then
	measured
	exit 0
fi
# the documented graph: rows "| `user/X/` | a, b, c | ..." of docs/architecture.md
documented() {
	# shellcheck disable=SC2016 # the backquotes are markdown, not a command
	sed -n 's/^| `user\/\([a-z]*\)\/` | \([^|]*\) |.*/\1: \2/p' docs/architecture.md |
		while IFS=: read -r l deps; do
			deps=${deps//(none)/}
			printf '%s: %s\n' "$l" "$(echo "$deps" | tr ',' '\n' | xargs -n1 2>/dev/null | sort -u | xargs)"
		done
}
if ! diff <(measured | sort) <(documented | sort) >/dev/null; then
	echo "layers: docs/architecture.md's layer table differs from the include graph:"
	diff <(measured | sort) <(documented | sort) | sed -n 's/^</  measured:  /p; s/^>/  documented:/p'
	bad=1
fi

if [ "$bad" -ne 0 ]; then
	echo "layers: FAILED ($files files, $edges cross-directory includes)"
	exit 1
fi
echo "layers: ok ($files files, $edges cross-directory includes, all pointing down)"
