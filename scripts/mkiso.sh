#!/usr/bin/env bash
# mkiso.sh ELF ISO "CMDLINE" [MODULE[|MODULE_CMDLINE]...]
# A hybrid GRUB rescue image: boots on BIOS (i386-pc, also from a USB stick
# written with dd) and UEFI (x86_64-efi), serial console on COM1. On UEFI,
# GRUB hands over the GOP framebuffer (multiboot2 tag 8) so the hypervisor
# can draw its log on the screen; on BIOS the screen stays in VGA text mode.
#
# The image on the ISO is ELF stripped of its debug sections and symbol
# table (GRUB reads every byte of it at boot: 0.55 MB of the 0.74 MB were
# DWARF); backtraces keep working from the symbol table linked into the
# image itself (.ksyms). `make debug` gives gdb the full ELF.
set -e
elf=$1 iso=$2 cmdline=$3
shift 3
here=$(dirname "$0")
# Without the ISO tools, say which packages bring them (and install them
# when running as root, as `make run` does) instead of "command not found".
if ! command -v grub-mkrescue >/dev/null || ! command -v xorriso >/dev/null ||
	! command -v mformat >/dev/null; then
	echo "mkiso: building the ISO needs grub-mkrescue, xorriso and mtools" >&2
	"$here/deps.sh" iso || exit 1
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/hv-iso.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/boot/grub"
is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }
# put FILE DEST STRIP-OPTION: an ELF file stripped, anything else (a
# compressed kernel from a package, an initrd) copied as it is.
put() {
	if is_elf "$1"; then
		${OBJCOPY:-objcopy} "$3" "$1" "$2"
	else
		cp "$1" "$2"
	fi
}
put "$elf" "$dir/boot/hv.elf" --strip-all
mods=""
i=0
for arg in "$@"; do
	m=${arg%%|*}
	margs=$(basename "$m")
	[ "$arg" != "$m" ] && margs="$margs ${arg#*|}"
	put "$m" "$dir/boot/module$i" --strip-debug    # root programs: no DWARF either
	mods="$mods
	module2 /boot/module$i $margs"
	i=$((i + 1))
done
cat > "$dir/boot/grub/grub.cfg" <<CFG
if serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1; then
	terminal_input serial console
	terminal_output serial console
fi
insmod all_video
set timeout=0
set default=0
menuentry "hv" {
	multiboot2 /boot/hv.elf $cmdline$mods
	if [ "\$grub_platform" != "efi" ]; then set gfxpayload=text; fi
	boot
}
CFG
# With grub-pc-bin and grub-efi-amd64-bin installed, grub-mkrescue puts
# both platforms in one image.
mkdir -p "$dir/stage"
mv "$dir/boot" "$dir/stage/boot"
grub-mkrescue -o "$iso.tmp" "$dir/stage" >/dev/null 2>"$dir/log" || { cat "$dir/log"; exit 1; }
mv "$iso.tmp" "$iso"
