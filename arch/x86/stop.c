/* Stopping the other CPUs (SMP fills this in once APs exist). */
#include "hv/arch.h"

void arch_stop_other_cpus(void)
{
}
