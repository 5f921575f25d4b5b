/*
 * The VMM's entry (docs/vmm.md): read the configuration from its module
 * command line, boot each configured VM, put a root vCPU on every other
 * physical CPU, and run.
 */
#include "vmm.h"

struct hv_root_info *root_info;
static struct vmm_config config;
static uint64_t heap, heap_end;

void *vmm_alloc(uint64_t size, uint64_t align)
{
	uint64_t p = (heap + align - 1) & ~(align - 1);

	if (p + size > heap_end || p + size < p)
		return NULL;
	heap = p + size;
	return (void *)p;
}

/* Hypervisor memory as HC_STATS reports it: a VM that ended must have
 * given back every page and object it had. */
void vmm_stats_line(const char *when, unsigned int id)
{
	static struct hv_stats st __attribute__((aligned(256)));

	if (hcall(HC_STATS, (uint64_t)&st, 0, 0, 0) < 0)
		return;
	vmm_printf("vmm: %s %u: hypervisor %lu free pages, %lu slab objects, %lu VMs, %lu vCPUs\n",
		   when, id, st.free_pages, st.slab_objects, st.vms, st.vcpus);
}

static void ap_main(uint64_t cpu)
{
	run_loop((unsigned int)cpu);
}

static void __attribute__((naked)) ap_entry(void)
{
	__asm__ __volatile__("call ap_main_entry\n1: hlt\njmp 1b");
}

void ap_main_entry(uint64_t cpu);
void ap_main_entry(uint64_t cpu)
{
	ap_main(cpu);
}

void guest_main(struct hv_root_info *info)
{
	guest_init();
	root_info = info;
	heap = (info->free_start + 4095) & ~4095ULL;
	heap_end = info->free_end;
	if (info->api_version < 2) {
		gprintf("vmm: the hypervisor offers API %u; this VMM needs 2\n", info->api_version);
		return;
	}
	vmm_printf("vmm: %u CPUs, %lu MiB of root memory free, %u boot modules\n", info->nr_cpus,
		   (heap_end - heap) >> 20, info->nr_modules);
	if (config_parse(info->cmdline, &config))
		return;
	run_budget_us = config.budget_us;
	nr_cpus = info->nr_cpus < VMM_MAX_CPUS ? info->nr_cpus : VMM_MAX_CPUS;
	nr_vms = config.nr_vms;
	if (!nr_vms)
		vmm_printf("vmm: no VM configured (vm=KERNEL,...: docs/vmm.md)\n");
	/* A root vCPU on every other CPU runs the vCPUs whose home it is
	 * (none yet: it waits for them). */
	for (unsigned int cpu = 1; cpu < nr_cpus; cpu++) {
		uint8_t *stack = vmm_alloc(64 << 10, 4096);
		int64_t r = stack ? hcall(HC_START_ROOT_VCPU, cpu, (uint64_t)ap_entry,
					  (uint64_t)stack + (64 << 10) - 8, cpu) : -HV_ENOMEM;

		if (r < 0) {
			vmm_printf("vmm: CPU %u runs no vCPUs (error %ld)\n", cpu, r);
			nr_cpus = cpu;
			break;
		}
	}
	vmm_stats_line("before vm", 0);
	for (unsigned int i = 0; i < nr_vms; i++)
		vm_start(i, &config.vm[i]);
	console_init();
	run_loop(0);
}
