/*
 * Per-CPU data: one struct per CPU, reached through GS (GS base points at
 * the struct, whose first field points at itself). The boot CPU's is
 * static; each AP's comes from the page allocator when it is started.
 */
#ifndef X86_PERCPU_H
#define X86_PERCPU_H

#include "hv/types.h"
#include "hv/config.h"
#include <x86/desc.h>

struct percpu {
	struct percpu *self;            /* %gs:0 */
	unsigned int cpu;               /* %gs:8, smp_processor_id() */
	uint32_t apic_id;
	uint64_t stack_top;             /* this CPU's main hypervisor stack */
	int trap_depth;                 /* nested exceptions on this CPU */

	uint64_t gdt[GDT_ENTRIES] __aligned(16);
	struct tss tss __aligned(16);

	/* Vendor (VMX/SVM) per-CPU state lives behind this pointer. */
	void *virt;

	uint8_t ist_stacks[IST_COUNT][IST_STACK_SIZE] __aligned(16);
};

#define PERCPU_SIZE (16 * 1024)
BUILD_BUG_ON(sizeof(struct percpu) > PERCPU_SIZE);
BUILD_BUG_ON(__builtin_offsetof(struct percpu, cpu) != 8);

extern struct percpu *percpu_area[NR_CPUS];

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ __volatile__("movq %%gs:0, %0" : "=r"(p));
	return p;
}

/* Point GS at `pc` and load its GDT, TSS and the shared IDT. */
void percpu_install(struct percpu *pc, unsigned int cpu, uint32_t apic_id);
struct percpu *percpu_bsp(void);
bool cpu_started(unsigned int cpu);

#endif
