#!/usr/bin/env bash
# VM rig: boots Debian's cloud kernel under QEMU (TCG) with a busybox
# initramfs, runs tests/vm/scenarios/*.sh inside the guest and checks the
# "PGVM RESULT <scenario> PASS|FAIL <detail>" lines it prints on the serial
# console.  Fails on any FAIL, any missing scenario, or a timeout.
#
#   tests/vm/run.sh [SCENARIO...]     (default: every scenario)
#   PGVM_TIMEOUT=600 PGVM_KEEP=1 tests/vm/run.sh
#   PGVM_OUT=/tmp/myvm tests/vm/run.sh    (a private build/boot directory)
#   PGVM_SYSCALL_ROUNDS=100 PGVM_SYSCALL_PAUSE_US=0 tests/vm/run.sh 56-gate-syscall-revert
#   PGVM_TCG=thread=multi tests/vm/run.sh   (QEMU's accelerator options)
#   PGVM_CPU=max,-cx16 tests/vm/run.sh      (QEMU's CPU model; default max)
#
# Needs root for apt-get (headers, image download); run via `make check-vm`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=$ROOT/.cache/vm
OUT=${PGVM_OUT:-$ROOT/.output/vm}
TIMEOUT=${PGVM_TIMEOUT:-1200}

die() { echo "vm: error: $*" >&2; echo "vm: 0 passed, 1 failed"; exit 1; }
log() { echo "vm: $*"; }

mkdir -p "$CACHE" "$OUT"
# one guest at a time: runs share .output/vm (modules, initramfs, console log)
exec 9>"$OUT/.lock"
if ! flock -n 9; then
	log "another VM run holds $OUT/.lock; waiting"
	flock 9
fi

# ---- kernel, headers, modules ---------------------------------------------
# PGVM_KERNEL: the Debian suite whose cloud kernel the guest boots.
#  bookworm (default): the version the host's linux-image-cloud-amd64 depends
#    on, its headers installed on the host in /usr/src;
#  trixie, bookworm-backports: that suite's cloud kernel, its headers and
#    compiler in a chroot of the suite (scripts/vm-chroot.sh, made once).
suite=${PGVM_KERNEL:-bookworm}
case $suite in
bookworm)
	kver=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null \
		| sed -n 's/^ *Depends: linux-image-\(.*-cloud-amd64\)$/\1/p' | head -n1)
	[ -n "$kver" ] || die "cannot resolve the cloud kernel version (apt-cache depends linux-image-cloud-amd64); run 'apt-get update' first"
	kpkg=$(apt-cache show --no-all-versions "linux-image-$kver" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)

	vmlinuz=$CACHE/vmlinuz-$kver
	if [ ! -s "$vmlinuz" ]; then
		deb=$(find "$CACHE" -maxdepth 1 -name "linux-image-${kver}_*.deb" | sort | head -n1 || true)
		if [ -z "$deb" ]; then
			(cd "$CACHE" && apt-get download "linux-image-$kver" >/dev/null 2>"$OUT/download.err") ||
				die "apt-get download linux-image-$kver failed: $(tail -n1 "$OUT/download.err")"
			deb=$(find "$CACHE" -maxdepth 1 -name "linux-image-${kver}_*.deb" | sort | head -n1)
		fi
		rm -rf "$CACHE/x"
		dpkg-deb -x "$deb" "$CACHE/x" || die "cannot unpack $deb"
		cp "$CACHE/x/boot/vmlinuz-$kver" "$vmlinuz.tmp" && mv "$vmlinuz.tmp" "$vmlinuz"
		rm -rf "$CACHE/x"
	fi

	kdir=/usr/src/linux-headers-$kver
	if [ ! -d "$kdir" ]; then
		[ "$(id -u)" -eq 0 ] || die "missing $kdir; run as root or: apt-get install linux-headers-$kver"
		log "installing linux-headers-$kver"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			"linux-headers-$kver" >"$OUT/headers.log" 2>&1 ||
			die "apt-get install linux-headers-$kver failed (see $OUT/headers.log)"
	fi
	build_modules() { make -s -C "$kdir" M="$1" modules; }
	;;
trixie | bookworm-backports)
	kinfo=$("$ROOT/scripts/vm-chroot.sh" prepare "$suite" 2>"$OUT/chroot.log") ||
		die "no $suite kernel: $(tail -n1 "$OUT/chroot.log") (see $OUT/chroot.log)"
	read -r kver kpkg <<<"$kinfo"
	vmlinuz=$CACHE/vmlinuz-$kver
	build_modules() { "$ROOT/scripts/vm-chroot.sh" make "$suite" "$kver" "$1"; }
	;;
*) die "PGVM_KERNEL=$suite: want bookworm, trixie or bookworm-backports" ;;
esac
log "guest kernel $kver (package ${kpkg:-?}, $suite)"

moddir=$OUT/modules
rm -rf "$moddir" && mkdir -p "$moddir"
cp "$ROOT"/tests/vm/modules/Kbuild "$ROOT"/tests/vm/modules/*.[ch] "$moddir/"
build_modules "$moddir" >"$OUT/modules.log" 2>&1 ||
	{ cat "$OUT/modules.log" >&2; die "test modules failed to build"; }
# Bad input: pgvm_good with a vermagic from another kernel (same length,
# so the ELF layout is untouched).
if [ "${kver:0:1}" = 9 ]; then fake=8${kver:1}; else fake=9${kver:1}; fi
perl -pe "s/vermagic=\Q$kver\E /vermagic=$fake /g" "$moddir/pgvm_good.ko" >"$moddir/pgvm_badmagic.ko"
cmp -s "$moddir/pgvm_good.ko" "$moddir/pgvm_badmagic.ko" && die "could not forge a vermagic mismatch"

# ---- patchgate for the guest ---------------------------------------------
make -C "$ROOT" -s -j2 static >"$OUT/static.log" 2>&1 ||
	{ cat "$OUT/static.log" >&2; die "make static failed"; }

# ---- initramfs ------------------------------------------------------------
busybox=/bin/busybox
[ -x "$busybox" ] || die "busybox-static is not installed (scripts/deps.sh vm)"

scen=("$@")
if [ ${#scen[@]} -eq 0 ]; then
	for f in "$ROOT"/tests/vm/scenarios/[0-9]*.sh; do
		scen+=("$(basename "$f" .sh)")
	done
fi
for s in "${scen[@]}"; do
	[ -f "$ROOT/tests/vm/scenarios/$s.sh" ] || die "no such scenario: $s"
done

rd=$OUT/initramfs
rm -rf "$rd" && mkdir -p "$rd"/{bin,sbin,proc,sys,dev,tmp,run,pg/modules,pg/scenarios,pg/bench}
cp "$busybox" "$rd/bin/busybox"
cp "$ROOT"/tests/vm/guest/init "$rd/init"
cp "$ROOT"/tests/vm/guest/lib.sh "$rd/pg/lib.sh"
cp "$ROOT"/tests/vm/guest/pgjson "$rd/pg/pgjson"
cp "$ROOT"/.output/static/patchgate "$rd/bin/patchgate"
# a getpid loader for the syscall scenarios (static: the guest has no libc)
cc -static -O2 -Wall -o "$rd/bin/pgvm-getpid" "$ROOT"/tests/vm/guest/getpid_loop.c ||
	die "cannot build the guest's getpid loader"
cp "$moddir"/*.ko "$rd/pg/modules/"
for s in "${scen[@]}"; do
	cp "$ROOT/tests/vm/scenarios/$s.sh" "$rd/pg/scenarios/"
done
printf '%s\n' "${scen[@]}" >"$rd/pg/scenarios.list"
echo "$kver" >"$rd/pg/kver"
# knobs for the scenarios (sourced by lib.sh): 56-gate-syscall-revert's rounds
# and its loaders' pause every 1000 getpid calls (make check: 20 rounds, 1 ms;
# make check-vm-syscall: 100 rounds, loaders that never pause)
{
	echo "PGVM_SYSCALL_ROUNDS=${PGVM_SYSCALL_ROUNDS:-20}"
	echo "PGVM_SYSCALL_PAUSE_US=${PGVM_SYSCALL_PAUSE_US:-1000}"
	# every scenario's time limit raised to at least this (the guest's init)
	[ -z "${PGVM_SCEN_TIMEOUT:-}" ] || echo "PGVM_SCEN_TIMEOUT=$PGVM_SCEN_TIMEOUT"
} >"$rd/pg/env"
# a benchmark (bench/klp_probe_overhead/run.sh): guest.sh and its helpers, run after the scenarios
if [ -n "${PGVM_BENCH_DIR:-}" ]; then
	cp -r "$PGVM_BENCH_DIR"/. "$rd/pg/bench/"
fi
chmod +x "$rd/init" "$rd/pg/pgjson" "$rd"/pg/scenarios/*.sh
(cd "$rd" && find . | cpio -o -H newc --quiet | gzip -1 >"$OUT/initramfs.gz")

# ---- boot -----------------------------------------------------------------
console=$OUT/console.log
log "booting (${#scen[@]} scenarios, timeout ${TIMEOUT}s; console in ${console#"$ROOT"/})"
start=$(date +%s)
set +e
# One host thread runs both vCPUs (thread=single): with a thread per vCPU
# (QEMU 7.2's default), a vCPU can go on running a stale translation of code
# that another vCPU has just rewritten.  A getpid livepatch put in by plain
# insmod under two getpid loaders then wedged the guest in an int3 loop at
# the function's entry (soft lockups, 2 runs of 2); with thread=single, 10
# rounds ran clean (docs/kernel.md).
tcg=${PGVM_TCG-thread=single}
timeout --foreground "$TIMEOUT" qemu-system-x86_64 -accel "tcg${tcg:+,$tcg}" -cpu "${PGVM_CPU:-max}" -smp 2 -m 1G \
	-nographic -no-reboot -nic none \
	-kernel "$vmlinuz" -initrd "$OUT/initramfs.gz" \
	-append "console=ttyS0 panic=-1 quiet loglevel=${PGVM_LOGLEVEL:-5} rdinit=/init" \
	</dev/null >"$console" 2>&1
qrc=$?
set -e
log "guest ran $(( $(date +%s) - start ))s (qemu exit $qrc)"
tr -d '\r' <"$console" >"$console.txt"

pass=0 fail=0
for s in "${scen[@]}"; do
	line=$(grep -a "^PGVM RESULT $s " "$console.txt" | tail -n1 || true)
	case "$line" in
	"PGVM RESULT $s PASS"*) pass=$((pass + 1)); echo "  PASS $s ${line#"PGVM RESULT $s PASS"}" ;;
	"PGVM RESULT $s FAIL"*) fail=$((fail + 1)); echo "  FAIL $s ${line#"PGVM RESULT $s FAIL"}" ;;
	*) fail=$((fail + 1)); echo "  FAIL $s (no result: crash or timeout)" ;;
	esac
done
# every JSON record of the guest ("PGVM JSON <scenario> <record>") must match
# docs/schema/patchgate.schema.json; a scenario's records go to json/<scenario>.jsonl
jdir=$OUT/json
rm -rf "$jdir" && mkdir -p "$jdir"
for s in "${scen[@]}"; do
	grep -a "^PGVM JSON $s " "$console.txt" | cut -d' ' -f4- >"$jdir/$s.jsonl" || true
done
validate=("$ROOT/scripts/validate-json.py")
# a guest that printed records on its console but none as PGVM JSON: the hook is broken
grep -qa '^{"type":' "$console.txt" && validate+=(--nonempty)
if ! "$ROOT/scripts/validate-json.py" --self-test >/dev/null; then
	fail=$((fail + 1)); echo "  FAIL json: the validator's self-test failed"
elif "${validate[@]}" "$jdir"/*.jsonl; then
	pass=$((pass + 1)); echo "  PASS json: every record matches the schema"
else
	fail=$((fail + 1)); echo "  FAIL json: the records above do not match the schema (in ${jdir#"$ROOT"/})"
fi
grep -a '^PGVM BENCH ' "$console.txt" | sed 's/^PGVM BENCH /  bench: /' || true
if [ "$qrc" -eq 124 ]; then
	echo "vm: guest timed out after ${TIMEOUT}s"
	fail=$((fail + 1))
fi
if [ "$fail" -ne 0 ]; then
	echo "vm: --- failing scenarios' guest output ---"
	awk '/^PGVM BEGIN /{buf=""; name=$3} {buf=buf $0 "\n"} /^PGVM RESULT .* FAIL/{printf "%s", buf} ' "$console.txt" | tail -n 200
	[ "$qrc" -eq 124 ] && tail -n 40 "$console.txt"
fi
echo "vm: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
