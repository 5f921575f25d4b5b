/*
 * A child of root_irq.c: a command loop (child_irq.h) over the local APIC,
 * the IOAPIC, HLT, NMIs, MMIO and string I/O. Each vCPU waits for a
 * command, does it with the arguments in its mailbox, leaves the results
 * there and waits again; the root judges them.
 */
#include "child.h"
#include "apic.h"
#include "child_irq.h"

static volatile uint64_t stamps[CRT_MAX_VCPUS][CI_MAX_TS];
static volatile uint32_t nstamps[CRT_MAX_VCPUS];
static volatile uint32_t noeoi[CRT_MAX_VCPUS][256];     /* by the level handler */
static volatile uint32_t nmis[CRT_MAX_VCPUS];
static volatile uint64_t last_deadline[CRT_MAX_VCPUS];
static volatile uint64_t latency_sum[CRT_MAX_VCPUS];

/* ---------------------------------------------------------- handlers */

static void timer_handler(struct trap_frame *f)
{
	unsigned int c = cpu_index();
	uint64_t t = rdtsc();

	if (nstamps[c] < CI_MAX_TS)
		stamps[c][nstamps[c]] = t;
	if (last_deadline[c])
		latency_sum[c] += t - last_deadline[c];
	nstamps[c]++;
	apic_eoi();
}

/* Level-triggered vectors: the test decides when the EOI goes. */
static void level_handler(struct trap_frame *f)
{
	noeoi[cpu_index()][f->vector & 0xff]++;
}

static bool nmi_handler(struct trap_frame *f)
{
	nmis[cpu_index()]++;
	return true;
}

static uint32_t taken(unsigned int cpu, unsigned int v)
{
	return irq_count(cpu, v) + noeoi[cpu][v];
}

static void spin_ticks(uint64_t ticks)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < ticks)
		cpu_pause();
}

/* Interrupts on for `ticks` (or until `*p >= n`), then off again. */
static void window(volatile uint32_t *p, uint32_t n, uint64_t ticks)
{
	uint64_t t0 = rdtsc();

	irq_enable();
	while (rdtsc() - t0 < ticks && (!p || *p < n))
		cpu_pause();
	irq_disable();
}

static void timer_reset(unsigned int cpu)
{
	irq_disable();
	apic_write(APIC_TMICT, 0);
	wrmsr(MSR_TSC_DEADLINE, 0);
	apic_write(APIC_LVT_TIMER, LVT_MASKED);         /* one-shot, masked */
	nstamps[cpu] = 0;
	last_deadline[cpu] = 0;
	latency_sum[cpu] = 0;
}

static void copy_stamps(unsigned int cpu, struct ci_mbox *mb)
{
	for (unsigned int i = 0; i < CI_MAX_TS; i++)
		mb->u.ts[i] = i < nstamps[cpu] ? stamps[cpu][i] : 0;
}

/* ---------------------------------------------------------- timer */

static void oneshot(unsigned int cpu, struct ci_mbox *mb)
{
	uint64_t t0, count = mb->arg[1];
	uint32_t cc[8];

	timer_reset(cpu);
	apic_write(APIC_LVT_TIMER, CI_VEC_TIMER);
	apic_write(APIC_TDCR, (uint32_t)mb->arg[0]);
	irq_enable();
	t0 = rdtsc();
	apic_write(APIC_TMICT, (uint32_t)count);
	for (int i = 0; i < 8; i++) {
		cc[i] = apic_read(APIC_TMCCT);
		for (int k = 0; k < 20; k++)
			cpu_pause();
	}
	while (!nstamps[cpu] && rdtsc() - t0 < ms_to_tsc(2000))
		cpu_pause();
	if (nstamps[cpu])
		spin_ticks(mb->arg[2]);
	irq_disable();
	mb->res[0] = nstamps[cpu];
	mb->res[1] = (int64_t)t0;
	mb->res[2] = (int64_t)stamps[cpu][0];
	mb->res[3] = apic_read(APIC_TMCCT);
	for (int i = 0; i < 8; i++)
		mb->u.cc[i] = cc[i];
	timer_reset(cpu);
}

static void periodic(unsigned int cpu, struct ci_mbox *mb)
{
	uint64_t t0, tstop;
	uint32_t n, irr;

	timer_reset(cpu);
	apic_write(APIC_LVT_TIMER, CI_VEC_TIMER | LVT_PERIODIC);
	apic_write(APIC_TDCR, (uint32_t)mb->arg[0]);
	irq_enable();
	t0 = rdtsc();
	apic_write(APIC_TMICT, (uint32_t)mb->arg[1]);
	while (rdtsc() - t0 < mb->arg[2])
		cpu_pause();
	irq_disable();
	apic_write(APIC_TMICT, 0);
	tstop = rdtsc();
	n = nstamps[cpu];
	/* One that expired before the stop but was not taken yet is no
	 * interrupt after it. */
	irr = apic_read(APIC_IRR + (CI_VEC_TIMER / 32) * 16) >> (CI_VEC_TIMER % 32) & 1;
	window(NULL, 0, mb->arg[3]);
	mb->res[0] = n;
	mb->res[1] = (int64_t)t0;
	mb->res[2] = (int64_t)tstop;
	mb->res[3] = nstamps[cpu] - n - irr;
	mb->res[4] = apic_read(APIC_TMCCT);
	copy_stamps(cpu, mb);
	if (irr)                        /* it belongs before the stop */
		mb->res[0]++;
	timer_reset(cpu);
}

static void masking(unsigned int cpu, struct ci_mbox *mb)
{
	uint64_t period = mb->arg[0], phase = period * mb->arg[1];
	uint32_t a, m0, m1, u0, cc1, cc2;

	timer_reset(cpu);
	apic_write(APIC_LVT_TIMER, CI_VEC_TIMER | LVT_PERIODIC);
	apic_write(APIC_TDCR, 0xb);                     /* divide by 1 */
	apic_write(APIC_TMICT, (uint32_t)period);
	window(NULL, 0, phase);
	a = nstamps[cpu];
	apic_write(APIC_LVT_TIMER, CI_VEC_TIMER | LVT_PERIODIC | LVT_MASKED);
	m0 = nstamps[cpu];
	cc1 = apic_read(APIC_TMCCT);
	window(NULL, 0, phase);
	cc2 = apic_read(APIC_TMCCT);
	m1 = nstamps[cpu];
	apic_write(APIC_LVT_TIMER, CI_VEC_TIMER | LVT_PERIODIC);
	u0 = nstamps[cpu];
	window(NULL, 0, phase);
	mb->res[0] = a;
	mb->res[1] = m1 - m0;
	mb->res[2] = nstamps[cpu] - u0;
	mb->res[3] = cc1 != cc2;
	timer_reset(cpu);
}

static void deadline(unsigned int cpu, struct ci_mbox *mb)
{
	uint64_t d, t0;

	timer_reset(cpu);
	apic_write(APIC_LVT_TIMER, CI_VEC_TIMER | LVT_DEADLINE);
	irq_enable();
	d = rdtsc() + mb->arg[0];
	wrmsr(MSR_TSC_DEADLINE, d);
	mb->res[4] = (int64_t)rdmsr(MSR_TSC_DEADLINE);
	t0 = rdtsc();
	while (!nstamps[cpu] && rdtsc() - t0 < ms_to_tsc(2000))
		cpu_pause();
	spin_ticks(mb->arg[1]);
	irq_disable();
	mb->res[0] = (int64_t)d;
	mb->res[1] = (int64_t)stamps[cpu][0];
	mb->res[2] = nstamps[cpu];
	mb->res[3] = (int64_t)rdmsr(MSR_TSC_DEADLINE);
	timer_reset(cpu);
}

static void deadline_past(unsigned int cpu, struct ci_mbox *mb)
{
	int64_t spins = 0;

	timer_reset(cpu);
	apic_write(APIC_LVT_TIMER, CI_VEC_TIMER | LVT_DEADLINE);
	irq_enable();
	wrmsr(MSR_TSC_DEADLINE, 1);
	while (!nstamps[cpu] && spins < 1000) {
		cpu_pause();
		spins++;
	}
	irq_disable();
	mb->res[0] = nstamps[cpu];
	mb->res[1] = spins;
	timer_reset(cpu);
}

static void disarm(unsigned int cpu, struct ci_mbox *mb)
{
	uint64_t ticks = mb->arg[0];

	timer_reset(cpu);
	apic_write(APIC_LVT_TIMER, CI_VEC_TIMER | LVT_DEADLINE);
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + ticks);
	wrmsr(MSR_TSC_DEADLINE, 0);
	mb->res[1] = (int64_t)rdmsr(MSR_TSC_DEADLINE);
	window(NULL, 0, 3 * ticks);
	mb->res[0] = nstamps[cpu];

	timer_reset(cpu);
	apic_write(APIC_LVT_TIMER, CI_VEC_TIMER);        /* one-shot */
	apic_write(APIC_TDCR, 0xb);
	apic_write(APIC_TMICT, (uint32_t)ticks);
	apic_write(APIC_TMICT, 0);
	window(NULL, 0, 3 * ticks);
	mb->res[2] = nstamps[cpu];
	mb->res[3] = apic_read(APIC_TMCCT);

	/* IA32_TSC_DEADLINE outside TSC-deadline mode: reads 0, does nothing. */
	timer_reset(cpu);
	apic_write(APIC_LVT_TIMER, CI_VEC_TIMER);
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + ticks);
	mb->res[4] = (int64_t)rdmsr(MSR_TSC_DEADLINE);
	window(NULL, 0, 3 * ticks);
	mb->res[5] = nstamps[cpu];
	timer_reset(cpu);
}

/* ---------------------------------------------------------- HLT */

static void hlt_timer(unsigned int cpu, struct ci_mbox *mb)
{
	uint32_t w0 = irq_hlt_wakes(cpu);
	uint64_t t0;
	int64_t halts = 0;

	timer_reset(cpu);
	apic_write(APIC_LVT_TIMER, CI_VEC_TIMER);
	apic_write(APIC_TDCR, 0xb);
	t0 = rdtsc();
	apic_write(APIC_TMICT, (uint32_t)mb->arg[0]);
	while (!nstamps[cpu] && rdtsc() - t0 < ms_to_tsc(2000)) {
		cpu_halt();
		halts++;
	}
	mb->res[0] = nstamps[cpu];
	mb->res[1] = irq_hlt_wakes(cpu) - w0;
	mb->res[2] = (int64_t)(stamps[cpu][0] - t0);
	mb->res[3] = halts;
	timer_reset(cpu);
}

static void hlt_cli(unsigned int cpu, struct ci_mbox *mb)
{
	unsigned int v = (unsigned int)mb->arg[0];

	timer_reset(cpu);
	apic_write(APIC_LVT_TIMER, CI_VEC_TIMER | LVT_DEADLINE);
	wrmsr(MSR_TSC_DEADLINE, 1);                     /* already due, IF=0 */
	__asm__ __volatile__("hlt" ::: "memory");       /* the root sees this one */
	window(NULL, 0, ms_to_tsc(200));
	mb->res[0] = nstamps[cpu];
	mb->res[1] = taken(cpu, v);
	timer_reset(cpu);
}

static void hlt_sti(unsigned int cpu, struct ci_mbox *mb)
{
	unsigned int v = (unsigned int)mb->arg[0];
	uint32_t w0 = irq_hlt_wakes(cpu);

	cpu_halt();
	irq_wait(v, 1, ms_to_tsc(500));
	mb->res[0] = taken(cpu, v);
	mb->res[1] = irq_hlt_wakes(cpu) - w0;
}

/* ---------------------------------------------------------- APIC, IOAPIC */

static uint32_t esr_latch(void)
{
	apic_write(APIC_ESR, 0);
	return apic_read(APIC_ESR);
}

static int64_t rd_vec(uint32_t msr)
{
	uint64_t v;

	return rdmsr_safe(msr, &v);
}

/*
 * One vCPU's local APIC through both views: registers written through the
 * xAPIC page, read back there, the switch to x2APIC, the same registers
 * through the MSRs, what x2APIC refuses, and the IA32_APIC_BASE
 * transitions. The root compares (root_irq.c, views_section).
 */
static void views(unsigned int cpu, struct ci_mbox *mb)
{
	int64_t *w = mb->u.views;
	const uint64_t a = XAPIC_MMIO;
	uint64_t base;
	uint32_t n0;

	for (int i = 0; i < VW_COUNT; i++)
		w[i] = 0x7fffffff;
	/* xAPIC */
	w[VW_X_ID] = mmio_read32(a + APIC_ID);
	w[VW_X_VER] = mmio_read32(a + APIC_VERSION);
	mmio_write32(a + APIC_SVR, 0x1ff);
	w[VW_X_SVR] = mmio_read32(a + APIC_SVR);
	mmio_write32(a + APIC_TPR, 0x20);
	w[VW_X_TPR] = mmio_read32(a + APIC_TPR);
	w[VW_X_PPR] = mmio_read32(a + APIC_PPR);
	mmio_write32(a + APIC_LDR, 0x03000000);
	w[VW_X_LDR] = mmio_read32(a + APIC_LDR);
	w[VW_X_DFR] = mmio_read32(a + APIC_DFR);
	mmio_write32(a + APIC_LVT_TIMER, 0x30045);
	w[VW_X_LVT_TIMER] = mmio_read32(a + APIC_LVT_TIMER);
	mmio_write32(a + APIC_LVT_ERROR, 0x1f0fe);
	w[VW_X_LVT_ERROR] = mmio_read32(a + APIC_LVT_ERROR);
	mmio_write32(a + APIC_LVT_LINT0, 0x1f7ff);
	w[VW_X_LVT_LINT0] = mmio_read32(a + APIC_LVT_LINT0);
	mmio_write32(a + APIC_ESR, 0);
	mmio_write32(a + APIC_ICR_HI, 0);
	mmio_write32(a + APIC_ICR, ICR_SELF | 5);        /* illegal vector */
	w[VW_X_ESR_UNLATCHED] = mmio_read32(a + APIC_ESR);
	mmio_write32(a + APIC_ESR, 0);
	w[VW_X_ESR_LATCHED] = mmio_read32(a + APIC_ESR);
	mmio_write32(a + APIC_ESR, 0);
	w[VW_X_ESR_CLEARED] = mmio_read32(a + APIC_ESR);
	mmio_write32(a + APIC_TPR, 0);
	mmio_write32(a + APIC_ICR_HI, 0);
	mmio_write32(a + APIC_ICR, ICR_SELF | CI_VEC_SELF);
	irq_wait(CI_VEC_SELF, 1, ms_to_tsc(200));
	w[VW_X_SELF_IPI] = irq_count(cpu, CI_VEC_SELF);
	mmio_write32(a + APIC_ICR_HI, (uint32_t)w[VW_X_ID] & 0xff000000);
	mmio_write32(a + APIC_ICR, CI_VEC_SELF2);       /* fixed, physical, its own ID */
	irq_wait(CI_VEC_SELF2, 1, ms_to_tsc(200));
	w[VW_X_DEST_IPI] = irq_count(cpu, CI_VEC_SELF2);
	mmio_write32(a + APIC_TPR, 0x20);
	w[VW_X_MSR_GP] = rd_vec(MSR_X2APIC(APIC_VERSION));
	base = rdmsr(MSR_APIC_BASE);
	w[VW_BASE] = (int64_t)base;

	w[VW_TO_X2] = apic_set_base(base | APIC_BASE_EXTD);
	/* x2APIC */
	w[VW_2_ID] = (int64_t)rdmsr(MSR_X2APIC(APIC_ID));
	w[VW_2_VER] = (int64_t)rdmsr(MSR_X2APIC(APIC_VERSION));
	w[VW_2_SVR] = (int64_t)rdmsr(MSR_X2APIC(APIC_SVR));
	w[VW_2_TPR] = (int64_t)rdmsr(MSR_X2APIC(APIC_TPR));
	w[VW_2_PPR] = (int64_t)rdmsr(MSR_X2APIC(APIC_PPR));
	w[VW_2_LDR] = (int64_t)rdmsr(MSR_X2APIC(APIC_LDR));
	w[VW_2_LVT_TIMER] = (int64_t)rdmsr(MSR_X2APIC(APIC_LVT_TIMER));
	w[VW_2_LVT_ERROR] = (int64_t)rdmsr(MSR_X2APIC(APIC_LVT_ERROR));
	w[VW_2_LVT_LINT0] = (int64_t)rdmsr(MSR_X2APIC(APIC_LVT_LINT0));
	wrmsr(MSR_X2APIC(APIC_ESR), 0);
	wrmsr(MSR_X2APIC(APIC_ICR), ICR_SELF | 5);
	w[VW_2_ESR_UNLATCHED] = (int64_t)rdmsr(MSR_X2APIC(APIC_ESR));
	wrmsr(MSR_X2APIC(APIC_ESR), 0);
	w[VW_2_ESR_LATCHED] = (int64_t)rdmsr(MSR_X2APIC(APIC_ESR));
	wrmsr(MSR_X2APIC(APIC_ESR), 0);
	w[VW_2_ESR_CLEARED] = (int64_t)rdmsr(MSR_X2APIC(APIC_ESR));
	w[VW_2_ESR_NONZERO] = wrmsr_safe(MSR_X2APIC(APIC_ESR), 1);
	wrmsr(MSR_X2APIC(APIC_TPR), 0);
	n0 = irq_count(cpu, CI_VEC_SELF3);
	wrmsr(MSR_X2APIC(APIC_SELF_IPI), CI_VEC_SELF3);
	irq_wait(CI_VEC_SELF3, n0 + 1, ms_to_tsc(200));
	w[VW_2_SELF_IPI] = irq_count(cpu, CI_VEC_SELF3) - n0;
	wrmsr(MSR_X2APIC(APIC_TPR), 0x20);
	w[VW_2_GP_EOI_READ] = rd_vec(MSR_X2APIC(APIC_EOI));
	w[VW_2_GP_EOI_NONZERO] = wrmsr_safe(MSR_X2APIC(APIC_EOI), 1);
	w[VW_2_GP_ICR_HI] = rd_vec(MSR_X2APIC(APIC_ICR_HI));
	w[VW_2_GP_APR] = rd_vec(MSR_X2APIC(APIC_APR));
	w[VW_2_GP_DFR] = rd_vec(MSR_X2APIC(APIC_DFR));
	w[VW_2_GP_ID_WRITE] = wrmsr_safe(MSR_X2APIC(APIC_ID), 7);
	w[VW_2_GP_TPR_RSVD] = wrmsr_safe(MSR_X2APIC(APIC_TPR), 0x120);
	w[VW_2_GP_SELF_RSVD] = wrmsr_safe(MSR_X2APIC(APIC_SELF_IPI), 0x153);
	w[VW_2_GP_VER_WRITE] = wrmsr_safe(MSR_X2APIC(APIC_VERSION), 0);
	/* Not the APIC's any more: an MMIO exit the root answers. */
	w[VW_2_MMIO] = mmio_read32(a + APIC_VERSION);

	/* IA32_APIC_BASE (SDM 10.12.5) */
	base &= ~(APIC_BASE_EN | APIC_BASE_EXTD);
	w[VW_T_TO_XAPIC] = apic_set_base(base | APIC_BASE_EN);
	w[VW_T_EXTD_ONLY] = apic_set_base(base | APIC_BASE_EXTD);
	w[VW_T_RSVD] = apic_set_base(base | APIC_BASE_EN | APIC_BASE_EXTD | 1);
	w[VW_T_DISABLE] = apic_set_base(base);
	w[VW_T_DIS_MSR] = rd_vec(MSR_X2APIC(APIC_VERSION));
	w[VW_T_DIS_TO_X2] = apic_set_base(base | APIC_BASE_EN | APIC_BASE_EXTD);
	w[VW_T_DIS_TO_X] = apic_set_base(base | APIC_BASE_EN);
	w[VW_T_X_SVR] = mmio_read32(a + APIC_SVR);
	w[VW_T_X_ID] = mmio_read32(a + APIC_ID);
	w[VW_T_X_TO_X2] = apic_set_base(base | APIC_BASE_EN | APIC_BASE_EXTD);
	w[VW_T_X2_ID] = (int64_t)rdmsr(MSR_X2APIC(APIC_ID));
	apic_sw_enable();
}

static void irr_state(struct ci_mbox *mb)
{
	uint32_t irr = 0, isr = 0;

	for (uint32_t i = 0; i < 8; i++) {
		irr |= apic_read(APIC_IRR + i * 16);
		isr |= apic_read(APIC_ISR + i * 16);
	}
	mb->res[0] = irr;
	mb->res[1] = isr;
	mb->res[2] = esr_latch();
}

/* ---------------------------------------------------------- MMIO, string I/O */

/*
 * Each access below is an exit to the root, in this order: a MOV load
 * (4 bytes, at +0), a MOV store (4, +4), MOVZX loads (1 at +8, 2 at +10),
 * an OR to memory (a load then a store, 4 at +12), a MOV store of 8 bytes
 * (+24), and LODSL (+16), which the emulator does not do: the root
 * emulates it (RAX, RSI, RIP).
 */
static void mmio_seq(struct ci_mbox *mb)
{
	uint64_t a = mb->arg[0], l = 0, p = a + 16;
	uint32_t v, b, w;

	v = mmio_read32(a);
	mmio_write32(a + 4, 0xcafef00d);
	__asm__ __volatile__("movzbl (%1), %0" : "=r"(b) : "r"(a + 8) : "memory");
	__asm__ __volatile__("movzwl (%1), %0" : "=r"(w) : "r"(a + 10) : "memory");
	__asm__ __volatile__("orl $0x100, (%0)" :: "r"(a + 12) : "memory", "cc");
	*(volatile uint64_t *)(uintptr_t)(a + 24) = 0x0123456789abcdefULL;
	__asm__ __volatile__("lodsl" : "+a"(l), "+S"(p) :: "memory");
	mb->res[0] = v;
	mb->res[1] = b;
	mb->res[2] = w;
	mb->res[3] = (int64_t)l;
	mb->res[4] = (int64_t)(p - (a + 16));
}

static void outs(struct ci_mbox *mb)
{
	const uint8_t *src = mb->u.bytes;
	uint64_t n = 16;

	__asm__ __volatile__("rep outsb" : "+S"(src), "+c"(n) : "d"((uint16_t)mb->arg[0]) : "memory");
	mb->res[0] = (int64_t)n;
	mb->res[1] = src - mb->u.bytes;
}

static void ins(struct ci_mbox *mb)
{
	uint8_t *dst = mb->u.bytes + 32;
	uint64_t n = 16;

	__asm__ __volatile__("rep insb" : "+D"(dst), "+c"(n) : "d"((uint16_t)mb->arg[0]) : "memory");
	mb->res[0] = (int64_t)n;
	mb->res[1] = dst - (mb->u.bytes + 32);
}

/* ---------------------------------------------------------- benchmarks */

static void bench(unsigned int cpu, struct ci_mbox *mb)
{
	uint64_t n = mb->arg[1], t0, t1;
	uint32_t r[4];

	timer_reset(cpu);
	switch (mb->arg[0]) {
	case CB_CPUID:
		t0 = rdtsc();
		for (uint64_t i = 0; i < n; i++)
			cpuid_count(0, 0, r);
		t1 = rdtsc();
		break;
	case CB_EOI:
		t0 = rdtsc();
		for (uint64_t i = 0; i < n; i++)
			wrmsr(MSR_X2APIC(APIC_EOI), 0);
		t1 = rdtsc();
		break;
	case CB_DEADLINE:
		/* A deadline already due fires at the next entry: WRMSR exit,
		 * injection, the handler's EOI (a WRMSR exit). */
		apic_write(APIC_LVT_TIMER, CI_VEC_TIMER | LVT_DEADLINE);
		irq_enable();
		t0 = rdtsc();
		for (uint64_t i = 0; i < n; i++) {
			uint32_t k = nstamps[cpu];

			wrmsr(MSR_TSC_DEADLINE, rdtsc());
			while (nstamps[cpu] == k)
				cpu_pause();
		}
		t1 = rdtsc();
		irq_disable();
		break;
	case CB_XAPIC_READ:
		t0 = rdtsc();
		for (uint64_t i = 0; i < n; i++)
			(void)mmio_read32(XAPIC_MMIO + APIC_VERSION);
		t1 = rdtsc();
		break;
	case CB_HLT_TIMER:
		/* HLT, the hypervisor idles the CPU, its timer for the deadline
		 * wakes it; the handler adds TSC - deadline. */
		apic_write(APIC_LVT_TIMER, CI_VEC_TIMER | LVT_DEADLINE);
		t0 = rdtsc();
		for (uint64_t i = 0; i < n; i++) {
			uint32_t k = nstamps[cpu];
			uint64_t d = rdtsc() + mb->arg[2];

			last_deadline[cpu] = d;
			wrmsr(MSR_TSC_DEADLINE, d);
			while (nstamps[cpu] == k)
				cpu_halt();
		}
		t1 = rdtsc();
		break;
	default:
		t0 = t1 = 0;
		break;
	}
	mb->res[0] = (int64_t)(t1 - t0);
	mb->res[1] = (int64_t)latency_sum[cpu];
	timer_reset(cpu);
}

/* ---------------------------------------------------------- main */

static void setup(unsigned int cpu, struct ci_mbox *mb)
{
	uint32_t r[4];

	tsc_set_khz(mb->arg[0]);
	map_high();
	irq_init();
	irq_set_handler(CI_VEC_TIMER, timer_handler);
	trap_set_handler(2, nmi_handler);
	if (mb->arg[1])
		apic_x2apic_on();
	mb->res[0] = (int64_t)rdmsr(MSR_APIC_BASE);
	cpuid_count(1, 0, r);
	mb->res[1] = r[2];
	mb->res[2] = r[3];
}

int main(unsigned int cpu)
{
	struct ci_mbox *mb = mailbox(cpu);

	for (;;) {
		uint32_t cmd = cmd_wait();
		uint32_t r[4];

		switch (cmd) {
		case CI_NOP:
			break;
		case CI_SETUP:
			setup(cpu, mb);
			break;
		case CI_CPUID:
			cpuid_count(1, 0, r);
			mb->res[1] = r[2];
			mb->res[2] = r[3];
			break;
		case CI_ONESHOT:
			oneshot(cpu, mb);
			break;
		case CI_PERIODIC:
			periodic(cpu, mb);
			break;
		case CI_MASK:
			masking(cpu, mb);
			break;
		case CI_DEADLINE:
			deadline(cpu, mb);
			break;
		case CI_DEADLINE_PAST:
			deadline_past(cpu, mb);
			break;
		case CI_DISARM:
			disarm(cpu, mb);
			break;
		case CI_HLT_TIMER:
			hlt_timer(cpu, mb);
			break;
		case CI_HLT_CLI:
			hlt_cli(cpu, mb);
			break;
		case CI_HLT_STI:
			hlt_sti(cpu, mb);
			break;
		case CI_SEND_IPI:
			apic_write(APIC_ESR, 0);
			apic_icr((uint32_t)mb->arg[0], (uint32_t)mb->arg[1]);
			mb->res[0] = esr_latch();
			break;
		case CI_WAIT: {
			unsigned int v = (unsigned int)mb->arg[0] & 0xff;
			uint64_t t0 = rdtsc();

			irq_enable();
			while (taken(cpu, v) < mb->arg[1] && rdtsc() - t0 < ms_to_tsc(mb->arg[2]))
				cpu_pause();
			irq_disable();
			mb->res[0] = taken(cpu, v);
			mb->res[1] = taken(cpu, (unsigned int)mb->arg[3] & 0xff);
			break;
		}
		case CI_LEVEL:
			irq_set_handler((unsigned int)mb->arg[0], level_handler);
			break;
		case CI_EOI:
			apic_eoi();
			window(NULL, 0, ms_to_tsc(mb->arg[0]));
			mb->res[0] = taken(cpu, (unsigned int)mb->arg[1] & 0xff);
			break;
		case CI_IOAPIC: {
			uint32_t pin = (uint32_t)mb->arg[0];

			if (mb->arg[1]) {
				ioapic_write(IOAPIC_REG_REDIR(pin) + 1, (uint32_t)mb->arg[3]);
				ioapic_write(IOAPIC_REG_REDIR(pin), (uint32_t)mb->arg[2]);
			}
			mb->res[0] = ioapic_read(IOAPIC_REG_REDIR(pin));
			mb->res[1] = ioapic_read(IOAPIC_REG_REDIR(pin) + 1);
			mb->res[2] = ioapic_read(IOAPIC_REG_VERSION);
			break;
		}
		case CI_IRR:
			irr_state(mb);
			break;
		case CI_VIEWS:
			views(cpu, mb);
			break;
		case CI_SPIN:
			mb->u.spin.count = 0;
			while (!mb->u.spin.stop)
				mb->u.spin.count++;
			break;
		case CI_PAUSE_SPIN:
			mb->u.spin.count = 0;
			while (!mb->u.spin.stop) {
				mb->u.spin.count++;
				cpu_pause();
			}
			break;
		case CI_NMI_WAIT: {
			uint64_t t0 = rdtsc();

			while (nmis[cpu] < mb->arg[0] && rdtsc() - t0 < ms_to_tsc(mb->arg[1]))
				cpu_pause();
			mb->res[0] = nmis[cpu];
			break;
		}
		case CI_MMIO:
			mmio_seq(mb);
			break;
		case CI_OUTS:
			outs(mb);
			break;
		case CI_INS:
			ins(mb);
			break;
		case CI_BENCH:
			bench(cpu, mb);
			break;
		case CI_EXIT:
			return (int)mb->arg[0];
		default:
			cprintf("unknown command %u\n", cmd);
			return 0xbad;
		}
	}
}
