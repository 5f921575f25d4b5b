/* Idling the boot CPU between console polls. */
#include <x86/apic.h>
#include <x86/trap.h>
#include "hv/debugcon.h"

static bool tick(struct trap_frame *tf)
{
	apic_eoi();
	return true;
}

void arch_idle_tick_start(void)
{
	trap_register(VEC_TIMER, tick);
	apic_timer_periodic(VEC_TIMER, 20000);         /* 50 Hz */
}

void arch_idle(void)
{
	__asm__ __volatile__("sti; hlt; cli" ::: "memory");
}
