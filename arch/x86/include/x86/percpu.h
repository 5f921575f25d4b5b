/*
 * Per-CPU data: one struct per CPU, reached through GS (GS base points at
 * the struct, whose first field points at itself) on the CPU itself and
 * through per_cpu() from the others. The boot CPU's is static; each AP's
 * comes from the page allocator when it is prepared for start-up, and is
 * given back only if the AP never comes up. Every module's per-CPU state
 * lives here, the virtualization backend's in a vendor part.
 */
#ifndef X86_PERCPU_H
#define X86_PERCPU_H

#include "hv/types.h"
#include "hv/config.h"
#include "hv/virt_cpu.h"
#include <x86/desc.h>
#include <x86/hosttimer.h>
#include <x86/smp_call.h>
#include "svm/svm_percpu.h"
#include "vmx/vmx_percpu.h"

struct percpu {
	struct percpu *self;            /* %gs:0 */
	unsigned int cpu;               /* %gs:8, smp_processor_id() */
	uint32_t apic_id;
	uint64_t stack_top;             /* this CPU's main hypervisor stack */
	int trap_depth;                 /* nested exceptions on this CPU */

	uint64_t gdt[GDT_ENTRIES] __aligned(16);
	struct tss tss __aligned(16);

	struct call_mailbox call;       /* other CPUs' calls to this one (smp_call.c) */
	struct hosttimer_cpu timer;     /* the local APIC timer's users (hosttimer.c) */
	uint64_t tsc_aux;               /* IA32_TSC_AUX + 1, 0: unknown (x86/guest.h) */
	struct virt_cpu virt;           /* virtualization on this CPU (hv/virt_cpu.c) */
	struct vcpu *root_vcpu;         /* the root vCPU that runs here (hv/root.c) */
	struct vcpu *root_vcpu_pending; /* handed over, not picked up yet */
	uint64_t exits, hypercalls;     /* handled here (HC_STATS sums every CPU's) */
	union {                         /* the backend's own (virt_ops) */
		struct svm_percpu svm;
		struct vmx_percpu vmx;
	} vendor;

	uint8_t ist_stacks[IST_COUNT][IST_STACK_SIZE] __aligned(16);
};

#define PERCPU_SIZE (16 * 1024)
BUILD_BUG_ON(sizeof(struct percpu) > PERCPU_SIZE);
BUILD_BUG_ON(__builtin_offsetof(struct percpu, cpu) != 8);

extern struct percpu *percpu_area[NR_CPUS];

/* Another CPU's area: NULL for a CPU never prepared for start-up. */
static inline struct percpu *per_cpu(unsigned int cpu)
{
	return cpu < NR_CPUS ? __atomic_load_n(&percpu_area[cpu], __ATOMIC_ACQUIRE) : NULL;
}

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ __volatile__("movq %%gs:0, %0" : "=r"(p));
	return p;
}

/* This CPU's number once GS is set up (every path after boot): one load,
 * where smp_processor_id() also covers the first instructions of boot. */
static inline unsigned int this_cpu_id(void)
{
	unsigned int cpu;

	__asm__ __volatile__("movl %%gs:8, %0" : "=r"(cpu));
	return cpu;
}

/* Point GS at `pc` and load its GDT, TSS and the shared IDT. */
void percpu_install(struct percpu *pc, unsigned int cpu, uint32_t apic_id);
struct percpu *percpu_bsp(void);
bool cpu_started(unsigned int cpu);

#endif
