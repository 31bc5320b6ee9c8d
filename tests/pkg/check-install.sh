#!/usr/bin/env bash
# make install / make uninstall (GNU conventions), run by `make check-install`:
#  1. DESTDIR=TMP PREFIX=/usr: exactly the expected files, with their modes;
#     then make uninstall leaves no file behind;
#  2. PREFIX=TMP/usr: the installed binary runs, `man` finds every page, the
#     bash completion loads, and `systemd-analyze verify` passes the units with
#     their paths filled in, warning-free.
# Needs the binary and the man pages built (make, make man).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
T=$(mktemp -d /tmp/pg-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
# shellcheck source=tests/pkg/verdict.sh
source "tests/pkg/verdict.sh"
mk() { make --no-print-directory -s "$@" >"$T/make.log" 2>&1 || { cat "$T/make.log"; return 1; }; }

echo "== make install DESTDIR=... PREFIX=/usr"
D=$T/dest
verdict "make install DESTDIR=$D PREFIX=/usr" "" mk install DESTDIR="$D" PREFIX=/usr
mapfile -t cmds < <(.output/patchgate --help | sed -n '/^Commands:/,/^$/{ s/^  \([a-z]\+\) .*/\1/p }' | grep -vx help)
{
	echo "0755 usr/sbin/patchgate"
	echo "0644 usr/share/man/man8/patchgate.8"
	for c in "${cmds[@]}"; do echo "0644 usr/share/man/man8/patchgate-$c.8"; done
	echo "0644 usr/share/man/man5/patchgate-policy.5"
	echo "0644 usr/share/bash-completion/completions/patchgate"
	for u in deploy/systemd/*.service.in; do u=${u##*/}; echo "0644 usr/lib/systemd/system/${u%.in}"; done
	for p in examples/policies/*.ini deploy/systemd/apply-example.conf deploy/systemd/rollout-example.conf; do
		echo "0644 usr/share/doc/patchgate/examples/${p##*/}"
	done
	echo "0644 usr/share/doc/patchgate/README.md"
	for m in docs/*.md; do echo "0644 usr/share/doc/patchgate/${m##*/}"; done
	echo "0644 usr/share/doc/patchgate/schema/patchgate.schema.json"
} | sort >"$T/want"
(cd "$D" && find . \( -type f -o -type l \) -printf '%#m %P\n' | sed 's/^0*\([0-7]\{4\}\) /\1 /' | sort) >"$T/got"
verdict "the installed files are exactly the expected $(wc -l <"$T/want"), with their modes" \
	"$(diff "$T/want" "$T/got" | grep '^[<>]' | xargs)" cmp -s "$T/want" "$T/got"
verdict "the units name the binary in sbindir (/usr/sbin/patchgate)" "" \
	grep -q '^ExecStart=/usr/sbin/patchgate apply' "$D/usr/lib/systemd/system/patchgate-apply@.service"
verdict "and the configuration in sysconfdir (/usr/etc under PREFIX=/usr, GNU default)" "" \
	grep -q '^EnvironmentFile=/usr/etc/patchgate/apply/%i.conf' "$D/usr/lib/systemd/system/patchgate-apply@.service"
verdict "make uninstall DESTDIR=$D PREFIX=/usr" "" mk uninstall DESTDIR="$D" PREFIX=/usr
left=$(cd "$D" && find . \( -type f -o -type l \) -print0 | xargs -0)
verdict "uninstall leaves no file" "$left" test -z "$left"
left=$(cd "$D" && find . -path '*patchgate*' -print0 | xargs -0)
verdict "nor a directory of patchgate's" "$left" test -z "$left"

echo "== make install PREFIX=... (sysconfdir, units verified)"
P=$T/pfx
verdict "make install PREFIX=$P/usr sysconfdir=$P/etc" "" mk install PREFIX="$P/usr" sysconfdir="$P/etc"
"$P/usr/sbin/patchgate" --version -j >"$T/version.json" 2>&1
verdict "the installed binary runs (--version -j)" "$(cat "$T/version.json")" grep -q '"type":"version"' "$T/version.json"
for c in patchgate "${cmds[@]/#/patchgate-}"; do
	out=$(MANPATH=$P/usr/share/man man -w "$c" 2>&1)
	verdict "man finds $c(8)" "$out" test "$out" = "$P/usr/share/man/man8/$c.8"
done
out=$(MANPATH=$P/usr/share/man man -w 5 patchgate-policy 2>&1)
verdict "man finds patchgate-policy(5)" "$out" test "$out" = "$P/usr/share/man/man5/patchgate-policy.5"
# shellcheck disable=SC2016 # $1 is the inner shell's
verdict "the installed completion loads and completes 'patchgate doc'" "" \
	bash -c '. "$1"; COMP_WORDS=("$2" doc); COMP_CWORD=1; _patchgate; [ "${COMPREPLY[*]}" = doctor ]' \
	_ "$P/usr/share/bash-completion/completions/patchgate" "$P/usr/sbin/patchgate"
U=$P/usr/lib/systemd/system
mkdir -p "$P/etc/patchgate/apply"
cp "$P/usr/share/doc/patchgate/examples/apply-example.conf" "$P/etc/patchgate/apply/demo.conf"
ln -s patchgate-apply@.service "$U/patchgate-apply@demo.service"
mkdir -p "$P/etc/patchgate/rollout"
cp "$P/usr/share/doc/patchgate/examples/rollout-example.conf" "$P/etc/patchgate/rollout/demo.conf"
ln -s patchgate-rollout@.service "$U/patchgate-rollout@demo.service"
units=("$U/patchgate-apply@demo.service" "$U/patchgate-rollout@demo.service")
for u in "$U"/*.service; do
	case $u in *@*) ;; *) units+=("$u") ;; esac
done
out=$(MANPATH=$P/usr/share/man: SYSTEMD_UNIT_PATH=$U: systemd-analyze verify "${units[@]}" 2>&1)
rc=$?
verdict "systemd-analyze verify passes ${units[*]##*/} (exit 0, no warning)" "$out" test "$rc" -eq 0 -a -z "$out"
# the check can fail: a unit with a typo is refused
sed 's/^Type=oneshot/Type=oneshto/' "$U/patchgate-doctor.service" >"$U/patchgate-typo.service"
out=$(MANPATH=$P/usr/share/man: SYSTEMD_UNIT_PATH=$U: systemd-analyze verify "$U/patchgate-typo.service" 2>&1)
verdict "and it reports a unit with a typo (the check can fail)" "" test -n "$out"
rm -f "$U/patchgate-typo.service" "$U/patchgate-apply@demo.service" "$U/patchgate-rollout@demo.service"
verdict "make uninstall PREFIX=$P/usr" "" mk uninstall PREFIX="$P/usr" sysconfdir="$P/etc"
left=$(cd "$P/usr" && find . \( -type f -o -type l \) -print0 | xargs -0)
verdict "uninstall leaves no file under the prefix" "$left" test -z "$left"

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
