#!/usr/bin/env bash
# Install the Debian packages the build and tests need, when they are missing.
# As root this runs apt-get; otherwise it prints the exact command and fails.
# When everything is present it is a quick no-op (one dpkg-query).
set -e
host_pkgs="gcc make binutils libcmocka-dev python3"
all_pkgs="$host_pkgs grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools \
qemu-system-x86 ovmf bochs bochsbios vgabios bochs-term valgrind"

iso_pkgs="grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools"
# make bench only: the slab bench's peers (LD_PRELOAD) and callgrind; Xen
# is downloaded by tests/bench/run.py itself (apt-get download).
bench_pkgs="valgrind libmimalloc2.0 libjemalloc2"

case "${1:-all}" in
host) want=$host_pkgs ;;
iso) want=$iso_pkgs ;;
bench) want=$bench_pkgs ;;
*) want=$all_pkgs ;;
esac

missing=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $want 2>/dev/null |
	awk '$1 == "ii" { print $2 }' | sort > /tmp/.hv-deps-have.$$;
	for p in $want; do grep -qx "$p" /tmp/.hv-deps-have.$$ || echo "$p"; done;
	rm -f /tmp/.hv-deps-have.$$)
[ -z "$missing" ] && exit 0

missing=$(echo $missing)
if [ "$(id -u)" -ne 0 ]; then
	echo "Missing Debian packages: $missing" >&2
	echo "Install them with:  sudo apt-get install -y $missing" >&2
	exit 1
fi
echo "Installing missing Debian packages: $missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || true
apt-get install -y -q --no-install-recommends $missing >/dev/null
