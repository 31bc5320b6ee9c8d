#!/usr/bin/env bash
# Install the Debian packages that patchgate's build, tests and demo need,
# only those that are missing.
# Usage: scripts/deps.sh [build|test|lint|plot|pkg|vm|matrix|fleet|all]
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
	libssl-dev
	libmicrohttpd-dev
	python3
	python3-jsonschema
	tmux
	# patchgate report draws with gnuplot; tests/host/test_report.sh loads its page in chromium
	gnuplot-nox
	chromium
)
bench_pkgs=(
	bpftrace
	libbpf-tools
)
# the benchmark figures (bench/plot/draw.sh) and their check
plot_pkgs=(
	gnuplot-nox
	python3
)
# what host tests run besides patchgate: tests/host/test_exporter.sh
test_pkgs=(
	prometheus
	prometheus-node-exporter
	python3-prometheus-client
	curl
)
lint_pkgs=(
	shellcheck
)
# man pages, bash completion, make install, the Debian package and its test
pkg_pkgs=(
	help2man
	pandoc
	groff-base
	man-db
	bash-completion
	systemd
	debhelper
	dpkg-dev
	fakeroot
	lintian
	debootstrap
)
# the Ansible rollout recipe (deploy/ansible) and its test (make check-fleet)
fleet_pkgs=(
	ansible-core
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
test) want+=("${test_pkgs[@]}") ;;
lint) want=("${lint_pkgs[@]}") ;;
plot) want=("${plot_pkgs[@]}") ;;
pkg) want+=("${pkg_pkgs[@]}") ;;
vm) want+=("${vm_pkgs[@]}") ;;
matrix) want+=("${vm_pkgs[@]}" debootstrap) ;;
fleet) want+=("${fleet_pkgs[@]}") ;;
all) want+=("${bench_pkgs[@]}" "${plot_pkgs[@]}" "${test_pkgs[@]}" "${lint_pkgs[@]}" "${pkg_pkgs[@]}"
	"${vm_pkgs[@]}" "${fleet_pkgs[@]}") ;;
*) echo "usage: $0 [build|test|lint|plot|pkg|vm|matrix|fleet|all]" >&2; exit 1 ;;
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
