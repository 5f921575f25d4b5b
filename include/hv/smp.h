/* The calling CPU's number (0 = boot CPU), dense in [0, NR_CPUS). */
#ifndef HV_SMP_H
#define HV_SMP_H

#include "hv/config.h"

/* Per-CPU code may rely on this being cheap (a GS-relative load). On the host
 * test build it returns a thread-local number that tests assign. */
unsigned int smp_processor_id(void);

#endif
