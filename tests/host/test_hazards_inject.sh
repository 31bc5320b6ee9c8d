#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Host tests of what ulp syscall injection must never do (issue 10):
# map a file other than the one validated (a chroot, a mount namespace
# with another file at the patch's path), write outside memory of its own
# (a thread on a 4 KiB fiber stack with canaries around it), or inject a
# syscall that the target's seccomp filter kills or traps (or that strict
# mode forbids).  Targets: tests/host/ulp/ulp-hostile.c.  Needs root.
source "$(dirname "$0")/lib.sh"
FX=$ROOT/.output/ulp-tests
[ -n "${PG_NO_BUILD:-}" ] || make -s -C "$ROOT" -j2 .output/patchgate >/dev/null ||
	{ echo "hazards-inject: 0 passed, 1 failed"; exit 1; }
make -s -C "$ROOT/tests/host/ulp" OUT="$FX" >/dev/null || { echo "hazards-inject: 0 passed, 1 failed"; exit 1; }
SD=$TMP/state
OLD=3 NEW=1000003	# pg_compute(1): unpatched, good-any.so (foreign.so: 669)

# shellcheck source=tests/host/hostile_lib.sh
source "$(dirname "$0")/hostile_lib.sh"
jfield() { python3 -c 'import json,sys
for l in sys.stdin:
    o=json.loads(l) if l.startswith("{") else {}
    if o.get("type")==sys.argv[1]: print(o.get(sys.argv[2])); break' "$1" "$2"; }
# the first mapping of the patch in pid $1, as a /proc/PID/map_files path
map_file() {
	local r
	r=$(grep -m1 -e "patchgate:" -e "$P" "/proc/$1/maps" | awk '{print $1}')
	[ -n "$r" ] || { echo /nonexistent; return; }
	printf '/proc/%s/map_files/%x-%x' "$1" "0x${r%-*}" "0x${r#*-}"
}

# the patch lives at $P; the target's own view of $P holds foreign.so instead
P=$TMP/patch/good.so
mkdir -p "$TMP/patch" && cp "$FX/good-any.so" "$P"

echo "-- chroot: the target's root holds another file at the patch's path"
R=$TMP/root
mkdir -p "$R$(dirname "$P")"
cp "$FX/ulp-hostile" "$R/"
for l in $(ldd "$FX/ulp-hostile" | grep -o '/[^ ]*'); do mkdir -p "$R$(dirname "$l")"; cp "$l" "$R$l"; done
cp "$FX/foreign.so" "$R$P"
start chroot chroot "$R" /ulp-hostile plain || bad "chroot: target starts"
out=$(pg apply --pid "$T" "$P" --no-gate -j 2>&1); rc=$?
check "chroot: a chrooted target's function resolves (apply exits 0: $out)" [ $rc -eq 0 ]
check "chroot: a different file at the patch path in the target's root is not mapped; the validated bytes are" \
	[ "$(ask chroot value)" = "value $NEW" ]
check "chroot: the mapping holds the validated file byte for byte" cmp -s "$(map_file "$T")" "$P"
st=$(pg status --pid "$T" -j)
check "chroot: status finds the patch applied and consistent" \
	[ "$(jfield patch actual <<<"$st")/$(jfield patch consistent <<<"$st")" = applied/True ]
out=$(pg revert --pid "$T" -j 2>&1); rc=$?
check "chroot: revert exits 0, old behaviour back, the memfd mapping gone" \
	[ "$rc/$(ask chroot value)" = "0/value $OLD" ]
check "chroot: nothing of ours left after revert (mapping, journal entry)" nothing_left "$T"

echo "-- mount namespace: another file bind-mounted over the patch's path"
start mntns unshare -m --propagation private sh -c \
	"mount --bind '$FX/foreign.so' '$P' && exec '$FX/ulp-hostile' plain" || bad "mntns: target starts"
out=$(pg apply --pid "$T" "$P" --no-gate -j 2>&1); rc=$?
check "mount namespace: apply exits 0 ($out)" [ $rc -eq 0 ]
check "mount namespace: the file bind-mounted over the patch path is not mapped; the validated bytes are" \
	[ "$(ask mntns value)" = "value $NEW" ]
check "mount namespace: the mapping holds the validated file byte for byte" cmp -s "$(map_file "$T")" "$P"
out=$(pg revert --pid "$T" -j 2>&1); rc=$?
check "mount namespace: revert exits 0, old behaviour back, nothing of ours left" \
	[ "$rc/$(ask mntns value)" = "0/value $OLD" ]
check "mount namespace: nothing of ours left after revert" nothing_left "$T"

echo "-- fiber stack: the injected thread runs on 4 KiB of malloc'ed memory, canaries around it"
start fiber "$FX/ulp-hostile" fiber || bad "fiber: target starts"
maps_before=$(wc -l <"/proc/$T/maps")
out=$(pg apply --pid "$T" "$P" --no-gate -j 2>&1); rc=$?
check "fiber stack: apply exits 0 and the patch runs ($out)" [ "$rc/$(ask fiber value)" = "0/value $NEW" ]
check "fiber stack: no byte outside the stack/patchgate's mapping changes (apply)" \
	[ "$(ask fiber canary)" = "canary ok" ]
out=$(pg revert --pid "$T" -j 2>&1); rc=$?
check "fiber stack: revert exits 0, old behaviour back" [ "$rc/$(ask fiber value)" = "0/value $OLD" ]
check "fiber stack: no byte outside the stack/patchgate's mapping changes (revert)" \
	[ "$(ask fiber canary)" = "canary ok" ]
check "fiber stack: no mapping of patchgate's is left behind" [ "$(wc -l <"/proc/$T/maps")" = "$maps_before" ]

echo "-- seccomp"
# refused MODE WHY-REGEX NAME: apply exits 1 with WHY, the target lives and answers, nothing mapped
refused() {
	local out rc t0 dt
	start "${1//-/_}" "$FX/ulp-hostile" "$1" || bad "$1: target starts"
	t0=$(date +%s)
	out=$(timeout 30 "$PG" apply --state-dir "$SD" --pid "$T" "$P" --no-gate 2>&1); rc=$?
	dt=$(($(date +%s) - t0))
	check "$3 ($out)" [ $rc -eq 1 ]
	check "$1: the message names seccomp" grep -Eq "$2" <<<"$out"
	check "$1: no hang (${dt} s)" [ "$dt" -lt 10 ]
	check "$1: the target is alive and unpatched" [ "$(ask "${1//-/_}" value)" = "value $OLD" ]
	check "$1: nothing mapped, nothing journalled" nothing_left "$T"
}
refused seccomp-kill-mmap "seccomp filter .* kills the process .* mmap" \
	"seccomp: a filter that kills mmap -> refused exit 1, target alive, nothing mapped"
refused seccomp-trap-exec-mmap "seccomp filter .* traps it .* mmap" \
	"seccomp: a filter that traps mmap with PROT_EXEC (an argument) -> refused exit 1"
refused seccomp-strict "seccomp strict mode" "seccomp strict -> refused exit 1, no hang"
start trap_openat "$FX/ulp-hostile" seccomp-trap-openat || bad "trap-openat: target starts"
out=$(timeout 30 "$PG" apply --state-dir "$SD" --pid "$T" "$P" --no-gate -j 2>&1); rc=$?
check "seccomp: a filter that traps openat does not stop a patch that opens no path (exit 0: $out)" \
	[ "$rc/$(ask trap_openat value)" = "0/value $NEW" ]

finish hazards-inject
