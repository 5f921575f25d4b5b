/*
 * Local APIC access. x2APIC (SDM Vol. 3A, 10.12) is used whenever the CPU
 * has it: it needs no MMIO mapping and carries 32-bit APIC IDs, so IDs
 * above 254 work; otherwise xAPIC through the MMIO page.
 */
#include <x86/apic.h>
#include <x86/cpu.h>
#include <x86/paging.h>
#include <x86/tsc.h>
#include "hv/errno.h"
#include "hv/printk.h"

#define MSR_APIC_BASE   0x1b
#define APIC_BASE_BSP   (1ULL << 8)
#define APIC_BASE_EXTD  (1ULL << 10)    /* x2APIC mode */
#define APIC_BASE_EN    (1ULL << 11)
#define MSR_X2APIC_BASE 0x800

/* Register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + offset / 16). */
#define APIC_ID         0x020
#define APIC_EOI        0x0b0
#define APIC_SVR        0x0f0
#define APIC_ESR        0x280
#define APIC_ICR_LO     0x300
#define APIC_ICR_HI     0x310
#define APIC_LVT_TIMER  0x320
#define APIC_LVT_ERROR  0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR  0x390
#define APIC_TIMER_DIV  0x3e0
#define LVT_MASKED      (1U << 16)
#define LVT_PERIODIC    (1U << 17)

#define ICR_FIXED       0x00000
#define ICR_NMI         0x00400
#define ICR_INIT        0x00500
#define ICR_STARTUP     0x00600
#define ICR_PENDING     (1U << 12)
#define ICR_ASSERT      (1U << 14)
#define ICR_ALL_BUT_SELF (3U << 18)

static volatile uint32_t *mmio;
static bool x2apic;

static uint32_t apic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
	return mmio[reg / 4];
}

static void apic_write(uint32_t reg, uint32_t val)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_BASE + (reg >> 4), val);
	else
		mmio[reg / 4] = val;
}

bool apic_x2apic_mode(void)
{
	return x2apic;
}

/* The legacy 8259 PICs: moved off the exception vectors, then masked, so a
 * stray ISA interrupt can neither look like a #DF nor arrive at all. */
static void pic_disable(void)
{
	static const uint8_t init[2][4] = {
		{ 0x11, 0x20, 0x04, 0x01 },     /* master: vectors 0x20-0x27 */
		{ 0x11, 0x28, 0x02, 0x01 },     /* slave:  vectors 0x28-0x2f */
	};

	for (int i = 0; i < 4; i++) {
		outb(0x20 + (i ? 1 : 0), init[0][i]);
		outb(0xa0 + (i ? 1 : 0), init[1][i]);
	}
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

int apic_init_bsp(uint64_t lapic_base)
{
	uint64_t msr = rdmsr(MSR_APIC_BASE);

	pic_disable();

	if (!(cpuid(1).edx & (1U << 9))) {
		pr_err("apic: this CPU has no local APIC\n");
		return ERR(-ENODEV);
	}
	x2apic = cpuid(1).ecx & (1U << 21);
	if (!lapic_base)
		lapic_base = msr & ~0xfffULL & ((1ULL << 52) - 1);
	if (!x2apic) {
		int r = paging_set(lapic_base, PAGE_SIZE, PAGE_MMIO);

		if (r)
			return r;
		mmio = (volatile uint32_t *)lapic_base;
	}
	pr_info("apic: %s mode%s\n", x2apic ? "x2APIC" : "xAPIC",
		x2apic ? "" : ", registers at MMIO");
	return 0;
}

void apic_init_cpu(void)
{
	uint64_t msr = rdmsr(MSR_APIC_BASE) | APIC_BASE_EN;

	/* xAPIC -> x2APIC must go through enabled xAPIC first (10.12.5). */
	wrmsr(MSR_APIC_BASE, msr);
	if (x2apic)
		wrmsr(MSR_APIC_BASE, msr | APIC_BASE_EXTD);
	apic_write(APIC_LVT_ERROR, VEC_APIC_ERROR);
	apic_write(APIC_ESR, 0);
	apic_write(APIC_SVR, 0x100 | VEC_SPURIOUS_APIC);       /* software enable */
	apic_eoi();
}

uint32_t apic_id(void)
{
	uint32_t id = apic_read(APIC_ID);

	return x2apic ? id : id >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

static int icr_send(uint32_t dest, uint32_t lo)
{
	if (x2apic) {
		/* One 64-bit write; no delivery-status bit in x2APIC mode. */
		wrmsr(MSR_X2APIC_BASE + (APIC_ICR_LO >> 4), ((uint64_t)dest << 32) | lo);
		return 0;
	}
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, lo);
	for (int i = 0; i < 1000000; i++)
		if (!(apic_read(APIC_ICR_LO) & ICR_PENDING))
			return 0;
	return ERR(-ETIMEDOUT);
}

int apic_send_init(uint32_t id)
{
	return icr_send(id, ICR_INIT | ICR_ASSERT);
}

int apic_send_sipi(uint32_t id, uint8_t page)
{
	return icr_send(id, ICR_STARTUP | ICR_ASSERT | page);
}

int apic_send_ipi(uint32_t id, uint8_t vector)
{
	return icr_send(id, ICR_FIXED | ICR_ASSERT | vector);
}

void apic_send_nmi_all_but_self(void)
{
	icr_send(0, ICR_NMI | ICR_ASSERT | ICR_ALL_BUT_SELF);
}

/* APIC timer ticks per millisecond at divide-by-16, measured against the
 * TSC once: every CPU's timer runs from the same bus clock. */
static uint64_t timer_ticks_per_ms;

static void timer_calibrate(void)
{
	apic_write(APIC_TIMER_DIV, 0x3);                /* divide by 16 */
	apic_write(APIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	apic_write(APIC_TIMER_INIT, 0xffffffff);
	udelay(1000);
	timer_ticks_per_ms = 0xffffffff - apic_read(APIC_TIMER_CUR);
	apic_write(APIC_TIMER_INIT, 0);
	if (!timer_ticks_per_ms)
		timer_ticks_per_ms = 1000;
}

void apic_timer_oneshot(uint8_t vector, uint64_t tsc_delta)
{
	uint64_t khz = tsc_khz() ? tsc_khz() : 1000000, ticks;

	if (!timer_ticks_per_ms)
		timer_calibrate();
	ticks = tsc_delta * timer_ticks_per_ms / khz;
	apic_write(APIC_TIMER_DIV, 0x3);
	apic_write(APIC_LVT_TIMER, vector);             /* one-shot, unmasked */
	apic_write(APIC_TIMER_INIT, (uint32_t)MIN(MAX(ticks, 1ULL), 0xffffffffULL));
}

void apic_timer_stop(void)
{
	apic_write(APIC_TIMER_INIT, 0);
}
