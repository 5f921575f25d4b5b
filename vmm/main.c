/*
 * The VMM's entry (docs/vmm.md): read the configuration from its module
 * command line, boot each configured VM, put a root vCPU on every other
 * physical CPU, and run.
 */
#include "vmm.h"

struct hv_root_info *root_info;
static struct vmm_config config;
/*
 * Root memory for VMs and the VMM's pages: first fit from a list of free
 * ranges, kept sorted and merged, so a VM's memory comes back when it
 * ends (or fails to start) and another VM can have it.
 */
#define FREE_RANGES 64
static struct { uint64_t base, end; } free_list[FREE_RANGES];
static unsigned int nr_free;
static vmm_lock_t alloc_lock;

static void free_add(uint64_t base, uint64_t end)
{
	unsigned int i = 0;

	if (base >= end)
		return;
	while (i < nr_free && free_list[i].base < base)
		i++;
	if (i > 0 && free_list[i - 1].end == base) {            /* merge down */
		free_list[i - 1].end = end;
		if (i < nr_free && free_list[i].base == end) {  /* and up */
			free_list[i - 1].end = free_list[i].end;
			gmemmove(&free_list[i], &free_list[i + 1], (nr_free - i - 1) * sizeof(free_list[0]));
			nr_free--;
		}
		return;
	}
	if (i < nr_free && free_list[i].base == end) {
		free_list[i].base = base;
		return;
	}
	if (nr_free == FREE_RANGES)
		return;                         /* lost; not expected with few VMs */
	gmemmove(&free_list[i + 1], &free_list[i], (nr_free - i) * sizeof(free_list[0]));
	free_list[i].base = base;
	free_list[i].end = end;
	nr_free++;
}

void *vmm_alloc(uint64_t size, uint64_t align)
{
	void *p = NULL;

	size = (size + 4095) & ~4095ULL;
	vmm_lock(&alloc_lock);
	for (unsigned int i = 0; i < nr_free; i++) {
		uint64_t b = (free_list[i].base + align - 1) & ~(align - 1), e = free_list[i].end;

		if (b + size > e || b + size < b)
			continue;
		uint64_t old_base = free_list[i].base;

		/* Cut [b, b + size) out: what is left on each side stays free. */
		gmemmove(&free_list[i], &free_list[i + 1], (nr_free - i - 1) * sizeof(free_list[0]));
		nr_free--;
		free_add(old_base, b);
		free_add(b + size, e);
		p = (void *)b;
		break;
	}
	vmm_unlock(&alloc_lock);
	return p;
}

void vmm_free(void *p, uint64_t size)
{
	vmm_lock(&alloc_lock);
	free_add((uint64_t)p, (uint64_t)p + ((size + 4095) & ~4095ULL));
	vmm_unlock(&alloc_lock);
}

static uint64_t free_bytes(void)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < nr_free; i++)
		n += free_list[i].end - free_list[i].base;
	return n;
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
	__asm__ __volatile__("andq $-16, %rsp\ncall ap_main_entry\n1: hlt\njmp 1b");
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
	free_add((info->free_start + 4095) & ~4095ULL, info->free_end & ~4095ULL);
	if (info->api_version < 2) {
		gprintf("vmm: the hypervisor offers API %u; this VMM needs 2\n", info->api_version);
		return;
	}
	vmm_printf("vmm: %u CPUs, %lu MiB of root memory free, %u boot modules\n", info->nr_cpus,
		   free_bytes() >> 20, info->nr_modules);
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
