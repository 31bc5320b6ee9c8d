#!/usr/bin/env bash
# Install the Debian packages that patchgate's build, tests and demo need,
# only those that are missing.  Usage: scripts/deps.sh [build|vm|all]
set -euo pipefail

build_pkgs=(
	make
	gcc
	clang
	llvm
	pkg-config
	libbpf-dev
	bpftool
	libelf-dev
	libdw-dev
	zlib1g-dev
	libzstd-dev
	libcmocka-dev
	libncurses-dev
	libjson-c-dev
	libinih-dev
	python3
)
bench_pkgs=(
	bpftrace
	libbpf-tools
)
vm_pkgs=(
	qemu-system-x86
	busybox-static
	cpio
	gzip
	kmod
	liblzma-dev
	libbz2-dev
)

want=("${build_pkgs[@]}")
case "${1:-all}" in
build) ;;
vm) want+=("${vm_pkgs[@]}") ;;
all) want+=("${bench_pkgs[@]}" "${vm_pkgs[@]}") ;;
*) echo "usage: $0 [build|vm|all]" >&2; exit 1 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
