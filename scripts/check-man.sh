#!/usr/bin/env bash
# Check the generated man pages (scripts/gen-man.sh): one page per command
# of `patchgate --help`, plus patchgate(8) and patchgate-policy(5); each
# renders with `groff -ww` (every warning on) without a word on stderr; each
# command's page holds every option its --help lists; the policy page holds
# every policy key.  Usage: scripts/check-man.sh BIN MANDIR
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bin=$1 dir=$2
# shellcheck source=tests/pkg/verdict.sh
source "tests/pkg/verdict.sh"

mapfile -t cmds < <("$bin" --help | sed -n '/^Commands:/,/^$/{ s/^  \([a-z]\+\) .*/\1/p }' | grep -vx help)
pages=("$dir/patchgate.8" "$dir/patchgate-policy.5")
for c in "${cmds[@]}"; do pages+=("$dir/patchgate-$c.8"); done
verdict "--help lists ${#cmds[@]} commands" "${cmds[*]}" test "${#cmds[@]}" -ge 6

for p in "${pages[@]}"; do
	name=${p##*/}
	verdict "$name exists" "" test -s "$p" || continue
	warn=$(LC_ALL=C.UTF-8 groff -t -ww -man -z "$p" 2>&1)
	verdict "$name renders without warnings (groff -ww)" "$warn" test -z "$warn"
	text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$p" 2>&1)
	title=${name%.*}
	title="${title^^}(${name##*.})"
	verdict "man -l $name shows $title" "$(head -1 <<<"$text")" grep -qF "$title" <<<"$(head -1 <<<"$text")"
	verdict "$name has NAME and SEE ALSO" "" grep -qzE 'NAME.*SEE ALSO' <<<"$text"
done

# every option of each --help is in its page: the page came from the help
for c in "" "${cmds[@]}"; do
	page=$dir/patchgate${c:+-$c}.8
	[ -s "$page" ] || continue
	text=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$page" 2>/dev/null)
	missing=()
	while read -r opt; do
		grep -qF -- "$opt" <<<"$text" || missing+=("$opt")
	done < <("$bin" ${c:+"$c"} --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' | grep -oE -- '--[a-z-]+' | sort -u)
	verdict "patchgate${c:+-$c}(8) has every option of 'patchgate ${c:+$c }--help'" \
		"missing ${missing[*]}" test ${#missing[@]} -eq 0
done

# the policy page came from docs/policy.md: every key is there
text=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$dir/patchgate-policy.5" 2>/dev/null)
missing=()
for k in $("$bin" apply --help | sed -n '/^Policy keys/,/^$/p' | tail -n +2); do
	grep -qw -- "$k" <<<"$text" || missing+=("$k")
done
verdict "patchgate-policy(5) describes every policy key of 'apply --help'" "missing ${missing[*]}" \
	test ${#missing[@]} -eq 0

echo "man: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
