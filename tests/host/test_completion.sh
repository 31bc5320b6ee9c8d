#!/usr/bin/env bash
# Bash completion (completion/patchgate): sourced in bash as bash-completion
# loads it, the function is called with COMP_WORDS, COMP_CWORD, COMP_LINE and
# COMP_POINT as bash sets them (KEY=VALUE split at '='), and the candidates are
# checked: commands, options, pids, patch files, policy files and keys.
# shellcheck source=tests/host/lib.sh
. "$(dirname "$0")/lib.sh"

BIN=$ROOT/.output/patchgate
COMPL=$ROOT/completion/patchgate
BC=/usr/share/bash-completion/bash_completion

# comp LINE: the candidates for the end of LINE, one a line (bash-completion loaded)
comp() {
	PG_BC=${PG_BC-$BC} bash -c '
		[ -n "$PG_BC" ] && . "$PG_BC"
		. "$1"
		line=$2
		# bash splits words at blanks and at the "=" of KEY=VALUE
		read -ra COMP_WORDS <<<"${line//=/ = }"
		[[ $line == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$line
		COMP_POINT=${#line}
		_patchgate
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"
	' _ "$COMPL" "$1"
}
has() { # has "LINE" WORD...: every WORD is a candidate
	local out w
	out=$(comp "$1")
	shift
	for w in "$@"; do
		grep -qxF -- "$w" <<<"$out" || { echo "    '$w' not among: $(echo "$out" | xargs)"; return 1; }
	done
}
only() { # only "LINE" WORD...: exactly these candidates
	local out want
	out=$(comp "$1" | sort -u | xargs)
	shift
	want=$(printf '%s\n' "$@" | sort -u | xargs)
	[ "$out" = "$want" ] || { echo "    got '$out', want '$want'"; return 1; }
}

"$PG" --version -j >"$TMP/version.json"
check "the binary it completes runs (--version -j)" test -s "$TMP/version.json"
# shellcheck disable=SC2016 # $1 is the inner shell's
check "the completion file is there and registers _patchgate" \
	bash -c '. "$1"; complete -p patchgate | grep -q _patchgate' _ "$COMPL"
check "bash-completion is installed ($BC)" test -r "$BC"

echo "== commands and options, from --help"
mapfile -t cmds < <("$BIN" --help | sed -n '/^Commands:/,/^$/{ s/^  \([a-z]\+\) .*/\1/p }')
check "'$BIN ' offers every command of --help (${cmds[*]})" has "$BIN " "${cmds[@]}"
check "'$BIN do' offers doctor alone" only "$BIN do" doctor
check "'$BIN --' offers --version, --help, --json" has "$BIN --" --version --help --json
check "'$BIN help d' offers doctor" only "$BIN help d" doctor
check "'$BIN apply --' offers apply's options" \
	has "$BIN apply --" --pid --klp --policy --previous --set --no-gate --dry-run --max-wait --errors --json --help --state-dir --verbose
check "'$BIN apply --d' offers --dry-run alone" only "$BIN apply --d" --dry-run
check "'$BIN doctor --' offers --process and --kernel" has "$BIN doctor --" --process --kernel --json
check "'$BIN -j st' offers status after a common option" only "$BIN -j st" status

echo "== pids"
sleep 30 &
sp=$!
BG_PIDS+=("$sp")
check "'$BIN apply --pid ' offers a live pid ($sp)" has "$BIN apply --pid " "$sp"
check "'$BIN watch -p ' offers it too" has "$BIN watch -p " "$sp"
check "'$BIN status --pid $sp' completes to $sp" has "$BIN status --pid $sp" "$sp"

echo "== files"
d=$TMP/files
mkdir -p "$d/sub"
touch "$d/fix.so" "$d/lp.ko" "$d/strict.ini" "$d/notes.txt" "$d/audit.log" "$d/gate.svg"
check "apply --pid PID DIR/ offers the *.so patch and directories, not the others" \
	only "$BIN apply --pid $sp $d/" "$d/fix.so" "$d/sub"
check "apply --klp DIR/ offers the *.ko module and directories" only "$BIN apply --klp $d/" "$d/lp.ko" "$d/sub"
check "apply --previous DIR/ offers the *.ko module" has "$BIN apply --klp x.ko --previous $d/" "$d/lp.ko"
check "apply --policy DIR/ offers the *.ini policy and directories" \
	only "$BIN apply --pid $sp $d/fix.so --policy $d/" "$d/strict.ini" "$d/sub"
check "report DIR/ offers the *.log audit log and directories" only "$BIN report $d/" "$d/audit.log" "$d/sub"
check "report --out DIR/ offers pictures and pages" only "$BIN report $d/audit.log --out $d/" "$d/gate.svg" "$d/sub"
check "--state-dir DIR/ offers directories only" only "$BIN status --state-dir $d/" "$d/sub"
check "revert --pid PID DIR/ offers the *.so patch" has "$BIN revert --pid $sp $d/" "$d/fix.so"
lp=$(find /sys/kernel/livepatch -mindepth 1 -maxdepth 1 -printf '%f ' 2>/dev/null)
# shellcheck disable=SC2086 # the names, one word each
check "revert --klp offers the livepatches of /sys/kernel/livepatch (${lp:-none here})" only "$BIN revert --klp " $lp

echo "== policy keys and values"
mapfile -t keys < <("$BIN" apply --help | sed -n '/^Policy keys/,/^$/{ /^Policy keys/d; p }' | xargs -n1)
check "the policy keys come from apply --help (${#keys[@]} of them)" test "${#keys[@]}" -ge 10
check "'apply --set ' offers every key as KEY=" has "$BIN apply --set " "${keys[@]/%/=}"
check "'apply --set p99' offers p99_ratio_max=" only "$BIN apply --set p99" p99_ratio_max=
check "'apply --set on_inconclusive=' offers extend, revert, hold" \
	only "$BIN apply --set on_inconclusive=" extend revert hold
check "'apply --set signature=r' offers required" only "$BIN apply --set signature=r" required
check "'apply --set bake=' offers nothing (a duration)" only "$BIN apply --set bake="
check "'apply --errors ' offers neg and zero" only "$BIN apply --errors " neg zero

echo "== without bash-completion"
plain() { PG_BC='' only "$@"; }
check "plain bash (no bash-completion) still completes commands" plain "$BIN sta" status
check "and options" plain "$BIN doctor --pr" --process

finish completion
