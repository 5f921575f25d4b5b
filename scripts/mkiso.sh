#!/usr/bin/env bash
# mkiso.sh ELF ISO "CMDLINE" [MODULE[|MODULE_CMDLINE]...]
# A hybrid GRUB rescue image: boots on BIOS (i386-pc, also from a USB stick
# written with dd) and UEFI (x86_64-efi), serial console on COM1.
set -e
elf=$1 iso=$2 cmdline=$3
shift 3
dir=$(mktemp -d "${TMPDIR:-/tmp}/hv-iso.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/boot/grub"
cp "$elf" "$dir/boot/hv.elf"
mods=""
i=0
for arg in "$@"; do
	m=${arg%%|*}
	margs=$(basename "$m")
	[ "$arg" != "$m" ] && margs="$margs ${arg#*|}"
	cp "$m" "$dir/boot/module$i"
	mods="$mods
	module2 /boot/module$i $margs"
	i=$((i + 1))
done
cat > "$dir/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
terminal_input serial console
terminal_output serial console
set timeout=0
set default=0
menuentry "hv" {
	multiboot2 /boot/hv.elf $cmdline$mods
	boot
}
CFG
# With grub-pc-bin and grub-efi-amd64-bin installed, grub-mkrescue puts
# both platforms in one image.
mkdir -p "$dir/stage"
mv "$dir/boot" "$dir/stage/boot"
grub-mkrescue -o "$iso.tmp" "$dir/stage" >/dev/null 2>"$dir/log" || { cat "$dir/log"; exit 1; }
mv "$iso.tmp" "$iso"
