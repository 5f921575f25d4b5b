/* What the vendor-neutral core asks of the architecture. */
#ifndef HV_ARCH_H
#define HV_ARCH_H

#include "hv/types.h"
#include "hv/compiler.h"

/* Report a verdict to the emulator (QEMU isa-debug-exit, Bochs shutdown
 * port when bochs_exit is on) and halt this CPU for good. */
__noreturn void arch_exit(unsigned int code);
/* Halt this CPU for good, interrupts off. */
__noreturn void arch_halt(void);
/* Print a frame-pointer backtrace starting at the caller's frame, or at rbp. */
void arch_backtrace(uint64_t rbp);
/* Stop every other CPU (NMI); safe to call from panic. */
void arch_stop_other_cpus(void);

extern bool bochs_exit;

#endif

struct mem_range;
/* Build and switch to the hypervisor's own page tables (see x86/paging.h). */
int arch_mm_init(const struct mem_range *ram_above_4g, size_t n);
