#!/usr/bin/env bash
# run.sh MODE ISO [ELF]: boot the image interactively, serial on the terminal.
#   qemu   QEMU on SeaBIOS: KVM when /dev/kvm works and the CPU has vmx/svm,
#          otherwise TCG with an SVM-capable CPU model
#   uefi   the same through OVMF
#   bochs  Bochs with an Intel VMX CPU model (corei7_skylake_x)
#   debug  QEMU stopped before the first instruction, gdb stub on :1234
# QEMU: quit with Ctrl-A then X. Bochs: Ctrl-C.
set -e
mode=$1 iso=$2 elf=${3:-}
smp=${SMP:-2}
mem=${MEM:-512M}

accel_args() {
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo "-accel kvm -cpu host"
	else
		echo "-accel tcg -cpu qemu64,+svm,+npt"
	fi
}

qemu_common="-m $mem -smp $smp -display none -serial mon:stdio -no-reboot \
-device isa-debug-exit,iobase=0xf4,iosize=1"

case $mode in
qemu)
	# shellcheck disable=SC2046
	exec qemu-system-x86_64 $(accel_args) $qemu_common -cdrom "$iso" ;;
uefi)
	vars=$(dirname "$iso")/OVMF_VARS.fd
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$vars"
	# shellcheck disable=SC2046
	exec qemu-system-x86_64 $(accel_args) $qemu_common -machine q35 \
		-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
		-drive if=pflash,format=raw,file="$vars" -cdrom "$iso" ;;
debug)
	echo "gdb stub on :1234; in another terminal: gdb $elf -ex 'target remote :1234'"
	exec qemu-system-x86_64 -accel tcg -cpu qemu64,+svm,+npt $qemu_common \
		-s -S -cdrom "$iso" ;;
bochs)
	# Bochs draws the VGA screen in the terminal when it owns it; run it in
	# the background and be the serial line's terminal here instead
	# (scripts/serial-term.py: Bochs connects to it). Ctrl-] stops both.
	dir=$(dirname "$iso")
	port=$((20000 + $$ % 20000))
	cat > "$dir/bochsrc.run" <<RC
megs: ${BOCHS_MEGS:-512}
cpu: model=corei7_skylake_x, count=$smp, ips=200000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
boot: cdrom
ata0-master: type=cdrom, path=$iso, status=inserted
log: $dir/bochs.log
display_library: term
port_e9_hack: enabled=1
com1: enabled=1, mode=socket-client, dev=localhost:$port
RC
	echo c > "$dir/bochs.rc"
	(sleep 1; TERM=dumb exec bochs -q -f "$dir/bochsrc.run" -rc "$dir/bochs.rc" \
		</dev/null >/dev/null 2>&1) &
	pid=$!
	trap 'pkill -9 -f "$dir/bochsrc.run" 2>/dev/null; kill -9 $pid 2>/dev/null' EXIT INT TERM
	echo "Bochs starting; its serial console follows (Linux takes minutes here). Ctrl-] stops."
	"$(dirname "$0")/serial-term.py" "$port" ;;
*)
	echo "usage: $0 qemu|uefi|bochs|debug ISO [ELF]" >&2; exit 2 ;;
esac
