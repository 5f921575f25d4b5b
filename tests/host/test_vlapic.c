/* The virtual local APIC: priorities, EOI, the timer in each mode, IPIs,
 * errors, destinations, x2APIC faults, mode changes, and accept from many
 * threads; a fake clock and recording ops stand in for the vCPU. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>
#include "hv/errno.h"
#include <x86/vlapic.h>

#define MSR(off) (VLAPIC_MSR_X2APIC_FIRST + (off) / 16)
#define BASE_XAPIC  (VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | VLAPIC_BASE_BSP)
#define BASE_X2APIC (BASE_XAPIC | VLAPIC_BASE_EXTD)
#define BASE_OFF    (VLAPIC_DEFAULT_BASE | VLAPIC_BASE_BSP)

static struct {
	struct vlapic l;
	uint64_t now;
	int ipis;
	uint32_t ipi_lo, ipi_dest;
	int eois;
	uint8_t eoi_vec;
} f;
static uint32_t page[1024] __attribute__((aligned(4096)));

static void fake_send_ipi(struct vlapic *src, uint32_t icr_lo, uint32_t dest)
{
	assert_ptr_equal(src, &f.l);
	f.ipis++;
	f.ipi_lo = icr_lo;
	f.ipi_dest = dest;
}

static void fake_eoi_level(struct vlapic *l, uint8_t vector)
{
	f.eois++;
	f.eoi_vec = vector;
}

static uint64_t fake_now(struct vlapic *l)
{
	return f.now;
}

static const struct vlapic_ops ops = { fake_send_ipi, fake_eoi_level, fake_now };

/* APIC ID 1, the BSP, software-enabled. */
static int setup(void **state)
{
	memset(&f, 0, sizeof(f));
	vlapic_init(&f.l, page, 1, true, &ops, &f);
	vlapic_mmio_write(&f.l, VLAPIC_SVR, 4, 0x1ff);
	return 0;
}

static uint32_t rd(uint32_t off)
{
	uint64_t v = ~0ULL;

	assert_int_equal(vlapic_mmio_read(&f.l, off, 4, &v), 0);
	return (uint32_t)v;
}

static void wr(uint32_t off, uint32_t v)
{
	assert_int_equal(vlapic_mmio_write(&f.l, off, 4, v), 0);
}

static uint64_t rdmsr(uint32_t msr)
{
	uint64_t v = ~0ULL;

	assert_int_equal(vlapic_msr_read(&f.l, msr, &v), 0);
	return v;
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	assert_int_equal(vlapic_msr_write(&f.l, msr, v), 0);
}

static void to_x2apic(void)
{
	wrmsr(VLAPIC_MSR_APIC_BASE, BASE_X2APIC);
	assert_true(vlapic_x2apic_mode(&f.l));
}

static bool irr(unsigned int v)
{
	return rd(VLAPIC_IRR + v / 32 * 16) & (1u << (v % 32));
}

static bool isr(unsigned int v)
{
	return rd(VLAPIC_ISR + v / 32 * 16) & (1u << (v % 32));
}

static bool tmr(unsigned int v)
{
	return rd(VLAPIC_TMR + v / 32 * 16) & (1u << (v % 32));
}

static unsigned int irr_count(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < 8; i++)
		n += __builtin_popcount(rd(VLAPIC_IRR + i * 16));
	return n;
}

/* Take the highest pending vector and retire it. */
static void take_and_eoi(void)
{
	int v = vlapic_pending_vector(&f.l);

	assert_true(v >= 0);
	vlapic_ack(&f.l, (uint8_t)v);
	wr(VLAPIC_EOI, 0);
}

static uint32_t latch_esr(void)
{
	wr(VLAPIC_ESR, 0);
	return rd(VLAPIC_ESR);
}

/* ---------------------------------------------------------------- state */

static void power_on_state(void **state)
{
	static const uint32_t lvts[] = { VLAPIC_LVT_CMCI, VLAPIC_LVT_TIMER, VLAPIC_LVT_THERM,
		VLAPIC_LVT_PERF, VLAPIC_LVT_LINT0, VLAPIC_LVT_LINT1, VLAPIC_LVT_ERROR };

	vlapic_init(&f.l, page, 3, false, &ops, &f);
	assert_int_equal(f.l.apic_base, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN);
	assert_true(vlapic_mmio_enabled(&f.l));
	assert_false(vlapic_x2apic_mode(&f.l));
	assert_int_equal(vlapic_mmio_base(&f.l), VLAPIC_DEFAULT_BASE);
	assert_false(vlapic_sw_enabled(&f.l));
	assert_int_equal(rd(VLAPIC_ID), 3u << 24);
	assert_int_equal(rd(VLAPIC_VERSION), 0x50014);
	assert_int_equal(rd(VLAPIC_LDR), 0);
	assert_int_equal(rd(VLAPIC_DFR), 0xffffffff);
	assert_int_equal(rd(VLAPIC_SVR), 0xff);
	assert_int_equal(rd(VLAPIC_TPR), 0);
	assert_int_equal(rd(VLAPIC_APR), 0);
	for (size_t i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		assert_int_equal(rd(lvts[i]), VLAPIC_LVT_MASKED);
	assert_int_equal(vlapic_next_event(&f.l), 0);
	assert_int_equal(vlapic_highest_irr(&f.l), -1);
	/* Software-disabled after reset: nothing is accepted. */
	assert_false(vlapic_accept(&f.l, 0x40, false));

	vlapic_init(&f.l, page, 0, true, &ops, &f);
	assert_int_equal(f.l.apic_base, BASE_XAPIC);
}

/* ------------------------------------------------------------- priority */

static void priority_and_ppr(void **state)
{
	wr(VLAPIC_TPR, 0x50);
	assert_true(vlapic_accept(&f.l, 0x45, false));
	assert_int_equal(vlapic_highest_irr(&f.l), 0x45);
	assert_int_equal(vlapic_pending_vector(&f.l), -1);     /* class 4 <= 5 */
	assert_int_equal(rd(VLAPIC_PPR), 0x50);
	wr(VLAPIC_TPR, 0x40);
	assert_int_equal(vlapic_pending_vector(&f.l), -1);     /* same class */
	wr(VLAPIC_TPR, 0x3f);
	assert_int_equal(vlapic_pending_vector(&f.l), 0x45);

	wr(VLAPIC_TPR, 0x50);
	assert_true(vlapic_accept(&f.l, 0x61, false));
	assert_int_equal(vlapic_pending_vector(&f.l), 0x61);
	vlapic_ack(&f.l, 0x61);
	assert_int_equal(rd(VLAPIC_PPR), 0x60);                /* ISR class wins */
	wr(VLAPIC_TPR, 0x63);
	assert_int_equal(rd(VLAPIC_PPR), 0x63);                /* equal class: TPR */
	wr(VLAPIC_TPR, 0x7f);
	assert_int_equal(rd(VLAPIC_PPR), 0x7f);
	/* A CR8 write through the TPR shadow changes the page behind the
	 * model's back: PPR follows. */
	page[VLAPIC_TPR / 4] = 0x20;
	assert_int_equal(vlapic_get_tpr(&f.l), 0x20);
	assert_int_equal(rd(VLAPIC_PPR), 0x60);
	assert_int_equal(vlapic_pending_vector(&f.l), -1);
	wr(VLAPIC_EOI, 0);
	assert_int_equal(rd(VLAPIC_PPR), 0x20);
	assert_int_equal(vlapic_pending_vector(&f.l), 0x45);

	vlapic_set_tpr(&f.l, 0x9a);
	assert_int_equal(rd(VLAPIC_TPR), 0x9a);
	assert_int_equal(vlapic_get_tpr(&f.l), 0x9a);
}

static void nested_irr_isr_eoi(void **state)
{
	assert_true(vlapic_accept(&f.l, 0x30, false));
	assert_true(vlapic_accept(&f.l, 0x50, false));
	assert_int_equal(vlapic_pending_vector(&f.l), 0x50);
	vlapic_ack(&f.l, 0x50);
	assert_false(irr(0x50));
	assert_true(isr(0x50));
	assert_int_equal(vlapic_pending_vector(&f.l), -1);     /* 0x30 below ISR's class */
	assert_true(vlapic_accept(&f.l, 0x60, false));
	assert_int_equal(vlapic_pending_vector(&f.l), 0x60);  /* nests */
	vlapic_ack(&f.l, 0x60);
	assert_true(isr(0x50) && isr(0x60));
	wr(VLAPIC_EOI, 0);                                      /* retires 0x60 first */
	assert_false(isr(0x60));
	assert_true(isr(0x50));
	assert_int_equal(vlapic_pending_vector(&f.l), -1);
	wr(VLAPIC_EOI, 0);
	assert_false(isr(0x50));
	assert_int_equal(vlapic_pending_vector(&f.l), 0x30);
	take_and_eoi();
	assert_int_equal(vlapic_highest_irr(&f.l), -1);
	assert_int_equal(f.eois, 0);                            /* all edge */
	wr(VLAPIC_EOI, 0);                                      /* nothing in service */
	assert_int_equal(f.eois, 0);
}

static void level_eoi_and_tmr(void **state)
{
	assert_true(vlapic_accept(&f.l, 0x70, true));
	assert_true(tmr(0x70));
	take_and_eoi();
	assert_int_equal(f.eois, 1);
	assert_int_equal(f.eoi_vec, 0x70);

	/* An edge acceptance of the same vector clears TMR. */
	assert_true(vlapic_accept(&f.l, 0x70, false));
	assert_false(tmr(0x70));
	take_and_eoi();
	assert_int_equal(f.eois, 1);

	/* EOI follows the in-service vector, not the newest. */
	assert_true(vlapic_accept(&f.l, 0x80, true));
	vlapic_ack(&f.l, 0x80);
	assert_true(vlapic_accept(&f.l, 0x90, false));
	vlapic_ack(&f.l, 0x90);
	wr(VLAPIC_EOI, 0);
	assert_int_equal(f.eois, 1);
	wr(VLAPIC_EOI, 0);
	assert_int_equal(f.eois, 2);
	assert_int_equal(f.eoi_vec, 0x80);
}

/* ---------------------------------------------------------------- timer */

static void timer_oneshot_each_divisor(void **state)
{
	static const struct { uint32_t dcr; uint64_t div; } d[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};

	wr(VLAPIC_LVT_TIMER, 0x40);
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		uint64_t start = 1000 + i * 100000, expiry = start + 100 * d[i].div;

		f.now = start;
		wr(VLAPIC_TDCR, d[i].dcr);
		assert_int_equal(rd(VLAPIC_TDCR), d[i].dcr);
		wr(VLAPIC_TMICT, 100);
		assert_int_equal(rd(VLAPIC_TMICT), 100);
		assert_int_equal(rd(VLAPIC_TMCCT), 100);
		assert_int_equal(vlapic_next_event(&f.l), expiry);
		/* count = initial - elapsed / divisor */
		f.now = start + 37 * d[i].div + d[i].div / 2;
		assert_int_equal(rd(VLAPIC_TMCCT), 63);
		f.now = expiry - 1;
		assert_int_equal(rd(VLAPIC_TMCCT), 1);
		vlapic_timer_check(&f.l, f.now);
		assert_false(irr(0x40));
		f.now = expiry;
		assert_int_equal(rd(VLAPIC_TMCCT), 0);
		vlapic_timer_check(&f.l, f.now);
		assert_true(irr(0x40));
		assert_false(tmr(0x40));
		assert_int_equal(vlapic_next_event(&f.l), 0);
		assert_int_equal(rd(VLAPIC_TMCCT), 0);
		assert_int_equal(rd(VLAPIC_TMICT), 100);       /* initial count stays */
		take_and_eoi();
		/* One-shot: nothing more. */
		vlapic_timer_check(&f.l, expiry + 1000000);
		assert_false(irr(0x40));
	}
}

static void timer_periodic_reload_and_catch_up(void **state)
{
	f.now = 5000;
	wr(VLAPIC_TDCR, 0xb);
	wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0x41);
	wr(VLAPIC_TMICT, 100);
	assert_int_equal(vlapic_next_event(&f.l), 5100);
	f.now = 5050;
	assert_int_equal(rd(VLAPIC_TMCCT), 50);
	f.now = 5100;
	vlapic_timer_check(&f.l, f.now);
	assert_true(irr(0x41));
	assert_int_equal(vlapic_next_event(&f.l), 5200);
	assert_int_equal(rd(VLAPIC_TMCCT), 100);               /* reloaded */
	take_and_eoi();

	/* Ten and a half periods late: the count goes on in its period, and
	 * the check gives one interrupt, not ten. */
	f.now = 6150;
	assert_int_equal(rd(VLAPIC_TMCCT), 50);
	vlapic_timer_check(&f.l, f.now);
	assert_int_equal(irr_count(), 1);
	assert_true(irr(0x41));
	assert_int_equal(vlapic_next_event(&f.l), 6200);
	assert_int_equal(rd(VLAPIC_TMCCT), 50);
	/* Exactly on a period boundary. */
	vlapic_timer_check(&f.l, 6400);
	assert_int_equal(vlapic_next_event(&f.l), 6500);
	assert_int_equal(irr_count(), 1);
}

static void timer_tsc_deadline(void **state)
{
	f.now = 1000;
	wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_DEADLINE | 0x42);
	assert_int_equal(rd(VLAPIC_LVT_TIMER), VLAPIC_TIMER_DEADLINE | 0x42);
	/* The count registers are out of play. */
	wr(VLAPIC_TMICT, 100);
	assert_int_equal(rd(VLAPIC_TMICT), 0);
	assert_int_equal(rd(VLAPIC_TMCCT), 0);
	assert_int_equal(vlapic_next_event(&f.l), 0);

	wrmsr(VLAPIC_MSR_TSC_DEADLINE, 1500);
	assert_int_equal(rdmsr(VLAPIC_MSR_TSC_DEADLINE), 1500);
	assert_int_equal(vlapic_next_event(&f.l), 1500);
	vlapic_timer_check(&f.l, 1499);
	assert_false(irr(0x42));
	vlapic_timer_check(&f.l, 1500);
	assert_true(irr(0x42));
	assert_int_equal(rdmsr(VLAPIC_MSR_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_next_event(&f.l), 0);
	take_and_eoi();

	/* A deadline already past fires at the next check. */
	f.now = 3000;
	wrmsr(VLAPIC_MSR_TSC_DEADLINE, 10);
	assert_int_equal(vlapic_next_event(&f.l), 10);
	vlapic_timer_check(&f.l, f.now);
	assert_true(irr(0x42));
	take_and_eoi();

	/* Writing 0 disarms. */
	wrmsr(VLAPIC_MSR_TSC_DEADLINE, 4000);
	wrmsr(VLAPIC_MSR_TSC_DEADLINE, 0);
	assert_int_equal(vlapic_next_event(&f.l), 0);
	vlapic_timer_check(&f.l, 5000);
	assert_false(irr(0x42));

	/* Outside TSC-deadline mode the MSR reads 0 and ignores writes. */
	wr(VLAPIC_LVT_TIMER, 0x42);
	wrmsr(VLAPIC_MSR_TSC_DEADLINE, 6000);
	assert_int_equal(rdmsr(VLAPIC_MSR_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_next_event(&f.l), 0);
}

static void timer_mode_switch_disarms(void **state)
{
	f.now = 100;
	wr(VLAPIC_LVT_TIMER, 0x43);
	wr(VLAPIC_TMICT, 1000);
	/* Same mode, masked: still armed. */
	wr(VLAPIC_LVT_TIMER, VLAPIC_LVT_MASKED | 0x43);
	assert_int_equal(vlapic_next_event(&f.l), 100 + 2000);
	wr(VLAPIC_LVT_TIMER, 0x43);
	/* One-shot to periodic. */
	wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0x43);
	assert_int_equal(vlapic_next_event(&f.l), 0);
	assert_int_equal(rd(VLAPIC_TMICT), 0);
	assert_int_equal(rd(VLAPIC_TMCCT), 0);
	vlapic_timer_check(&f.l, 1000000);
	assert_false(irr(0x43));
	/* TSC-deadline to one-shot, and back: the deadline is gone. */
	wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_DEADLINE | 0x43);
	wrmsr(VLAPIC_MSR_TSC_DEADLINE, 5000);
	wr(VLAPIC_LVT_TIMER, 0x43);
	assert_int_equal(vlapic_next_event(&f.l), 0);
	wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_DEADLINE | 0x43);
	assert_int_equal(rdmsr(VLAPIC_MSR_TSC_DEADLINE), 0);
	vlapic_timer_check(&f.l, 1000000);
	assert_false(irr(0x43));
	/* Periodic to TSC-deadline. */
	wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0x43);
	wr(VLAPIC_TMICT, 10);
	wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_DEADLINE | 0x43);
	assert_int_equal(vlapic_next_event(&f.l), 0);
}

static void timer_masked_counts_silently(void **state)
{
	f.now = 0;
	wr(VLAPIC_TDCR, 0xb);
	wr(VLAPIC_LVT_TIMER, VLAPIC_LVT_MASKED | 0x44);
	wr(VLAPIC_TMICT, 100);
	f.now = 30;
	assert_int_equal(rd(VLAPIC_TMCCT), 70);
	vlapic_timer_check(&f.l, 100);
	assert_int_equal(vlapic_highest_irr(&f.l), -1);
	assert_int_equal(vlapic_next_event(&f.l), 0);          /* one-shot disarmed */

	f.now = 200;
	wr(VLAPIC_LVT_TIMER, VLAPIC_LVT_MASKED | VLAPIC_TIMER_PERIODIC | 0x44);
	wr(VLAPIC_TMICT, 100);
	vlapic_timer_check(&f.l, 300);
	assert_int_equal(vlapic_highest_irr(&f.l), -1);
	assert_int_equal(vlapic_next_event(&f.l), 400);        /* reloaded */
	/* Unmasked: the next expiry interrupts. */
	wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0x44);
	vlapic_timer_check(&f.l, 400);
	assert_true(irr(0x44));
}

static void timer_stop_and_divide_change(void **state)
{
	f.now = 1000;
	wr(VLAPIC_TDCR, 0xb);
	wr(VLAPIC_LVT_TIMER, 0x45);
	wr(VLAPIC_TMICT, 1000);
	/* Initial count 0 stops the timer. */
	wr(VLAPIC_TMICT, 0);
	assert_int_equal(vlapic_next_event(&f.l), 0);
	assert_int_equal(rd(VLAPIC_TMCCT), 0);

	/* A divide change mid-count: the rest goes on at the new rate. */
	wr(VLAPIC_TMICT, 1000);
	f.now = 1400;
	assert_int_equal(rd(VLAPIC_TMCCT), 600);
	wr(VLAPIC_TDCR, 0x0);                                   /* ÷2 */
	assert_int_equal(rd(VLAPIC_TMCCT), 600);
	assert_int_equal(vlapic_next_event(&f.l), 1400 + 1200);
	f.now = 1600;
	assert_int_equal(rd(VLAPIC_TMCCT), 500);
	vlapic_timer_check(&f.l, 2600);
	assert_true(irr(0x45));
}

/* ------------------------------------------------------------------ IPIs */

static void icr_xapic(void **state)
{
	wr(VLAPIC_ICR_HI, 0x03ffffff);
	assert_int_equal(rd(VLAPIC_ICR_HI), 0x03000000);
	assert_int_equal(f.ipis, 0);
	/* vector 0x31, fixed, logical, assert, level trigger */
	wr(VLAPIC_ICR_LO, 0xc831);
	assert_int_equal(f.ipis, 1);
	assert_int_equal(f.ipi_lo, 0xc831);
	assert_int_equal(f.ipi_dest, 3);
	assert_int_equal(rd(VLAPIC_ICR_LO), 0xc831);
	/* Delivery status reads 0: delivered at once. */
	wr(VLAPIC_ICR_LO, 0x1031);
	assert_int_equal(f.ipi_lo, 0x31);
	assert_int_equal(rd(VLAPIC_ICR_LO), 0x31);
	/* NMI to all but self: vector 0 is fine outside fixed/lowest priority. */
	wr(VLAPIC_ICR_LO, (VLAPIC_SH_OTHERS << VLAPIC_ICR_SH_SHIFT) |
	   (VLAPIC_DM_NMI << VLAPIC_ICR_DM_SHIFT));
	assert_int_equal(f.ipis, 3);
	assert_int_equal(f.ipi_lo, 0xc0400);
	/* INIT and SIPI reach the router as written. */
	wr(VLAPIC_ICR_LO, 0xc500);
	assert_int_equal(f.ipi_lo, 0xc500);
	wr(VLAPIC_ICR_LO, 0x0698);
	assert_int_equal(f.ipi_lo, 0x0698);
	assert_int_equal(f.ipi_dest, 3);
	assert_int_equal(f.ipis, 5);
}

static void icr_x2apic(void **state)
{
	to_x2apic();
	wrmsr(MSR(VLAPIC_ICR_LO), (0x12345ULL << 32) | 0x4500);        /* INIT */
	assert_int_equal(f.ipis, 1);
	assert_int_equal(f.ipi_lo, 0x4500);
	assert_int_equal(f.ipi_dest, 0x12345);
	assert_int_equal(rdmsr(MSR(VLAPIC_ICR_LO)), (0x12345ULL << 32) | 0x4500);
	wrmsr(MSR(VLAPIC_ICR_LO), (0xffffffffULL << 32) | 0x80);
	assert_int_equal(f.ipi_lo, 0x80);
	assert_int_equal(f.ipi_dest, 0xffffffff);
	assert_int_equal(f.ipis, 2);
	/* In x2APIC mode delivery status (12) and bit 13 are reserved. */
	assert_int_equal(vlapic_msr_write(&f.l, MSR(VLAPIC_ICR_LO), 0x1080), -EINVAL);
	assert_int_equal(vlapic_msr_write(&f.l, MSR(VLAPIC_ICR_LO), 0x2080), -EINVAL);
	assert_int_equal(f.ipis, 2);
}

static void self_ipi(void **state)
{
	/* xAPIC: there is no SELF IPI register. */
	wr(VLAPIC_SELF_IPI, 0x55);
	assert_false(irr(0x55));
	assert_int_equal(rd(VLAPIC_SELF_IPI), 0);

	to_x2apic();
	assert_true(vlapic_accept(&f.l, 0x55, true));
	take_and_eoi();
	wrmsr(MSR(VLAPIC_SELF_IPI), 0x55);
	assert_int_equal(vlapic_highest_irr(&f.l), 0x55);
	assert_false(tmr(0x55));                                /* edge */
	assert_int_equal(f.ipis, 0);                            /* local, no router */
	assert_int_equal(vlapic_msr_write(&f.l, MSR(VLAPIC_SELF_IPI), 0x155), -EINVAL);
	assert_int_equal(vlapic_msr_read(&f.l, MSR(VLAPIC_SELF_IPI), &(uint64_t){0}), -EINVAL);
	/* An illegal vector is a send error. */
	wrmsr(MSR(VLAPIC_SELF_IPI), 0x05);
	wrmsr(MSR(VLAPIC_ESR), 0);
	assert_int_equal(rdmsr(MSR(VLAPIC_ESR)), VLAPIC_ESR_SEND_ILLEGAL);
	assert_int_equal(vlapic_highest_irr(&f.l), 0x55);
}

/* ---------------------------------------------------------------- errors */

static void illegal_vectors_set_esr(void **state)
{
	/* Send side: fixed and lowest priority with vectors 0-15 stay home. */
	wr(VLAPIC_ICR_LO, 0x05);
	wr(VLAPIC_ICR_LO, (VLAPIC_DM_LOWPRI << VLAPIC_ICR_DM_SHIFT) | 0x0f);
	assert_int_equal(f.ipis, 0);
	assert_int_equal(latch_esr(), VLAPIC_ESR_SEND_ILLEGAL);
	wr(VLAPIC_ICR_LO, 0x10);
	assert_int_equal(f.ipis, 1);
	assert_int_equal(latch_esr(), 0);

	/* Receive side. */
	for (unsigned int v = 0; v < 16; v++)
		assert_false(vlapic_accept(&f.l, (uint8_t)v, false));
	assert_int_equal(vlapic_highest_irr(&f.l), -1);
	assert_int_equal(latch_esr(), VLAPIC_ESR_RECV_ILLEGAL);

	/* Through the LVT error entry: an error interrupt. */
	wr(VLAPIC_LVT_ERROR, 0xfe);
	assert_false(vlapic_accept(&f.l, 3, false));
	assert_int_equal(vlapic_highest_irr(&f.l), 0xfe);
	take_and_eoi();
	/* An illegal error vector raises nothing (and does not loop). */
	wr(VLAPIC_LVT_ERROR, 0x03);
	assert_false(vlapic_accept(&f.l, 3, false));
	assert_int_equal(vlapic_highest_irr(&f.l), -1);
	assert_int_equal(latch_esr(), VLAPIC_ESR_RECV_ILLEGAL);
	/* A timer with an illegal vector: a receive error too. */
	wr(VLAPIC_LVT_ERROR, VLAPIC_LVT_MASKED);
	wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_DEADLINE | 0x02);
	wrmsr(VLAPIC_MSR_TSC_DEADLINE, 1);
	vlapic_timer_check(&f.l, 1);
	assert_int_equal(vlapic_highest_irr(&f.l), -1);
	assert_int_equal(latch_esr(), VLAPIC_ESR_RECV_ILLEGAL);
}

static void esr_write_latches(void **state)
{
	assert_false(vlapic_accept(&f.l, 1, false));
	assert_int_equal(rd(VLAPIC_ESR), 0);                    /* not latched yet */
	wr(VLAPIC_ESR, 0x12345678);                             /* any value latches */
	assert_int_equal(rd(VLAPIC_ESR), VLAPIC_ESR_RECV_ILLEGAL);
	wr(VLAPIC_ICR_LO, 0x01);
	assert_int_equal(rd(VLAPIC_ESR), VLAPIC_ESR_RECV_ILLEGAL);  /* still the old latch */
	wr(VLAPIC_ESR, 0);
	assert_int_equal(rd(VLAPIC_ESR), VLAPIC_ESR_SEND_ILLEGAL);
	wr(VLAPIC_ESR, 0);
	assert_int_equal(rd(VLAPIC_ESR), 0);
	/* Both at once. */
	assert_false(vlapic_accept(&f.l, 1, false));
	wr(VLAPIC_ICR_LO, 0x01);
	assert_int_equal(latch_esr(), VLAPIC_ESR_SEND_ILLEGAL | VLAPIC_ESR_RECV_ILLEGAL);
}

/* ----------------------------------------------------------- destinations */

static void match_physical(void **state)
{
	assert_true(vlapic_match_dest(&f.l, 1, false));
	assert_false(vlapic_match_dest(&f.l, 2, false));
	assert_true(vlapic_match_dest(&f.l, 0xff, false));
	assert_false(vlapic_match_dest(&f.l, 0x101, false));
	wr(VLAPIC_ID, 0x07ffffff);                              /* xAPIC ID is writable */
	assert_int_equal(rd(VLAPIC_ID), 0x07000000);
	assert_true(vlapic_match_dest(&f.l, 7, false));
	assert_false(vlapic_match_dest(&f.l, 1, false));
	to_x2apic();
	assert_int_equal(rdmsr(MSR(VLAPIC_ID)), 1);             /* the x2APIC ID */
	assert_true(vlapic_match_dest(&f.l, 1, false));
	assert_false(vlapic_match_dest(&f.l, 7, false));
	assert_false(vlapic_match_dest(&f.l, 0xff, false));
	assert_true(vlapic_match_dest(&f.l, 0xffffffff, false));
}

static void match_logical_flat(void **state)
{
	wr(VLAPIC_LDR, 0x04ffffff);
	assert_int_equal(rd(VLAPIC_LDR), 0x04000000);
	assert_int_equal(rd(VLAPIC_DFR), 0xffffffff);
	assert_true(vlapic_match_dest(&f.l, 0x04, true));
	assert_true(vlapic_match_dest(&f.l, 0x06, true));
	assert_false(vlapic_match_dest(&f.l, 0x08, true));
	assert_false(vlapic_match_dest(&f.l, 0x00, true));
	assert_true(vlapic_match_dest(&f.l, 0xff, true));
	assert_false(vlapic_match_dest(&f.l, 0x104, true));
}

static void match_logical_cluster(void **state)
{
	wr(VLAPIC_DFR, 0);
	assert_int_equal(rd(VLAPIC_DFR), 0x0fffffff);          /* low bits read as ones */
	wr(VLAPIC_LDR, 0x32000000);                             /* cluster 3, member bit 1 */
	assert_true(vlapic_match_dest(&f.l, 0x32, true));
	assert_true(vlapic_match_dest(&f.l, 0x33, true));
	assert_false(vlapic_match_dest(&f.l, 0x31, true));
	assert_false(vlapic_match_dest(&f.l, 0x22, true));
	assert_true(vlapic_match_dest(&f.l, 0xff, true));
	/* A model other than flat or cluster matches nothing. */
	wr(VLAPIC_DFR, 0x50000000);
	assert_int_equal(rd(VLAPIC_DFR), 0x5fffffff);
	assert_false(vlapic_match_dest(&f.l, 0x32, true));
}

static void match_logical_x2apic(void **state)
{
	vlapic_init(&f.l, page, 0x23, false, &ops, &f);
	to_x2apic();
	assert_int_equal(rdmsr(MSR(VLAPIC_LDR)), 0x20008);    /* cluster 2, bit 3 */
	assert_true(vlapic_match_dest(&f.l, 0x20008, true));
	assert_true(vlapic_match_dest(&f.l, 0x2000c, true));
	assert_false(vlapic_match_dest(&f.l, 0x20004, true));
	assert_false(vlapic_match_dest(&f.l, 0x10008, true));
	assert_true(vlapic_match_dest(&f.l, 0xffffffff, true));
	assert_true(vlapic_match_dest(&f.l, 0x23, false));
	assert_false(vlapic_match_dest(&f.l, 0x24, false));
}

/* ------------------------------------------------------- x2APIC faults */

static void x2apic_gp_cases(void **state)
{
	static const uint32_t no_read[] = { 0x800, 0x801, 0x804, 0x807, 0x809, 0x80b, 0x80c,
		0x80e, 0x829, 0x82e, 0x831, 0x83a, 0x83d, 0x83f, 0x840, 0x8ff };
	static const uint32_t no_write[] = { 0x800, 0x802, 0x803, 0x809, 0x80a, 0x80c, 0x80d,
		0x80e, 0x810, 0x817, 0x818, 0x81f, 0x820, 0x827, 0x831, 0x839, 0x840, 0x8ff };
	static const struct { uint32_t msr; uint64_t val; } bad_bits[] = {
		{ 0x808, 0x100 },               /* TPR 31:8 */
		{ 0x808, 1ULL << 32 },          /* bits 63:32 outside the ICR */
		{ 0x80b, 1 },                   /* EOI: only 0 */
		{ 0x828, 1 },                   /* ESR: only 0 */
		{ 0x80f, 0x1000 },              /* SVR: no EOI-broadcast suppression */
		{ 0x82f, 0x2000 },              /* CMCI: polarity */
		{ 0x832, 1u << 19 },            /* timer: bit 19 */
		{ 0x832, 0x700 },               /* timer: no delivery mode */
		{ 0x833, 0x8000 },              /* thermal: no trigger mode */
		{ 0x835, 1u << 17 },            /* LINT0: bit 17 */
		{ 0x837, 0x400 },               /* error: no delivery mode */
		{ 0x838, 1ULL << 32 },          /* initial count: 32 bits */
		{ 0x83e, 0x4 },                 /* divide: bit 2 */
		{ 0x83f, 0x100 },               /* SELF IPI: vector only */
	};
	uint64_t v;

	/* Outside x2APIC mode every x2APIC MSR faults. */
	assert_int_equal(vlapic_msr_read(&f.l, MSR(VLAPIC_ID), &v), -EINVAL);
	assert_int_equal(vlapic_msr_write(&f.l, MSR(VLAPIC_TPR), 0), -EINVAL);
	/* Not APIC MSRs at all. */
	assert_int_equal(vlapic_msr_read(&f.l, 0x10, &v), -ENOENT);
	assert_int_equal(vlapic_msr_write(&f.l, 0x7ff, 0), -ENOENT);
	assert_int_equal(vlapic_msr_read(&f.l, 0x900, &v), -ENOENT);

	to_x2apic();
	for (size_t i = 0; i < sizeof(no_read) / sizeof(no_read[0]); i++)
		assert_int_equal(vlapic_msr_read(&f.l, no_read[i], &v), -EINVAL);
	for (size_t i = 0; i < sizeof(no_write) / sizeof(no_write[0]); i++)
		assert_int_equal(vlapic_msr_write(&f.l, no_write[i], 0), -EINVAL);
	for (size_t i = 0; i < sizeof(bad_bits) / sizeof(bad_bits[0]); i++)
		assert_int_equal(vlapic_msr_write(&f.l, bad_bits[i].msr, bad_bits[i].val), -EINVAL);
	assert_int_equal(vlapic_msr_read(&f.l, 0x900, &v), -ENOENT);

	/* What is allowed: zero EOI and ESR writes, read-only LVT status
	 * bits (dropped), every readable register. */
	wrmsr(0x80b, 0);
	wrmsr(0x828, 0);
	wrmsr(0x835, 0x5700);
	assert_int_equal(rdmsr(0x835), 0x700);
	assert_int_equal(rdmsr(0x803), 0x50014);
	assert_int_equal(rdmsr(0x80a), 0);
	assert_int_equal(rdmsr(0x839), 0);
	assert_int_equal(rdmsr(0x83e), 0);
	/* A fault changes nothing. */
	assert_int_equal(rdmsr(0x808), 0);
	assert_int_equal(rdmsr(0x80f), 0x1ff);
}

/* ---------------------------------------------------------- mode changes */

static void apic_base_transitions(void **state)
{
	static const uint64_t bad_from_xapic[] = {
		VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EXTD,         /* EXTD without EN */
		BASE_XAPIC | (1ULL << 9),                       /* reserved */
		BASE_XAPIC | 1,
		BASE_XAPIC | (1ULL << 52),                      /* above MAXPHYADDR 52 */
		BASE_XAPIC | (1ULL << 63),
	};

	assert_int_equal(rdmsr(VLAPIC_MSR_APIC_BASE), BASE_XAPIC);
	for (size_t i = 0; i < sizeof(bad_from_xapic) / sizeof(bad_from_xapic[0]); i++)
		assert_int_equal(vlapic_msr_write(&f.l, VLAPIC_MSR_APIC_BASE, bad_from_xapic[i]),
				 -EINVAL);
	assert_int_equal(rdmsr(VLAPIC_MSR_APIC_BASE), BASE_XAPIC);

	/* Relocation moves the MMIO page; registers stay. */
	wr(VLAPIC_TPR, 0x20);
	wrmsr(VLAPIC_MSR_APIC_BASE, 0x000ffffffffff000ULL | VLAPIC_BASE_EN);
	assert_int_equal(vlapic_mmio_base(&f.l), 0x000ffffffffff000ULL);
	assert_true(vlapic_mmio_enabled(&f.l));
	assert_int_equal(rd(VLAPIC_TPR), 0x20);
	wrmsr(VLAPIC_MSR_APIC_BASE, BASE_XAPIC);
	assert_int_equal(vlapic_mmio_base(&f.l), VLAPIC_DEFAULT_BASE);

	/* xAPIC -> x2APIC: the MMIO view goes away. */
	to_x2apic();
	assert_false(vlapic_mmio_enabled(&f.l));
	assert_int_equal(rdmsr(MSR(VLAPIC_TPR)), 0x20);
	/* x2APIC -> xAPIC directly, or EXTD without EN: #GP. */
	assert_int_equal(vlapic_msr_write(&f.l, VLAPIC_MSR_APIC_BASE, BASE_XAPIC), -EINVAL);
	assert_int_equal(vlapic_msr_write(&f.l, VLAPIC_MSR_APIC_BASE,
					  BASE_OFF | VLAPIC_BASE_EXTD), -EINVAL);
	assert_true(vlapic_x2apic_mode(&f.l));
	wrmsr(VLAPIC_MSR_APIC_BASE, BASE_X2APIC);              /* no change: fine */
	/* x2APIC -> disabled -> xAPIC. */
	wrmsr(VLAPIC_MSR_APIC_BASE, BASE_OFF);
	assert_false(vlapic_x2apic_mode(&f.l));
	assert_false(vlapic_mmio_enabled(&f.l));
	/* disabled -> x2APIC: #GP (through xAPIC only). */
	assert_int_equal(vlapic_msr_write(&f.l, VLAPIC_MSR_APIC_BASE, BASE_X2APIC), -EINVAL);
	wrmsr(VLAPIC_MSR_APIC_BASE, BASE_XAPIC);
	assert_true(vlapic_mmio_enabled(&f.l));
	assert_int_equal(rd(VLAPIC_ID), 1u << 24);
	assert_int_equal(rd(VLAPIC_LDR), 0);
	/* The BSP flag reads back as written. */
	wrmsr(VLAPIC_MSR_APIC_BASE, BASE_XAPIC & ~VLAPIC_BASE_BSP);
	assert_int_equal(rdmsr(VLAPIC_MSR_APIC_BASE), BASE_XAPIC & ~VLAPIC_BASE_BSP);
}

static void software_disable_masks_lvts(void **state)
{
	static const uint32_t lvts[] = { VLAPIC_LVT_CMCI, VLAPIC_LVT_TIMER, VLAPIC_LVT_THERM,
		VLAPIC_LVT_PERF, VLAPIC_LVT_LINT0, VLAPIC_LVT_LINT1, VLAPIC_LVT_ERROR };

	wr(VLAPIC_SVR, 0x3ff);                                  /* focus check bit too */
	assert_int_equal(rd(VLAPIC_SVR), 0x3ff);
	wr(VLAPIC_SVR, 0x11ff);                                 /* no bit 12 here */
	assert_int_equal(rd(VLAPIC_SVR), 0x1ff);
	for (size_t i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++) {
		wr(lvts[i], 0x30);
		assert_int_equal(rd(lvts[i]), 0x30);
	}
	wr(VLAPIC_SVR, 0xff);
	assert_false(vlapic_sw_enabled(&f.l));
	for (size_t i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
		assert_int_equal(rd(lvts[i]), VLAPIC_LVT_MASKED | 0x30);
	/* The mask cannot be cleared while disabled; the rest is written. */
	wr(VLAPIC_LVT_LINT0, 0x700);
	assert_int_equal(rd(VLAPIC_LVT_LINT0), VLAPIC_LVT_MASKED | 0x700);
	assert_false(vlapic_accept(&f.l, 0x40, false));
	/* Re-enabled: the masks stay until written. */
	wr(VLAPIC_SVR, 0x1ff);
	assert_int_equal(rd(VLAPIC_LVT_LINT0), VLAPIC_LVT_MASKED | 0x700);
	wr(VLAPIC_LVT_LINT0, 0x700);
	assert_int_equal(rd(VLAPIC_LVT_LINT0), 0x700);
	assert_true(vlapic_accept(&f.l, 0x40, false));
}

static void hardware_disable_and_reenable(void **state)
{
	f.now = 10;
	wr(VLAPIC_ID, 0x07000000);
	wr(VLAPIC_TPR, 0x20);
	wr(VLAPIC_LVT_TIMER, 0x40);
	wr(VLAPIC_TMICT, 100);
	assert_true(vlapic_accept(&f.l, 0x50, false));
	wrmsr(VLAPIC_MSR_APIC_BASE, BASE_OFF);
	assert_false(vlapic_accept(&f.l, 0x51, false));
	assert_int_equal(vlapic_highest_irr(&f.l), -1);
	assert_int_equal(vlapic_next_event(&f.l), 0);
	assert_int_equal(page[VLAPIC_TPR / 4], 0);
	assert_int_equal(page[VLAPIC_ID / 4], 1u << 24);        /* power-on ID */
	assert_int_equal(page[VLAPIC_SVR / 4], 0xff);
	assert_int_equal(page[VLAPIC_LVT_TIMER / 4], VLAPIC_LVT_MASKED);
	/* Re-enabled: xAPIC mode, still software-disabled. */
	wrmsr(VLAPIC_MSR_APIC_BASE, BASE_XAPIC);
	assert_true(vlapic_mmio_enabled(&f.l));
	assert_false(vlapic_sw_enabled(&f.l));
	assert_false(vlapic_accept(&f.l, 0x51, false));
	wr(VLAPIC_SVR, 0x1ff);
	assert_true(vlapic_accept(&f.l, 0x51, false));
	assert_int_equal(f.l.id, 1);
}

static void init_keeps_id_and_mode(void **state)
{
	f.now = 10;
	wrmsr(VLAPIC_MSR_APIC_BASE, 0xfed00000ULL | VLAPIC_BASE_EN);
	wr(VLAPIC_ID, 0x07000000);
	wr(VLAPIC_TPR, 0x30);
	wr(VLAPIC_LDR, 0x01000000);
	wr(VLAPIC_LVT_TIMER, 0x40);
	wr(VLAPIC_TMICT, 100);
	assert_true(vlapic_accept(&f.l, 0x50, false));
	vlapic_init_signal(&f.l);
	assert_int_equal(rdmsr(VLAPIC_MSR_APIC_BASE), 0xfed00000ULL | VLAPIC_BASE_EN);
	assert_int_equal(rd(VLAPIC_ID), 0x07000000);
	assert_int_equal(rd(VLAPIC_TPR), 0);
	assert_int_equal(rd(VLAPIC_LDR), 0);
	assert_int_equal(rd(VLAPIC_SVR), 0xff);
	assert_int_equal(vlapic_highest_irr(&f.l), -1);
	assert_int_equal(vlapic_next_event(&f.l), 0);

	wrmsr(VLAPIC_MSR_APIC_BASE, BASE_XAPIC);
	to_x2apic();
	wrmsr(MSR(VLAPIC_TPR), 0x30);
	vlapic_init_signal(&f.l);
	assert_true(vlapic_x2apic_mode(&f.l));
	assert_int_equal(rdmsr(MSR(VLAPIC_ID)), 1);
	assert_int_equal(rdmsr(MSR(VLAPIC_LDR)), 0x2);
	assert_int_equal(rdmsr(MSR(VLAPIC_TPR)), 0);
	assert_int_equal(rdmsr(MSR(VLAPIC_SVR)), 0xff);

	/* RESET, by contrast, goes back to xAPIC at the default base. */
	vlapic_reset(&f.l, false);
	assert_int_equal(rdmsr(VLAPIC_MSR_APIC_BASE), VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN);
	assert_int_equal(rd(VLAPIC_ID), 1u << 24);
}

/* ------------------------------------------------------------- MMIO view */

static void mmio_sizes_and_offsets(void **state)
{
	uint64_t v;

	assert_int_equal(vlapic_mmio_read(&f.l, VLAPIC_VERSION, 1, &v), 0);
	assert_int_equal(v, 0x14);
	vlapic_mmio_read(&f.l, VLAPIC_VERSION + 2, 1, &v);
	assert_int_equal(v, 0x05);
	vlapic_mmio_read(&f.l, VLAPIC_VERSION, 2, &v);
	assert_int_equal(v, 0x0014);
	vlapic_mmio_read(&f.l, VLAPIC_VERSION + 2, 2, &v);
	assert_int_equal(v, 0x0005);
	vlapic_mmio_read(&f.l, VLAPIC_VERSION, 8, &v);
	assert_int_equal(v, 0x50014);                           /* bytes 4-7 read 0 */
	vlapic_mmio_read(&f.l, VLAPIC_SVR + 1, 4, &v);
	assert_int_equal(v, 0x01);
	vlapic_mmio_read(&f.l, VLAPIC_VERSION + 4, 4, &v);
	assert_int_equal(v, 0);
	vlapic_mmio_read(&f.l, VLAPIC_VERSION, 3, &v);
	assert_int_equal(v, 0);
	vlapic_mmio_read(&f.l, 0x1000, 4, &v);
	assert_int_equal(v, 0);
	/* Write-only and reserved registers read 0, with no error. */
	assert_int_equal(rd(VLAPIC_EOI), 0);
	assert_int_equal(rd(0x040), 0);
	assert_int_equal(rd(0x0c0), 0);
	assert_int_equal(rd(0x3c0), 0);
	assert_int_equal(latch_esr(), 0);

	/* Only aligned 32-bit stores write. */
	assert_int_equal(vlapic_mmio_write(&f.l, VLAPIC_TPR, 1, 0x33), 0);
	assert_int_equal(vlapic_mmio_write(&f.l, VLAPIC_TPR, 8, 0x33), 0);
	assert_int_equal(vlapic_mmio_write(&f.l, VLAPIC_TPR + 1, 4, 0x33), 0);
	assert_int_equal(vlapic_mmio_write(&f.l, VLAPIC_TPR + 4, 4, 0x33), 0);
	assert_int_equal(vlapic_mmio_write(&f.l, 0x1080, 4, 0x33), 0);
	assert_int_equal(rd(VLAPIC_TPR), 0);
	wr(VLAPIC_TPR, 0xfff);                                  /* 31:8 reserved: dropped */
	assert_int_equal(rd(VLAPIC_TPR), 0xff);
	/* Read-only registers ignore writes. */
	wr(VLAPIC_VERSION, 0);
	wr(VLAPIC_PPR, 0x10);
	wr(VLAPIC_IRR, 0xffffffff);
	wr(VLAPIC_TMCCT, 5);
	assert_int_equal(rd(VLAPIC_VERSION), 0x50014);
	assert_int_equal(rd(VLAPIC_IRR), 0);
	assert_int_equal(rd(VLAPIC_TMCCT), 0);
}

static void mmio_and_msr_views_agree(void **state)
{
	static const uint32_t regs[] = { VLAPIC_VERSION, VLAPIC_TPR, VLAPIC_PPR, VLAPIC_SVR,
		VLAPIC_ISR + 0x30, VLAPIC_TMR + 0x30, VLAPIC_IRR + 0x30, VLAPIC_IRR + 0x20,
		VLAPIC_ESR, VLAPIC_LVT_CMCI, VLAPIC_ICR_LO, VLAPIC_LVT_TIMER, VLAPIC_LVT_THERM,
		VLAPIC_LVT_PERF, VLAPIC_LVT_LINT0, VLAPIC_LVT_LINT1, VLAPIC_LVT_ERROR,
		VLAPIC_TMICT, VLAPIC_TMCCT, VLAPIC_TDCR };
	uint32_t seen[sizeof(regs) / sizeof(regs[0])];

	f.now = 1000;
	wr(VLAPIC_TPR, 0x25);
	wr(VLAPIC_SVR, 0x1f7);
	wr(VLAPIC_LVT_CMCI, 0x4f0);
	wr(VLAPIC_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0x33);
	wr(VLAPIC_LVT_THERM, 0x10234);
	wr(VLAPIC_LVT_PERF, 0x400);
	wr(VLAPIC_LVT_LINT0, 0xa700);
	wr(VLAPIC_LVT_LINT1, 0x400);
	wr(VLAPIC_LVT_ERROR, 0xfe);
	wr(VLAPIC_TDCR, 0x3);
	wr(VLAPIC_TMICT, 12345);
	wr(VLAPIC_ICR_LO, 0xc0461);
	assert_true(vlapic_accept(&f.l, 0x71, true));
	assert_true(vlapic_accept(&f.l, 0x72, false));
	assert_true(vlapic_accept(&f.l, 0x50, false));
	vlapic_ack(&f.l, 0x72);
	assert_false(vlapic_accept(&f.l, 0x01, false));
	wr(VLAPIC_ESR, 0);
	f.now = 2000;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		seen[i] = rd(regs[i]);

	to_x2apic();
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		assert_int_equal((uint32_t)rdmsr(MSR(regs[i])), seen[i]);
	/* And back: an MSR write shows in the page and the accessors. */
	wrmsr(MSR(VLAPIC_TPR), 0x44);
	assert_int_equal(page[VLAPIC_TPR / 4], 0x44);
	assert_int_equal(vlapic_get_tpr(&f.l), 0x44);
	vlapic_set_tpr(&f.l, 0x90);
	assert_int_equal(rdmsr(MSR(VLAPIC_TPR)), 0x90);
	wrmsr(MSR(VLAPIC_LVT_LINT1), 0x10400);
	assert_int_equal(page[VLAPIC_LVT_LINT1 / 4], 0x10400);
}

/* ------------------------------------------------------------- threads */

#define THREADS 8
#define ROUNDS  2000

static int acceptors_done;

/* Each thread raises its own vectors (v % THREADS == t) again and again,
 * each time once the owner has taken the previous one, while the owner
 * acks (clearing IRR bits in the same words): a lost update shows as a
 * vector taken fewer or more than ROUNDS times. */
static void *acceptor(void *arg)
{
	unsigned int t = (unsigned int)(uintptr_t)arg;

	for (int round = 0; round < ROUNDS; round++) {
		for (unsigned int v = 16 + t; v < 256; v += THREADS) {
			uint32_t *w = &page[(VLAPIC_IRR + v / 32 * 16) / 4];

			while (__atomic_load_n(w, __ATOMIC_ACQUIRE) & (1u << (v % 32)))
				;
			if (!vlapic_accept(&f.l, (uint8_t)v, v & 1))
				return (void *)1;
		}
	}
	__atomic_fetch_add(&acceptors_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void accept_from_many_threads(void **state)
{
	static unsigned int taken[256];
	pthread_t th[THREADS];
	int v;

	acceptors_done = 0;
	memset(taken, 0, sizeof(taken));
	for (unsigned int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, acceptor, (void *)(uintptr_t)i), 0);
	while ((v = vlapic_highest_irr(&f.l)) >= 0 ||
	       __atomic_load_n(&acceptors_done, __ATOMIC_ACQUIRE) < THREADS) {
		if (v < 0)
			continue;
		assert_int_equal(tmr(v), v & 1);
		vlapic_ack(&f.l, (uint8_t)v);
		taken[v]++;
		wr(VLAPIC_EOI, 0);
	}
	for (unsigned int i = 0; i < THREADS; i++) {
		void *ret;

		pthread_join(th[i], &ret);
		assert_null(ret);
	}
	for (unsigned int i = 0; i < 256; i++)
		assert_int_equal(taken[i], i >= 16 ? ROUNDS : 0);
	assert_int_equal(f.eois, 120 * ROUNDS);                 /* the odd, level vectors */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(power_on_state, setup),
		cmocka_unit_test_setup(priority_and_ppr, setup),
		cmocka_unit_test_setup(nested_irr_isr_eoi, setup),
		cmocka_unit_test_setup(level_eoi_and_tmr, setup),
		cmocka_unit_test_setup(timer_oneshot_each_divisor, setup),
		cmocka_unit_test_setup(timer_periodic_reload_and_catch_up, setup),
		cmocka_unit_test_setup(timer_tsc_deadline, setup),
		cmocka_unit_test_setup(timer_mode_switch_disarms, setup),
		cmocka_unit_test_setup(timer_masked_counts_silently, setup),
		cmocka_unit_test_setup(timer_stop_and_divide_change, setup),
		cmocka_unit_test_setup(icr_xapic, setup),
		cmocka_unit_test_setup(icr_x2apic, setup),
		cmocka_unit_test_setup(self_ipi, setup),
		cmocka_unit_test_setup(illegal_vectors_set_esr, setup),
		cmocka_unit_test_setup(esr_write_latches, setup),
		cmocka_unit_test_setup(match_physical, setup),
		cmocka_unit_test_setup(match_logical_flat, setup),
		cmocka_unit_test_setup(match_logical_cluster, setup),
		cmocka_unit_test_setup(match_logical_x2apic, setup),
		cmocka_unit_test_setup(x2apic_gp_cases, setup),
		cmocka_unit_test_setup(apic_base_transitions, setup),
		cmocka_unit_test_setup(software_disable_masks_lvts, setup),
		cmocka_unit_test_setup(hardware_disable_and_reenable, setup),
		cmocka_unit_test_setup(init_keeps_id_and_mode, setup),
		cmocka_unit_test_setup(mmio_sizes_and_offsets, setup),
		cmocka_unit_test_setup(mmio_and_msr_views_agree, setup),
		cmocka_unit_test_setup(accept_from_many_threads, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
