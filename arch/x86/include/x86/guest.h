/* Guest state both backends switch the same way around an entry. */
#ifndef X86_GUEST_H
#define X86_GUEST_H

#include "hv/types.h"
#include <x86/percpu.h>

/* IA32_TSC_AUX (RDTSCP, RDPID) holds the running vCPU's value; the
 * hypervisor never reads it, so it is written only when it differs from
 * what this CPU has (percpu->tsc_aux: that value plus one, 0 unknown). */
void tsc_aux_write(uint64_t val);

static inline void tsc_aux_load(uint64_t val)
{
	if (__builtin_expect(this_cpu()->tsc_aux != val + 1, 0))
		tsc_aux_write(val);
}

/* The CR4 bits a guest may hold (HC_SET_SREGS): VME..OSXMMEXCPT and, where
 * the CPU has them, UMIP, FSGSBASE, PCIDE, OSXSAVE, SMEP, SMAP. Never
 * VMXE, SMXE, LA57, PKE, CET: features the hypervisor does not offer. */
uint64_t guest_cr4_allowed(void);

#endif
