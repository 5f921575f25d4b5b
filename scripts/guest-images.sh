#!/usr/bin/env bash
# Fetch the Linux test guest: Debian's own kernel and busybox, plus an initramfs.
#
#   scripts/guest-images.sh OUTDIR        (e.g. build/images)
#
# Writes OUTDIR/vmlinuz (the bzImage of linux-image-amd64's kernel),
# OUTDIR/busybox (busybox-static), OUTDIR/initramfs.cpio.gz (vmm/initramfs-init
# as /init, by scripts/mkinitramfs.py) and OUTDIR/VERSION (package versions).
#
# The packages come from the machine's apt sources with `apt-get download`
# (no install, no root needed once the package lists exist) and only the two
# files we need are extracted: the kernel package unpacks to ~400 MB of modules.
#
# Cached: when every output exists this exits at once (only the initramfs is
# rebuilt, without any download, when the init script or the archiver is newer).
set -euo pipefail

die() { echo "guest-images: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
out=$1
here=$(cd "$(dirname "$0")/.." && pwd)
init=$here/vmm/initramfs-init
mkcpio=$here/scripts/mkinitramfs.py

make_initramfs() {
	python3 "$mkcpio" "$out/initramfs.cpio.gz" --init "$init" --busybox "$out/busybox"
}

if [ -s "$out/vmlinuz" ] && [ -s "$out/busybox" ] && [ -s "$out/VERSION" ] &&
	[ -s "$out/initramfs.cpio.gz" ]; then
	if [ "$init" -nt "$out/initramfs.cpio.gz" ] || [ "$mkcpio" -nt "$out/initramfs.cpio.gz" ]; then
		make_initramfs
		echo "guest-images: rebuilt $out/initramfs.cpio.gz"
	fi
	exit 0
fi

command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
	die "needs apt-get and dpkg-deb (a Debian 12 machine); elsewhere, put a bzImage at $out/vmlinuz and a static busybox at $out/busybox, then rerun"
command -v python3 >/dev/null || die "needs python3 (apt-get install python3)"

# As root, apt drops privileges to _apt for downloads, which cannot write into
# our private temporary folder and says so; downloading as root is what we want.
apt=(apt-get -q)
[ "$(id -u)" -eq 0 ] && apt+=(-o APT::Sandbox::User=root)

# A fresh machine (e.g. a container) has sources but no package lists yet.
if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
	echo "guest-images: no package lists for linux-image-amd64, running apt-get update"
	if ! "${apt[@]}" update >/dev/null; then
		[ "$(id -u)" -eq 0 ] || die "no apt package lists; run 'sudo apt-get update' once, then rerun"
		die "apt-get update failed: this needs network access to a Debian 12 (bookworm) mirror (deb.debian.org)"
	fi
	apt-cache show linux-image-amd64 >/dev/null 2>&1 ||
		die "apt knows no linux-image-amd64: add a Debian 12 (bookworm) main source to /etc/apt/sources.list"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

download() {
	(cd "$tmp" && "${apt[@]}" download "$@" >"$tmp/apt.log" 2>&1) || {
		sed 's/^/  /' "$tmp/apt.log" >&2
		die "apt-get download $* failed: this needs network access to the Debian mirror in /etc/apt/sources.list (deb.debian.org)"
	}
}

echo "guest-images: downloading linux-image-amd64 and busybox-static"
download linux-image-amd64 busybox-static
meta=$(ls "$tmp"/linux-image-amd64_*.deb)
bbdeb=$(ls "$tmp"/busybox-static_*.deb)

# The meta package depends on the versioned image, e.g.
# "linux-image-6.1.0-56-amd64 (= 6.1.192-2)": fetch exactly that one.
dep=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' | grep -m1 -o 'linux-image-[0-9][^ ]*') ||
	die "cannot find the versioned kernel in linux-image-amd64's Depends: $(dpkg-deb -f "$meta" Depends)"
depver=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' | grep -m1 "$dep" | sed -n 's/.*(= *\([^)]*\)).*/\1/p')
echo "guest-images: downloading $dep ${depver:+$depver }(about 70 MB)"
download "$dep${depver:+=$depver}"
kdeb=$(ls "$tmp/${dep}"_*.deb)

# Extract only what we need; the kernel's tar stream is read to its end
# either way, but nothing else touches the disk.
mkdir "$tmp/x"
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$tmp/x" --wildcards './boot/vmlinuz-*'
dpkg-deb --fsys-tarfile "$bbdeb" | tar -x -C "$tmp/x" ./bin/busybox
kernel=$(ls "$tmp"/x/boot/vmlinuz-* | head -n1)
[ -s "$kernel" ] || die "no /boot/vmlinuz-* in $kdeb"

mkdir -p "$out"
cp "$kernel" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
cp "$tmp/x/bin/busybox" "$out/busybox.tmp" && chmod 755 "$out/busybox.tmp" &&
	mv "$out/busybox.tmp" "$out/busybox"
make_initramfs
{
	echo "kernel $(basename "$kernel")"
	echo "$(dpkg-deb -f "$kdeb" Package) $(dpkg-deb -f "$kdeb" Version)"
	echo "$(dpkg-deb -f "$bbdeb" Package) $(dpkg-deb -f "$bbdeb" Version)"
} >"$out/VERSION.tmp"
mv "$out/VERSION.tmp" "$out/VERSION"
echo "guest-images: $(head -n1 "$out/VERSION"), busybox $(dpkg-deb -f "$bbdeb" Version) in $out"
