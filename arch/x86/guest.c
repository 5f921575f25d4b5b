/* Guest state both backends switch the same way (x86/guest.h). */
#include <x86/cpu.h>
#include <x86/fpu.h>
#include <x86/guest.h>
#include "hv/cpuid.h"
#include "hv/config.h"
#include "hv/smp.h"

#define MSR_TSC_AUX 0xc0000103

static int has_rdtscp = -1;

void tsc_aux_write(uint64_t val)
{
	if (has_rdtscp < 0)
		has_rdtscp = !!(cpuid(0x80000001).edx & (1U << 27));
	if (has_rdtscp)
		wrmsr(MSR_TSC_AUX, val);
	this_cpu()->tsc_aux = val + 1;  /* without RDTSCP nobody reads it */
}

static void host_cpuid(uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	struct cpuid_regs r = cpuid_count(leaf, sub);

	out[0] = r.eax;
	out[1] = r.ebx;
	out[2] = r.ecx;
	out[3] = r.edx;
}

void cpuid_default_init(void)
{
	struct cpuid_host_facts f = {
		.xcr0_mask = fpu_has_xsave() ? fpu_guest_xcr0_mask() : 1,
		.xsave_max_size = fpu_area_bytes(fpu_guest_xcr0_mask()),
		.xsave = fpu_has_xsave(),
	};

	cpuid_build_default(&default_cpuid, host_cpuid, &f);
}

uint64_t guest_cr4_allowed(void)
{
	static uint64_t mask;
	struct cpuid_regs l1, l7;

	if (mask)
		return mask;
	l1 = cpuid(1);
	l7 = cpuid(0).eax >= 7 ? cpuid_count(7, 0) : (struct cpuid_regs){ 0 };
	mask = 0x7ff;                                   /* VME .. OSXMMEXCPT */
	if (l7.ecx & (1U << 2))
		mask |= 1ULL << 11;                     /* UMIP */
	if (l7.ebx & (1U << 0))
		mask |= 1ULL << 16;                     /* FSGSBASE */
	if (l1.ecx & (1U << 17))
		mask |= 1ULL << 17;                     /* PCIDE */
	if (l1.ecx & (1U << 26))
		mask |= 1ULL << 18;                     /* OSXSAVE */
	if (l7.ebx & (1U << 7))
		mask |= 1ULL << 20;                     /* SMEP */
	if (l7.ebx & (1U << 20))
		mask |= 1ULL << 21;                     /* SMAP */
	return mask;
}
