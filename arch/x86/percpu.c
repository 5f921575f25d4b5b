/* Per-CPU areas and the GS-based accessors. */
#include <x86/percpu.h>
#include <x86/cpu.h>
#include "hv/smp.h"
#include "hv/string.h"

struct percpu *percpu_area[NR_CPUS];

static struct percpu bsp_area __aligned(4096);
/* Before percpu_install runs on the boot CPU, GS is 0: answer 0. */
static bool gs_ready;

struct percpu *percpu_bsp(void)
{
	return &bsp_area;
}

void percpu_install(struct percpu *pc, unsigned int cpu, uint32_t apic_id)
{
	pc->self = pc;
	pc->cpu = cpu;
	pc->apic_id = apic_id;
	for (int i = 0; i < IST_COUNT; i++)
		pc->tss.ist[i] = (uint64_t)&pc->ist_stacks[i][IST_STACK_SIZE];
	pc->tss.iomap_base = sizeof(struct tss);      /* no I/O bitmap */
	wrmsr(MSR_GS_BASE, (uint64_t)pc);
	__atomic_store_n(&percpu_area[cpu], pc, __ATOMIC_RELEASE);
	gdt_load(pc->gdt, &pc->tss);
	idt_load();
	if (cpu == 0)
		gs_ready = true;
}

struct virt_cpu *virt_cpu_of(unsigned int cpu)
{
	struct percpu *pc = per_cpu(cpu);

	return pc ? &pc->virt : NULL;
}

unsigned int smp_processor_id(void)
{
	unsigned int cpu;

	if (unlikely(!gs_ready))
		return 0;
	__asm__ __volatile__("movl %%gs:8, %0" : "=r"(cpu));
	return cpu;
}
