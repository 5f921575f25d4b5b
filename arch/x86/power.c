/* Ending a run: the emulators' exit ports, and halting a CPU. */
#include "hv/arch.h"
#include "hv/console.h"
#include "hv/reboot.h"
#include <x86/cpu.h>
#include <x86/exit_codes.h>
#include <x86/tsc.h>

bool bochs_exit;

void arch_halt(void)
{
	halt_forever();
	__builtin_unreachable();
}

/* Let the serial console send what its FIFO still holds (LSR bit 6,
 * transmitter empty), for 50 ms at most: Bochs ended runs with the last
 * line half sent ("HV-VERDI") once the UART driver stopped waiting per
 * byte. */
static void drain_serial(void)
{
	uint16_t port = console_port();
	uint64_t end = rdtsc() + 50 * tsc_khz();

	while (port && !(inb(port + 5) & 0x40) && rdtsc() < end)
		__asm__ __volatile__("pause");
}

void arch_exit(unsigned int code)
{
	drain_serial();
	/* QEMU's isa-debug-exit; an unused ISA port on real machines. */
	outb(HV_EXIT_PORT, (uint8_t)code);
	if (bochs_exit)         /* Bochs' shutdown port (see docs/debugging.md) */
		for (const char *s = "Shutdown"; *s; s++)
			outb(0x8900, (uint8_t)*s);
	arch_halt();
}

/* Reset through the ways PCs offer, most reliable first: the PCI reset
 * control register (0xcf9), the keyboard controller, then a triple fault. */
void arch_reset(enum reboot_action action)
{
	if (action == REBOOT_POWEROFF) {
		outw(0x604, 0x2000);            /* QEMU q35/PIIX ACPI PM1a: S5 */
		outw(0xb004, 0x2000);           /* Bochs/older QEMU */
	}
	outb(0xcf9, 0x02);
	outb(0xcf9, 0x06);
	for (int i = 0; i < 100000 && (inb(0x64) & 0x02); i++)
		;
	outb(0x64, 0xfe);
	{
		struct { uint16_t limit; uint64_t base; } __packed null_idt = { 0, 0 };

		__asm__ __volatile__("lidt %0; int3" :: "m"(null_idt));
	}
	arch_halt();
}
