/*
 * Finding the CPUs (ACPI MADT) and starting the application processors
 * with INIT-SIPI-SIPI (SDM Vol. 3A, 8.4.4.1). The sequence is pipelined:
 * every AP gets its INIT, then one 10 ms wait covers them all, then every
 * AP gets its SIPIs, so starting 64 CPUs costs one round of delays, not 64.
 */
#include <x86/apic.h>
#include <x86/cpu.h>
#include <x86/fpu.h>
#include <x86/paging.h>
#include <x86/percpu.h>
#include <x86/smp_boot.h>
#include <x86/tsc.h>
#include "hv/acpi.h"
#include "hv/errno.h"
#include "hv/mb2.h"
#include "hv/mm.h"
#include "hv/options.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"
#include "hv/root.h"
#include "hv/smp.h"
#include "hv/string.h"

cpumask_t cpu_online_mask;
uint32_t cpu_apic_id[NR_CPUS];

/* Read by ap_entry (trampoline.S) before it has a stack. */
uint32_t ap_boot_count;
uint32_t ap_boot_apic[NR_CPUS];
uint64_t ap_boot_stack[NR_CPUS];

#define AP_STACK_ORDER 2                /* 16 KiB */
BUILD_BUG_ON((PAGE_SIZE << 2) < PERCPU_SIZE);

enum ap_state { AP_IDLE, AP_STARTING, AP_ONLINE, AP_FAILED };
static int ap_state[NR_CPUS];
static struct percpu *ap_percpu[NR_CPUS];

static uint64_t maxcpus = NR_CPUS;
static bool nosmp;
static uint64_t ap_timeout_ms = 2000;
static uint64_t phantom_apic = ~0ULL;
uint64_t smp_online_tsc;        /* when the last CPU came online */

CMDLINE_OPTION(maxcpus, "maxcpus", cmdline_handle_u64, &maxcpus,
	       "start at most N CPUs (the boot CPU included)");
CMDLINE_OPTION(nosmp, "nosmp", cmdline_handle_bool, &nosmp,
	       "run on the boot CPU alone");
CMDLINE_OPTION(ap_timeout, "ap_timeout_ms", cmdline_handle_u64, &ap_timeout_ms,
	       "how long to wait for the application processors to answer");
CMDLINE_OPTION(smp_phantom, "smp_phantom", cmdline_handle_u64, &phantom_apic,
	       "test: also try to start a CPU with this APIC ID (it cannot answer)");

/* Brought up at boot and still answering its mailbox (online or parked). */
bool cpu_started(unsigned int cpu)
{
	return cpu == 0 || (cpu < NR_CPUS && ap_state[cpu] == AP_ONLINE);
}

unsigned int smp_num_online(void)
{
	return cpumask_weight(&cpu_online_mask);
}

void ap_main(unsigned int cpu);
void smp_call_init(void);

/* First C code of an AP, on its own stack. */
void ap_main(unsigned int cpu)
{
	int expected = AP_STARTING;

	percpu_install(ap_percpu[cpu], cpu, cpu_apic_id[cpu]);
	apic_init_cpu();
	fpu_init_cpu();
	/* The boot CPU may have given up on us already: then stay out. */
	if (!__atomic_compare_exchange_n(&ap_state[cpu], &expected, AP_ONLINE, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		halt_forever();
	cpumask_set_atomic(&cpu_online_mask, cpu);
	for (;;) {                      /* serve cross-CPU calls */
		__asm__ __volatile__("sti; hlt; cli" ::: "memory");
		root_ap_poll();         /* a root vCPU handed to this CPU */
	}
}

static const void *acpi_map_identity(phys_addr_t pa, size_t len, void *ctx)
{
	/* Below 4 GiB everything is mapped but page 0; firmware tables live there. */
	if (pa < PAGE_SIZE)
		return mm_low_bios_area(pa, len);
	if (pa + len < pa || pa + len > 4 * GiB)
		return NULL;
	return (const void *)pa;
}

static int prepare_ap(unsigned int cpu, uint32_t apic)
{
	void *pc = page_zalloc(AP_STACK_ORDER);
	void *stack = page_alloc(AP_STACK_ORDER);

	if (!pc || !stack) {
		if (pc)
			page_free(pc, AP_STACK_ORDER);
		if (stack)
			page_free(stack, AP_STACK_ORDER);
		return ERR(-ENOMEM);
	}
	ap_percpu[cpu] = pc;
	cpu_apic_id[cpu] = apic;
	ap_boot_apic[cpu] = apic;
	ap_boot_stack[cpu] = (uint64_t)stack + (PAGE_SIZE << AP_STACK_ORDER);
	ap_state[cpu] = AP_STARTING;
	return 0;
}

static void release_ap(unsigned int cpu)
{
	page_free(ap_percpu[cpu], AP_STACK_ORDER);
	page_free((void *)(ap_boot_stack[cpu] - (PAGE_SIZE << AP_STACK_ORDER)), AP_STACK_ORDER);
	ap_percpu[cpu] = NULL;
}

static int install_trampoline(void)
{
	struct trampoline_params p = {
		.cr3 = (uint32_t)read_cr3(),
		.cr4 = (uint32_t)read_cr4(),
		.efer_lo = (uint32_t)(rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE)),
	};
	size_t len = (size_t)(trampoline_end - trampoline_start);
	char *dst = (char *)TRAMPOLINE_BASE;
	int r;

	if (read_cr3() >= 4 * GiB)
		return ERR(-ERANGE);    /* the 32-bit stage loads CR3 */
	if ((r = paging_set(TRAMPOLINE_BASE, PAGE_SIZE, PAGE_RW)))
		return r;
	memcpy(dst, trampoline_start, len);
	memcpy(dst + (trampoline_params - trampoline_start), &p, sizeof(p));
	/* W^X: the APs execute it, so it stops being writable. */
	return paging_set(TRAMPOLINE_BASE, PAGE_SIZE, PAGE_RX);
}

static unsigned int pending_count(unsigned int n)
{
	unsigned int k = 0;

	for (unsigned int c = 1; c < n; c++)
		k += __atomic_load_n(&ap_state[c], __ATOMIC_ACQUIRE) == AP_STARTING;
	return k;
}

static void start_aps(unsigned int n)
{
	uint64_t deadline;

	for (unsigned int c = 1; c < n; c++)
		apic_send_init(cpu_apic_id[c]);
	udelay(10000);                  /* INIT to SIPI: 10 ms */
	for (unsigned int c = 1; c < n; c++)
		apic_send_sipi(cpu_apic_id[c], TRAMPOLINE_BASE >> 12);
	udelay(200);                    /* SIPI to SIPI: 200 us */
	for (unsigned int c = 1; c < n; c++)
		if (__atomic_load_n(&ap_state[c], __ATOMIC_ACQUIRE) == AP_STARTING)
			apic_send_sipi(cpu_apic_id[c], TRAMPOLINE_BASE >> 12);

	deadline = rdtsc() + ap_timeout_ms * tsc_khz();
	while (pending_count(n) && rdtsc() < deadline)
		cpu_relax_hint();

	for (unsigned int c = 1; c < n; c++) {
		int expected = AP_STARTING;

		if (__atomic_compare_exchange_n(&ap_state[c], &expected, AP_FAILED, false,
						__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			pr_err("smp: CPU %u (APIC ID %u) did not answer within %lu ms; left offline\n",
			       c, cpu_apic_id[c], ap_timeout_ms);
			/* Its memory stays: a late AP might still be using the stack. */
		}
	}
}

void smp_init(const struct boot_info *bi)
{
	static struct acpi_cpus cpus;
	uint32_t bsp_apic;
	unsigned int n = 1;
	int r;

	smp_call_init();
	r = acpi_discover_cpus(bi->rsdp_src != BOOT_RSDP_NONE ? bi->rsdp : NULL,
			       bi->rsdp_len, acpi_map_identity, NULL, &cpus);
	if (r) {
		pr_err("smp: no usable CPU list from ACPI (%s); running on the boot CPU alone\n",
		       errno_name(r));
		cpus.count = 0;
		cpus.lapic_base = 0;
	}
	if (apic_init_bsp(cpus.lapic_base)) {
		pr_err("smp: no local APIC; running on the boot CPU alone\n");
		cpumask_set_atomic(&cpu_online_mask, 0);
		return;
	}
	apic_init_cpu();
	bsp_apic = apic_id();
	cpu_apic_id[0] = bsp_apic;
	this_cpu()->apic_id = bsp_apic;
	cpumask_set_atomic(&cpu_online_mask, 0);

	if (maxcpus == 0)
		maxcpus = 1;
	for (uint32_t i = 0; i < cpus.count && !nosmp; i++) {
		const struct acpi_cpu *c = &cpus.cpu[i];

		if (!c->enabled || c->apic_id == bsp_apic)
			continue;
		if (n >= maxcpus || n >= NR_CPUS) {
			pr_info("smp: CPU with APIC ID %u not started (maxcpus=%lu)\n",
				c->apic_id, maxcpus);
			continue;
		}
		if (c->apic_id > 0xfe && !apic_x2apic_mode()) {
			pr_warn("smp: APIC ID %u needs x2APIC, which this CPU lacks\n", c->apic_id);
			continue;
		}
		if (prepare_ap(n, c->apic_id)) {
			pr_err("smp: out of memory for CPU %u\n", n);
			break;
		}
		n++;
	}
	if (phantom_apic != ~0ULL && !nosmp && n < NR_CPUS && !prepare_ap(n, phantom_apic))
		n++;
	ap_boot_count = n;

	if (n > 1) {
		r = install_trampoline();
		if (r) {
			pr_err("smp: cannot install the AP trampoline (%s)\n", errno_name(r));
			for (unsigned int c = 1; c < n; c++)
				release_ap(c);
			n = 1;
		} else {
			start_aps(n);
		}
	}
	smp_online_tsc = rdtsc();
	pr_info("smp: %u of %u CPUs online in %lu us from entry (x%s)\n",
		smp_num_online(), n, tsc_to_us(smp_online_tsc - boot_tsc),
		apic_x2apic_mode() ? "2APIC" : "APIC");
}
