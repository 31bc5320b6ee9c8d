#!/usr/bin/env bash
# Generate the man pages from their one source each, so that --help, docs/
# and the pages cannot disagree:
#   patchgate(8), patchgate-COMMAND(8)  help2man over `patchgate [COMMAND] --help`
#                                       (the commands and their one-line names
#                                       come from the "Commands:" list of --help)
#   patchgate-policy(5)                 pandoc over docs/policy.md
# Usage: scripts/gen-man.sh BIN OUTDIR VERSION
# The date is SOURCE_DATE_EPOCH's when it is set (dpkg-buildpackage sets it),
# so that a package build is reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -ne 3 ]; then
	echo "usage: $0 BIN OUTDIR VERSION" >&2
	exit 1
fi
bin=$1 out=$2 version=$3
for t in help2man pandoc; do
	command -v "$t" >/dev/null || { echo "gen-man: $t is missing (scripts/deps.sh pkg)" >&2; exit 1; }
done
mkdir -p "$out"
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)

# "  NAME  summary" lines of the "Commands:" list, but `help` itself
commands() {
	"$bin" --help | sed -n '/^Commands:/,/^$/{ s/^  \([a-z]\+\) \+\(.*\)$/\1\t\2/p }' | grep -v '^help	'
}

# SEE ALSO of every page: the other pages
seealso=$(mktemp)
trap 'rm -f "$seealso"' EXIT
{
	echo '[see also]'
	printf '.BR patchgate (8)'
	while IFS=$'\t' read -r name _; do
		printf ',\n.BR patchgate-%s (8)' "$name"
	done < <(commands)
	printf ',\n.BR patchgate-policy (5)\n'
	echo '.PP'
	echo 'The full documentation is in /usr/share/doc/patchgate.'
} >"$seealso"

# help2man runs "$bin $opt"; the version is given, never run: --version
# prints this machine's kernel features, which do not belong in a page
h2m() { # h2m PAGE NAME HELP-OPTION
	help2man --no-info --section=8 --source=patchgate --manual="System Administration" \
		--version-string="$version" --name="$2" --help-option="$3" \
		--include="$seealso" --output="$out/$1.8" "$bin"
	# help2man names the page after the binary: name it after the command
	sed -i "1,/^\\.TH/{s/^\\.TH PATCHGATE /.TH ${1^^} /}" "$out/$1.8"
	# the NAME line: "patchgate-apply \- ..."
	sed -i "/^\\.SH NAME/{n;s/^patchgate \\\\-/$1 \\\\-/}" "$out/$1.8"
}

h2m patchgate "a safety gate for live patching" --help
while IFS=$'\t' read -r name summary; do
	h2m "patchgate-$name" "$summary" "$name --help"
done < <(commands)

# docs/policy.md: its title becomes NAME, its sections the page's
{
	printf '# NAME\n\npatchgate-policy - the gate policy of patchgate apply\n\n'
	sed '1{/^# /d}' docs/policy.md | sed 's/^## \(.*\)/# \U\1/; s/^###/##/'
	printf '\n# SEE ALSO\n\n**patchgate**(8), **patchgate-apply**(8); the full documentation is in '
	printf '/usr/share/doc/patchgate.\n'
} | pandoc -s -f gfm -t man --lua-filter=scripts/man-tables.lua -M title=PATCHGATE-POLICY -M section=5 \
	-M header="File Formats" -M footer="patchgate $version" -M date="$date" \
	-o "$out/patchgate-policy.5"
ls "$out"
