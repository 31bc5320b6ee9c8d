#!/usr/bin/env bash
# Runs shellcheck over every shell script in tests/, bench/, scripts/,
# examples/, deploy/ and .ci/ (by extension or by a sh/bash shebang), and the bash
# completion (completion/).  Exits non-zero on any finding.  `make lint` installs shellcheck first.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t files < <(
	for f in $(git ls-files tests bench scripts examples deploy .ci completion 2>/dev/null || find tests bench scripts examples deploy .ci completion -type f); do
		[ -f "$f" ] || continue
		case "$f" in
		*.sh | completion/*) echo "$f" ;;
		*.c | *.h | *.ko | *.csv | *.md | *.ini | Makefile | */Makefile | Kbuild | */Kbuild) ;;
		*) head -n1 "$f" | grep -qE '^#!.*\b(ba)?sh\b' && echo "$f" ;;
		esac
	done | sort -u
)
echo "lint: shellcheck $(shellcheck --version | sed -n 's/^version: //p') over ${#files[@]} scripts"
shellcheck -x -P SCRIPTDIR "${files[@]}"
echo "lint: ok"
