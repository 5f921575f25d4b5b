/* Ending a run: the emulators' exit ports, and halting a CPU. */
#include "hv/arch.h"
#include <x86/cpu.h>
#include <x86/exit_codes.h>

bool bochs_exit;

void arch_halt(void)
{
	halt_forever();
	__builtin_unreachable();
}

void arch_exit(unsigned int code)
{
	/* QEMU's isa-debug-exit; an unused ISA port on real machines. */
	outb(HV_EXIT_PORT, (uint8_t)code);
	if (bochs_exit)         /* Bochs' shutdown port (see docs/debugging.md) */
		for (const char *s = "Shutdown"; *s; s++)
			outb(0x8900, (uint8_t)*s);
	arch_halt();
}
