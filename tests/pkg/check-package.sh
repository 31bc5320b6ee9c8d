#!/usr/bin/env bash
# The Debian package in a clean system, run by `make check-package` after
# `make deb`: debootstrap a minimal Debian of this machine's release (the
# chroot is new each run; the debootstrapped tree is cached as a tarball under
# .cache/pkg/), with the mirror configuration this machine's apt uses, read
# from /etc/apt/sources.list and /etc/apt/sources.list.d at run time; then
#   apt-get install ./patchgate_*.deb (and man-db, systemd, bash-completion)
#   patchgate --version; man patchgate; systemd-analyze verify the units;
#   the bash completion; apt-get purge leaves nothing.
# Usage: tests/pkg/check-package.sh DEBDIR   (root)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
debdir=${1:?usage: $0 DEBDIR}
# shellcheck source=tests/pkg/verdict.sh
source "tests/pkg/verdict.sh"
if [ "$(id -u)" -ne 0 ]; then
	echo "check-package: needs root (debootstrap, chroot)" >&2
	exit 1
fi
deb=$(find "$debdir" -maxdepth 1 -name 'patchgate_*.deb' | head -1)
[ -n "$deb" ] || { echo "check-package: no patchgate_*.deb in $debdir (make deb)" >&2; exit 1; }
. /etc/os-release
suite=$VERSION_CODENAME
start=$(date +%s)

# the host's apt sources, deb822 (*.sources) and one-line (*.list) alike:
# "URI SUITE COMPONENT..." for every enabled "deb" entry
apt_sources() {
	python3 - /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources <<'PY'
import os, sys
for path in sys.argv[1:]:
    if not os.path.isfile(path):
        continue
    text = open(path).read()
    if path.endswith('.sources'):
        for stanza in text.split('\n\n'):
            f = {}
            for line in stanza.splitlines():
                if line.startswith('#') or ':' not in line:
                    continue
                k, v = line.split(':', 1)
                f[k.strip().lower()] = v.split()
            if 'deb' not in f.get('types', []) or f.get('enabled', ['yes'])[0] == 'no':
                continue
            for uri in f.get('uris', []):
                for s in f.get('suites', []):
                    print(uri, s, *f.get('components', []))
    else:
        for line in text.splitlines():
            w = line.split('#', 1)[0].split()
            if len(w) >= 3 and w[0] == 'deb':
                w = [x for x in w[1:] if not x.startswith('[')]  # options [arch=...]
                print(*w)
PY
}
mapfile -t sources < <(apt_sources)
mirror=
for s in "${sources[@]}"; do
	read -r uri su _ <<<"$s"
	if [ "$su" = "$suite" ]; then mirror=$uri; break; fi
done
verdict "this machine's apt has a '$suite' source to debootstrap from" "${sources[*]}" test -n "$mirror"
[ -n "$mirror" ] || { echo "package: $pass passed, $fail failed"; exit 1; }

CH=$(mktemp -d /tmp/pg-chroot.XXXXXX)
cleanup() {
	local m
	for m in dev/pts dev proc sys; do
		mountpoint -q "$CH/$m" && umount -l "$CH/$m"
	done
	rm -rf --one-file-system "$CH"
}
trap cleanup EXIT

echo "== a clean $suite chroot"
cache=.cache/pkg/$suite-minbase.tar
if [ ! -s "$cache" ]; then
	mkdir -p "$(dirname "$cache")"
	t0=$(date +%s)
	if debootstrap --variant=minbase "$suite" "$CH" "$mirror" >"$CH.log" 2>&1; then
		tar -C "$CH" -cf "$cache.tmp" . && mv "$cache.tmp" "$cache"
		verdict "debootstrap --variant=minbase $suite ($(($(date +%s) - t0)) s, cached in $cache)" "" true
	else
		tail -20 "$CH.log"
		verdict "debootstrap --variant=minbase $suite" "see above" false
		rm -f "$CH.log"
		echo "package: $pass passed, $fail failed"
		exit 1
	fi
	rm -f "$CH.log"
else
	tar -C "$CH" -xf "$cache"
	verdict "a fresh chroot from the debootstrapped $suite in $cache" "" test -x "$CH/usr/bin/apt-get"
fi
# apt inside: the same sources as this machine's (copied, never written here)
rm -f "$CH/etc/apt/sources.list" "$CH"/etc/apt/sources.list.d/*
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && cp "$f" "$CH$f"
done
cp /etc/resolv.conf "$CH/etc/resolv.conf" 2>/dev/null
mount -t proc proc "$CH/proc"
mount -t sysfs sysfs "$CH/sys"
mount --bind /dev "$CH/dev"
mount --bind /dev/pts "$CH/dev/pts"
in_chroot() { chroot "$CH" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
	DEBIAN_FRONTEND=noninteractive "$@"; }

echo "== apt-get install ./$(basename "$deb")"
cp "$deb" "$CH/tmp/"
t0=$(date +%s)
in_chroot apt-get update -qq >"$CH/tmp/apt.log" 2>&1
in_chroot sh -c "cd /tmp && apt-get install -y -q --no-install-recommends ./$(basename "$deb") man-db systemd bash-completion" \
	>>"$CH/tmp/apt.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -20 "$CH/tmp/apt.log"
verdict "apt-get install ./$(basename "$deb") in the chroot ($(($(date +%s) - t0)) s, with its dependencies)" "" test $rc -eq 0
# shellcheck disable=SC2016 # dpkg-query's own ${Status}
st=$(in_chroot dpkg-query -W -f='${Status}' patchgate 2>&1)
verdict "dpkg says patchgate is installed" "$st" test "$st" = "install ok installed"
out=$(in_chroot patchgate --version 2>&1)
rc=$?
printf '    %s\n' "${out//$'\n'/$'\n    '}"
verdict "patchgate --version runs (exit 0) and names the package's version" "$out" \
	test $rc -eq 0 -a -n "$(echo "$out" | grep -x "patchgate $(dpkg-deb -f "$deb" Version)")"
out=$(in_chroot patchgate --version -j 2>&1)
verdict "patchgate --version -j matches the schema" "$out" \
	scripts/validate-json.py <(echo "$out")
out=$(in_chroot sh -c 'MANPAGER=cat MANWIDTH=80 man patchgate 2>&1')
verdict "man patchgate shows PATCHGATE(8)" "$(echo "$out" | head -3)" \
	test -n "$(echo "$out" | head -1 | grep 'PATCHGATE(8)')"
for p in "8 patchgate-apply" "8 patchgate-doctor" "5 patchgate-policy"; do
	out=$(in_chroot sh -c "MANPAGER=cat MANWIDTH=80 man $p 2>&1")
	verdict "man $p renders" "$(echo "$out" | head -3)" test -n "$(echo "$out" | grep '^NAME')"
done
mkdir -p "$CH/etc/patchgate/apply"
cp "$CH/usr/share/doc/patchgate/examples/apply-example.conf" "$CH/etc/patchgate/apply/demo.conf"
mkdir -p "$CH/etc/patchgate/rollout"
cp "$CH/usr/share/doc/patchgate/examples/rollout-example.conf" "$CH/etc/patchgate/rollout/demo.conf"
out=$(in_chroot systemd-analyze verify /lib/systemd/system/patchgate-apply@demo.service \
	/lib/systemd/system/patchgate-rollout@demo.service /lib/systemd/system/patchgate-doctor.service 2>&1)
rc=$?
verdict "systemd-analyze verify patchgate-apply@demo.service patchgate-rollout@demo.service patchgate-doctor.service (exit 0, no warning)" \
	"$out" test $rc -eq 0 -a -z "$out"
# shellcheck disable=SC2016 # the chroot's bash expands them
out=$(in_chroot bash -c '. /usr/share/bash-completion/bash_completion
	_completion_loader patchgate
	COMP_WORDS=(patchgate doc); COMP_CWORD=1; COMP_LINE="patchgate doc"; COMP_POINT=13
	_patchgate; echo "${COMPREPLY[*]}"' 2>&1)
verdict "bash-completion loads patchgate's completion on demand ('patchgate doc' -> doctor)" "$out" \
	test "$out" = doctor
in_chroot patchgate doctor --process -j >"$CH/tmp/doctor.json" 2>&1
verdict "patchgate doctor -j in the chroot prints records of the schema" "" \
	scripts/validate-json.py --nonempty "$CH/tmp/doctor.json"

echo "== apt-get purge"
in_chroot apt-get purge -y -q patchgate >>"$CH/tmp/apt.log" 2>&1
rc=$?
left=$(cd "$CH" && find usr/sbin/patchgate usr/share/doc/patchgate usr/share/man/man8/patchgate.8.gz \
	lib/systemd/system/patchgate-apply@.service usr/share/bash-completion/completions/patchgate \
	-print0 2>/dev/null | xargs -0)
verdict "apt-get purge patchgate removes its files" "$left" test $rc -eq 0 -a -z "$left"

echo "package: $pass passed, $fail failed ($(($(date +%s) - start)) s)"
[ "$fail" -eq 0 ]
