/* Shared by the AP trampoline (assembly) and arch/x86/smp_boot.c. */
#ifndef X86_SMP_BOOT_H
#define X86_SMP_BOOT_H

/* Below 1 MiB, page-aligned, free on PC firmware (not the IVT, BDA or EBDA). */
#define TRAMPOLINE_BASE 0x8000

#ifndef __ASSEMBLY__
#include "hv/types.h"

struct trampoline_params {
	uint32_t cr3, cr4, efer_lo, efer_hi;
};

extern const char trampoline_start[], trampoline_end[], trampoline_params[];
#endif

#endif
