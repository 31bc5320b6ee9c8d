#!/usr/bin/env bash
# The cloud kernel of another Debian suite for the VM rig (tests/vm/run.sh,
# PGVM_KERNEL=SUITE).  A minimal chroot of the suite, made once with
# debootstrap in .cache/vm/chroot-SUITE, holds that suite's kernel image,
# headers and compiler (trixie's headers want gcc-14 and a newer libc than
# the host's), so the test modules build with the tools the kernel was built
# with and the host's own apt state and packages are untouched.  The
# archive is the one the host's apt configuration names for its own release.
#
#   scripts/vm-chroot.sh prepare SUITE          print "KVER PACKAGE-VERSION";
#                                               leaves .cache/vm/vmlinuz-KVER
#   scripts/vm-chroot.sh make SUITE KVER DIR    build the modules in DIR (its
#                                               Kbuild) against KVER's headers
#
# SUITE: trixie, bookworm-backports.  Needs root and debootstrap.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/.cache/vm

die() { echo "vm-chroot: error: $*" >&2; exit 1; }

[ $# -ge 2 ] || die "usage: $0 prepare SUITE | make SUITE KVER DIR"
cmd=$1 suite=$2
case $suite in
trixie) release=trixie target=() ;;
bookworm-backports) release=bookworm target=(-t bookworm-backports) ;;
*) die "unknown suite $suite (trixie, bookworm-backports)" ;;
esac
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"
chr=$CACHE/chroot-$suite
mkdir -p "$CACHE"

# in_chroot CMD...: CMD inside the chroot, with /dev and /proc mounted in a
# private mount namespace (the mounts go away with it)
in_chroot() {
	# shellcheck disable=SC2016 # $1 and $@ are the inner shell's
	unshare -m -- sh -c 'mount --bind /dev "$1/dev" && mount -t proc proc "$1/proc" &&
		shift && exec chroot "$@"' sh "$chr" "$chr" \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C \
		DEBIAN_FRONTEND=noninteractive "$@"
}

# the Debian archive the host's apt configuration uses for the host's release
archive() {
	local host_release
	host_release=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	# shellcheck disable=SC2016 # apt's format fields, not the shell's
	apt-get indextargets --format '$(REPO_URI) $(RELEASE)' |
		awk -v r="$host_release" '$2 == r { print $1; exit }'
}

prepare() {
	if [ ! -x "$chr/usr/bin/apt-get" ]; then
		command -v debootstrap >/dev/null || die "debootstrap is not installed (scripts/deps.sh matrix)"
		local mirror
		mirror=$(archive)
		[ -n "$mirror" ] || die "no Debian archive in the host's apt configuration (apt-get indextargets)"
		echo "vm-chroot: debootstrap $release into ${chr#"$ROOT"/}" >&2
		rm -rf "$chr.tmp"
		debootstrap --variant=minbase --include=make "$release" "$chr.tmp" "$mirror" >&2 ||
			die "debootstrap $release failed (see $chr.tmp/debootstrap/debootstrap.log)"
		if [ "$suite" != "$release" ]; then
			echo "deb $mirror $suite main" >"$chr.tmp/etc/apt/sources.list.d/$suite.list"
		fi
		# no docs or man pages: the chroot only builds modules
		printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-exclude /usr/share/man/*' \
			>"$chr.tmp/etc/dpkg/dpkg.cfg.d/pgvm-nodoc"
		mv "$chr.tmp" "$chr"
	fi
	# the suite's package lists, refreshed once a day
	local stamp=$chr/var/lib/apt/pgvm-updated
	if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		in_chroot apt-get update -q >&2 || die "apt-get update in the $suite chroot failed"
		touch "$stamp"
	fi
	local kver
	kver=$(in_chroot apt-cache "${target[@]}" depends linux-image-cloud-amd64 |
		sed -n 's/^ *Depends: linux-image-\(.*-cloud-amd64\)$/\1/p' | head -n1)
	[ -n "$kver" ] || die "cannot resolve $suite's cloud kernel (apt-cache depends linux-image-cloud-amd64)"
	if [ ! -s "$chr/boot/vmlinuz-$kver" ] || [ ! -d "$chr/usr/src/linux-headers-$kver" ]; then
		echo "vm-chroot: installing linux-image-$kver and its headers in the $suite chroot" >&2
		in_chroot apt-get install -y -q --no-install-recommends "${target[@]}" \
			"linux-image-$kver" "linux-headers-$kver" >&2 ||
			die "apt-get install linux-headers-$kver in the $suite chroot failed"
		in_chroot apt-get clean
	fi
	if [ ! -s "$CACHE/vmlinuz-$kver" ]; then
		cp "$chr/boot/vmlinuz-$kver" "$CACHE/vmlinuz-$kver.tmp"
		mv "$CACHE/vmlinuz-$kver.tmp" "$CACHE/vmlinuz-$kver"
	fi
	# shellcheck disable=SC2016 # dpkg-query's format field
	echo "$kver $(in_chroot dpkg-query -W -f '${Version}' "linux-image-$kver")"
}

# make KVER DIR: DIR is bound at /mnt/pgvm inside the chroot
build() {
	local kver=$1 dir
	dir=$(cd "$2" && pwd)
	[ -d "$chr/usr/src/linux-headers-$kver" ] || die "no headers for $kver in the $suite chroot (run prepare)"
	mkdir -p "$chr/mnt/pgvm"
	# shellcheck disable=SC2016 # $1..$3 are the inner shell's
	unshare -m -- sh -c 'mount --bind "$1" "$2/mnt/pgvm" && mount --bind /dev "$2/dev" &&
		mount -t proc proc "$2/proc" && exec chroot "$2" env -i PATH=/usr/bin:/bin LC_ALL=C \
		make -s -C "/usr/src/linux-headers-$3" M=/mnt/pgvm modules' sh "$dir" "$chr" "$kver"
}

# one apt run in a chroot at a time; builds share it
exec 8>"$CACHE/chroot-$suite.lock"
case $cmd in
prepare)
	flock 8
	prepare
	;;
make)
	[ $# -eq 4 ] || die "usage: $0 make SUITE KVER DIR"
	flock -s 8
	build "$3" "$4"
	;;
*) die "unknown command $cmd (prepare, make)" ;;
esac
