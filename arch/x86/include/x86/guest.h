/* Guest state both backends switch the same way around an entry. */
#ifndef X86_GUEST_H
#define X86_GUEST_H

#include "hv/types.h"
#include "hv/vm.h"
#include <x86/debugreg.h>
#include <x86/fpu.h>
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

/* The last steps before the world switch and the first after it, the
 * same for both backends: TSC_AUX and XCR0 are the vCPU's only while it
 * runs (docs/cpu-state.md); the debug registers, where the guest armed
 * them, go back to its struct (with DR6 where the VMCS has no field). */
static inline void guest_switch_in(struct vcpu *v)
{
	tsc_aux_load(v->tsc_aux);
	fpu_guest_xcr0(v->fpu);
}

static inline void guest_switch_out(struct vcpu *v, bool dr6_in_struct)
{
	fpu_host_xcr0(v->fpu);
	debugreg_exit(v, dr6_in_struct);
}

/* The CR4 bits a guest may hold (HC_SET_SREGS): VME..OSXMMEXCPT and, where
 * the CPU has them, UMIP, FSGSBASE, PCIDE, OSXSAVE, SMEP, SMAP. Never
 * VMXE, SMXE, LA57, PKE, CET: features the hypervisor does not offer. */
uint64_t guest_cr4_allowed(void);

#endif
