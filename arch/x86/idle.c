/* Idling a CPU between console polls. */
#include <x86/hosttimer.h>
#include "hv/debugcon.h"

void arch_idle_tick_start(void)
{
	hosttimer_tick(20000);          /* 50 Hz */
}

void arch_idle(void)
{
	__asm__ __volatile__("sti; hlt; cli" ::: "memory");
}
