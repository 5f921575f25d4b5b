/* Guest state both backends switch the same way around an entry. */
#ifndef X86_GUEST_H
#define X86_GUEST_H

#include "hv/types.h"

/* IA32_TSC_AUX (RDTSCP, RDPID) holds the running vCPU's value; the
 * hypervisor never reads it, so it is written only when it differs from
 * what this CPU has. */
void tsc_aux_load(uint64_t val);

#endif
