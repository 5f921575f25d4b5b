/* Stopping the other CPUs when one panics: an NMI reaches them even with
 * interrupts off, and the NMI handler halts them (arch/x86/traps.c). */
#include "hv/arch.h"
#include "hv/smp.h"
#include <x86/apic.h>

void arch_stop_other_cpus(void)
{
	if (smp_num_online() > 1)
		apic_send_nmi_all_but_self();
}
