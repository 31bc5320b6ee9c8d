#!/usr/bin/env bash
# Build the Debian package with the standard tools, from a copy of the work
# tree (tracked and new files, not .output/), so that dpkg-buildpackage's
# outputs (written beside the source) land in OUTDIR:
#   OUTDIR/patchgate_VERSION_amd64.deb, .buildinfo, .changes, lintian.txt
# Then lintian runs on the .changes; any error fails the build.
# Usage: scripts/build-deb.sh OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: $0 OUTDIR}
version=$(dpkg-parsechangelog -S Version)
src=$out/patchgate-$version

rm -rf "$out"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
	tar --null -T - -cf - | tar -xf - -C "$src"
echo "deb: dpkg-buildpackage -us -uc -b in $src (log: $out/build.log)"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -30 "$out/build.log"
	echo "deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
fi
rm -rf "$src"
ls "$out"/*.deb
changes=$(ls "$out"/patchgate_*.changes)
rc=0
lintian --fail-on error "$changes" >"$out/lintian.txt" 2>&1 || rc=$?
grep -v 'running with root privileges' "$out/lintian.txt" | sed 's/^/  lintian: /' || true
echo "deb: lintian: $(grep -c '^E:' "$out/lintian.txt" || true) errors, $(grep -c '^W:' "$out/lintian.txt" || true) warnings, $(grep -c '^I:' "$out/lintian.txt" || true) notes"
exit $rc
