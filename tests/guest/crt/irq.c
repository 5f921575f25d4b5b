/* Interrupts, local APIC and IOAPIC access for child payloads (apic.h). */
#include "apic.h"

struct idt_gate {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};

extern const uint64_t crt_stubs[32];            /* start.S: vectors 0-31 */
extern const uint64_t crt_irq_stubs[224];       /* irq.S: vectors 32-255 */
static struct idt_gate idt256[256] __attribute__((aligned(16)));
static irq_handler_t irq_handlers[256];
static volatile uint32_t counts[CRT_MAX_VCPUS][256];
static volatile uint32_t hlt_wakes[CRT_MAX_VCPUS];
static volatile bool x2apic_mode[CRT_MAX_VCPUS];
static uint64_t tsc_khz = 1000000;

/* ---------------------------------------------------------- interrupts */

void irq_init(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr;

	/* Every vCPU writes the same gates, as crt_start does. */
	for (int v = 0; v < 256; v++) {
		uint64_t a = v < 32 ? crt_stubs[v] : crt_irq_stubs[v - 32];

		idt256[v] = (struct idt_gate){ .off0 = (uint16_t)a, .sel = CRT_SEL_CODE,
					       .type = 0x8e, .off1 = (uint16_t)(a >> 16),
					       .off2 = (uint32_t)(a >> 32) };
	}
	idtr.limit = sizeof(idt256) - 1;
	idtr.base = (uint64_t)idt256;
	__asm__ __volatile__("lidt %0" :: "m"(idtr) : "memory");
	x2apic_mode[cpu_index()] = (rdmsr(MSR_APIC_BASE) & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
				   (APIC_BASE_EN | APIC_BASE_EXTD);
}

void irq_set_handler(unsigned int vector, irq_handler_t h)
{
	if (vector < 256)
		irq_handlers[vector] = h;
}

uint32_t irq_count(unsigned int cpu, unsigned int vector)
{
	return cpu < CRT_MAX_VCPUS && vector < 256 ? counts[cpu][vector] : 0;
}

void irq_clear_counts(unsigned int cpu)
{
	for (int v = 0; v < 256; v++)
		counts[cpu][v] = 0;
	hlt_wakes[cpu] = 0;
}

uint32_t irq_hlt_wakes(unsigned int cpu)
{
	return cpu < CRT_MAX_VCPUS ? hlt_wakes[cpu] : 0;
}

void crt_irq(struct trap_frame *f);
void crt_irq(struct trap_frame *f)
{
	unsigned int v = (unsigned int)f->vector & 0xff, cpu = cpu_index();

	if (f->rip == (uint64_t)crt_hlt_resume)
		hlt_wakes[cpu]++;
	if (irq_handlers[v]) {
		irq_handlers[v](f);
		return;
	}
	counts[cpu][v]++;
	apic_eoi();
}

void __attribute__((noinline)) cpu_halt(void)
{
	__asm__ __volatile__("sti\n\thlt\n\t.global crt_hlt_resume\ncrt_hlt_resume:\n\tcli"
			     ::: "memory");
}

void tsc_set_khz(uint64_t khz)
{
	tsc_khz = khz ? khz : 1000000;
}

uint64_t ms_to_tsc(uint64_t ms)
{
	return ms * tsc_khz;
}

uint64_t us_to_tsc(uint64_t us)
{
	return us * tsc_khz / 1000;
}

bool irq_wait(unsigned int vector, uint32_t n, uint64_t ticks)
{
	uint64_t t0 = rdtsc();
	unsigned int cpu = cpu_index();
	bool ok;

	irq_enable();
	while (!(ok = counts[cpu][vector] >= n) && rdtsc() - t0 < ticks)
		cpu_pause();
	irq_disable();
	return ok || counts[cpu][vector] >= n;
}

/* ---------------------------------------------------------- memory */

/* The fourth GiB: 2 MiB pages, PCD|PWT (uncached), in PDPT entry 3. */
static uint64_t pd_high[512] __attribute__((aligned(4096)));

void map_high(void)
{
	uint64_t *pdpt = (uint64_t *)(uintptr_t)CRT_PDPT;

	if (!(__atomic_load_n(&pdpt[3], __ATOMIC_ACQUIRE) & 1)) {
		for (uint64_t j = 0; j < 512; j++)
			pd_high[j] = (0xc0000000ULL + (j << 21)) | 0x9b;   /* P W PWT PCD PS */
		__atomic_store_n(&pdpt[3], (uint64_t)pd_high | 3, __ATOMIC_RELEASE);
	}
	write_cr3(read_cr3());
}

/* ---------------------------------------------------------- local APIC */

int apic_set_base(uint64_t v)
{
	int r = wrmsr_safe(MSR_APIC_BASE, v);

	if (r < 0)
		x2apic_mode[cpu_index()] = (v & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
					   (APIC_BASE_EN | APIC_BASE_EXTD);
	return r;
}

bool apic_is_x2apic(void)
{
	return x2apic_mode[cpu_index()];
}

int apic_x2apic_on(void)
{
	uint64_t b = rdmsr(MSR_APIC_BASE);
	int r = -1;

	if (!(b & APIC_BASE_EXTD))
		r = apic_set_base(b | APIC_BASE_EN | APIC_BASE_EXTD);
	if (r < 0)
		apic_sw_enable();
	return r < 0 ? 0 : r;
}

void apic_sw_enable(void)
{
	apic_write(APIC_SVR, 0x1ff);
}

uint32_t apic_read(uint32_t off)
{
	if (x2apic_mode[cpu_index()])
		return (uint32_t)rdmsr(MSR_X2APIC(off));
	return mmio_read32(XAPIC_MMIO + off);
}

void apic_write(uint32_t off, uint32_t v)
{
	if (x2apic_mode[cpu_index()])
		wrmsr(MSR_X2APIC(off), v);
	else
		mmio_write32(XAPIC_MMIO + off, v);
}

void apic_icr(uint32_t lo, uint32_t dest)
{
	if (x2apic_mode[cpu_index()]) {
		wrmsr(MSR_X2APIC(APIC_ICR), (uint64_t)dest << 32 | lo);
	} else {
		mmio_write32(XAPIC_MMIO + APIC_ICR_HI, dest << 24);
		mmio_write32(XAPIC_MMIO + APIC_ICR, lo);
	}
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

/* ---------------------------------------------------------- IOAPIC */

uint32_t ioapic_read(uint32_t reg)
{
	mmio_write32(IOAPIC_MMIO + IOAPIC_REGSEL, reg);
	return mmio_read32(IOAPIC_MMIO + IOAPIC_WIN);
}

void ioapic_write(uint32_t reg, uint32_t v)
{
	mmio_write32(IOAPIC_MMIO + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_MMIO + IOAPIC_WIN, v);
}
