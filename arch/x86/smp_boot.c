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
#define AP_TIMEOUT_MS_DEFAULT 2000
static uint64_t ap_timeout_ms = AP_TIMEOUT_MS_DEFAULT;
static uint64_t phantom_apic = ~0ULL;
uint64_t smp_online_tsc;        /* when the last CPU came online */
static uint64_t aps_tsc;        /* when starting the APs began */

/* The boot CPU always runs (nosmp says "only it"); NR_CPUS is all we track. */
CMDLINE_OPTION_U64(maxcpus, "maxcpus", maxcpus,
		   "start at most N CPUs (the boot CPU included)",
		   .min = 1, .max = NR_CPUS, .def = NR_CPUS);
CMDLINE_OPTION(nosmp, "nosmp", cmdline_handle_bool, &nosmp,
	       "run on the boot CPU alone");
/*
 * Counted from the second STARTUP, after the 10 ms INIT wait; the wait ends
 * as soon as every AP answered, so the bound only matters for a CPU that
 * never will. An AP needs microseconds from there to C on hardware; under
 * TCG, 8 of 8 made it within 1 ms on an idle host, but with 10 ms one of 2
 * was left offline on a busy one (at 0 every AP was): 100 ms at least,
 * which held with 48 emulated CPUs on 2 busy host cores. 60 s at most:
 * Linux waits 10 s for an AP; beyond a minute the boot only stalls on a
 * CPU that will not come.
 */
CMDLINE_OPTION_U64(ap_timeout, "ap_timeout_ms", ap_timeout_ms,
		   "how long to wait for the application processors to answer (ms)",
		   .min = 100, .max = 60000, .def = AP_TIMEOUT_MS_DEFAULT);
/* xAPIC IDs: 0xff is the broadcast, larger ones need x2APIC, which this
 * test of an absent CPU does not need. */
CMDLINE_OPTION_U64(smp_phantom, "smp_phantom", phantom_apic,
		   "test: also try to start a CPU with this APIC ID (it cannot answer)",
		   .min = 0, .max = 254, .def = ~0ULL, .def_text = "none");

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
	__atomic_store_n(&percpu_area[cpu], NULL, __ATOMIC_RELEASE);
	page_free(ap_percpu[cpu], AP_STACK_ORDER);
	page_free((void *)(ap_boot_stack[cpu] - (PAGE_SIZE << AP_STACK_ORDER)), AP_STACK_ORDER);
	ap_percpu[cpu] = NULL;
}

/* Where the trampoline runs: a page below 1 MiB (SIPI's vector is its
 * page number) that no module, boot information or firmware uses. */
static uint64_t trampoline_base;

static int install_trampoline(void)
{
	const struct trampoline_offsets *o = &trampoline_offsets;
	uint64_t base = mm_low_page();
	struct trampoline_params p = {
		.cr3 = (uint32_t)read_cr3(),
		.cr4 = (uint32_t)read_cr4(),
		.efer_lo = (uint32_t)(rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE)),
		.far32 = { (uint32_t)base + o->code32, 0x08 },
		.far64 = { (uint32_t)base + o->code64, 0x18 },
		.gdt_limit = (uint16_t)(o->gdt_size - 1),
		.gdt_base = (uint32_t)base + o->gdt,
	};
	size_t len = (size_t)(trampoline_end - trampoline_start);
	char *dst = (char *)base;
	int r;

	BUILD_BUG_ON(sizeof(p) != 34);  /* the layout trampoline.S has */
	if (!base)
		return ERR(-ENOMEM);    /* no free page below 1 MiB */
	if (read_cr3() >= 4 * GiB)
		return ERR(-ERANGE);    /* the 32-bit stage loads CR3 */
	if ((r = paging_set(base, PAGE_SIZE, PAGE_RW)))
		return r;
	memcpy(dst, trampoline_start, len);
	memcpy(dst + (trampoline_params - trampoline_start), &p, sizeof(p));
	/* W^X: the APs execute it, so it stops being writable. */
	if ((r = paging_set(base, PAGE_SIZE, PAGE_RX)))
		return r;
	trampoline_base = base;
	pr_debug("smp: AP trampoline at 0x%lx\n", base);
	return 0;
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
		apic_send_sipi(cpu_apic_id[c], (uint8_t)(trampoline_base >> 12));
	udelay(200);                    /* SIPI to SIPI: 200 us */
	for (unsigned int c = 1; c < n; c++)
		if (__atomic_load_n(&ap_state[c], __ATOMIC_ACQUIRE) == AP_STARTING)
			apic_send_sipi(cpu_apic_id[c], (uint8_t)(trampoline_base >> 12));

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
		} else {
			/* Online: the AP sets its bit right after its state, but
			 * may not have got there yet (a descheduled emulator
			 * thread): set here too, so the count below is right. */
			cpumask_set_atomic(&cpu_online_mask, c);
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

	aps_tsc = rdtsc();
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
	/* The APs' own part apart from the boot work before it (memory,
	 * calibration): what the bring-up benchmark compares. */
	pr_info("smp: %u of %u CPUs online in %lu us from entry, %lu us starting the APs (x%s)\n",
		smp_num_online(), n, tsc_to_us(smp_online_tsc - boot_tsc),
		tsc_to_us(smp_online_tsc - aps_tsc), apic_x2apic_mode() ? "2APIC" : "APIC");
}
