/*
 * A child of root_irq.c that runs on its own (child_irq.h, struct
 * cs_mbox in vCPU 0's mailbox). vCPU 0, the BSP, goes to x2APIC mode and
 * starts the others, which the root put in wait-for-SIPI, with
 * INIT-SIPI-SIPI through the ICR; they arrive in real mode at the
 * runtime's trampoline (crt/sipi.S) and reach main like the BSP. Then, in
 * CS_TEST mode, the BSP sends IPIs of each kind (fixed to one, shorthand
 * all-but-self and all-including-self, logical and broadcast destinations,
 * a ring through every vCPU) while the APs sit in HLT, each counting what
 * it receives; in CS_PINGPONG mode it times IPI round trips with vCPU 1.
 */
#include "child.h"
#include "apic.h"
#include "child_irq.h"

static volatile uint32_t online, ap_ok, exited, go_exit;
static volatile uint32_t ap_info[CRT_MAX_VCPUS][4];

static struct cs_mbox *mbox0(void)
{
	return mailbox(0);
}

/* Spin until *p has all of `bits`, for at most `ms`. */
static bool wait_bits(volatile uint32_t *p, uint32_t bits, uint64_t ms)
{
	uint64_t t0 = rdtsc();

	while ((__atomic_load_n(p, __ATOMIC_ACQUIRE) & bits) != bits) {
		if (rdtsc() - t0 > ms_to_tsc(ms))
			return false;
		cpu_pause();
	}
	return true;
}

static void delay_us(uint64_t us)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < us_to_tsc(us))
		cpu_pause();
}

/* ---------------------------------------------------------- APs */

static void ring_go(struct trap_frame *f)
{
	unsigned int me = cpu_index(), n = cpu_count();

	apic_icr(CS_VEC_RING, (me + 1) % n);
	apic_eoi();
}

static void ping(struct trap_frame *f)
{
	apic_icr(CS_VEC_PONG, 0);
	apic_eoi();
}

static int ap_main(unsigned int cpu)
{
	uint32_t r[4];
	uint64_t sp, efer;
	uint32_t ok = 1;

	cpuid_count(1, 0, r);
	__asm__ __volatile__("mov %%rsp, %0" : "=r"(sp));
	efer = rdmsr(0xc0000080);
	irq_init();
	irq_set_handler(CS_VEC_RING_GO, ring_go);
	irq_set_handler(CS_VEC_PING, ping);
	apic_x2apic_on();
	ap_info[cpu][0] = r[1] >> 24;
	ap_info[cpu][1] = apic_read(APIC_ID);
	ap_info[cpu][2] = (uint32_t)efer;
	ap_info[cpu][3] = (uint32_t)((ram_size() - sp) / CRT_STACK_SIZE);
	ok = ap_info[cpu][0] == cpu && ap_info[cpu][1] == cpu && (efer & (1u << 10)) &&
	     ap_info[cpu][3] == cpu;
	if (ok)
		__atomic_fetch_or(&ap_ok, 1u << cpu, __ATOMIC_RELEASE);
	__atomic_fetch_or(&online, 1u << cpu, __ATOMIC_RELEASE);
	/* Sleep until an interrupt, count it, again, until the end. */
	for (;;) {
		irq_disable();
		if (__atomic_load_n(&go_exit, __ATOMIC_ACQUIRE))
			break;
		cpu_halt();
	}
	__atomic_fetch_or(&exited, 1u << cpu, __ATOMIC_RELEASE);
	return 0;
}

/* ---------------------------------------------------------- the BSP */

/* Counts of vector v on every vCPU into row. */
static void snapshot(uint32_t *row, unsigned int v)
{
	for (unsigned int i = 0; i < CRT_MAX_VCPUS; i++)
		row[i] = i < cpu_count() ? irq_count(i, v) : 0;
}

/* Interrupts on until every vCPU in `who` has taken vector v `n` times or
 * `ms` pass; then a little longer for any that should not come. */
static void settle(unsigned int v, uint32_t who, uint32_t n, uint64_t ms)
{
	uint64_t t0 = rdtsc();

	irq_enable();
	for (;;) {
		bool all = true;

		for (unsigned int i = 0; i < cpu_count(); i++)
			if ((who >> i & 1) && irq_count(i, v) < n)
				all = false;
		if (all || rdtsc() - t0 > ms_to_tsc(ms))
			break;
		cpu_pause();
	}
	delay_us(2000);
	irq_disable();
}

static int start_aps(struct cs_mbox *mb, uint32_t aps)
{
	uint64_t t0 = rdtsc();
	unsigned int n = cpu_count();

	for (unsigned int i = 1; i < n; i++)
		apic_icr(ICR_INIT | ICR_ASSERT, i);
	delay_us(100);
	for (int k = 0; k < 2; k++) {
		for (unsigned int i = 1; i < n; i++)
			apic_icr(ICR_SIPI | sipi_vector(), i);
		delay_us(200);
	}
	if (!wait_bits(&online, aps, 10000)) {
		snprintf(mb->text, sizeof(mb->text), "APs online 0x%x of 0x%x after 10 s",
			  online, aps | 1);
		return -1;
	}
	mb->start_ticks = rdtsc() - t0;
	return 0;
}

static void ipi_tests(struct cs_mbox *mb, uint32_t aps)
{
	unsigned int n = cpu_count();
	uint32_t all = aps | 1, logical = 0;

	/* Fixed, physical, one AP at a time. */
	for (unsigned int i = 1; i < n; i++) {
		apic_icr(CS_VEC_PHYS, i);
		settle(CS_VEC_PHYS, 1u << i, 1, 2000);
	}
	snapshot(mb->count[CT_PHYS], CS_VEC_PHYS);
	/* All but self. */
	apic_icr(CS_VEC_OTHERS | ICR_OTHERS, 0);
	settle(CS_VEC_OTHERS, aps, 1, 2000);
	snapshot(mb->count[CT_OTHERS], CS_VEC_OTHERS);
	/* Logical, x2APIC cluster 0: the odd vCPUs. */
	for (unsigned int i = 1; i < n; i += 2)
		logical |= 1u << i;
	mb->logical_dest = logical;
	apic_icr(CS_VEC_LOGICAL | ICR_LOGICAL, logical);
	settle(CS_VEC_LOGICAL, logical, 1, 2000);
	snapshot(mb->count[CT_LOGICAL], CS_VEC_LOGICAL);
	/* All including self. */
	apic_icr(CS_VEC_ALL | ICR_ALL, 0);
	settle(CS_VEC_ALL, all, 1, 2000);
	snapshot(mb->count[CT_ALL], CS_VEC_ALL);
	/* Physical broadcast. */
	apic_icr(CS_VEC_BCAST, 0xffffffffu);
	settle(CS_VEC_BCAST, all, 1, 2000);
	snapshot(mb->count[CT_BCAST], CS_VEC_BCAST);
	/* A ring: each AP's handler passes one on to the next vCPU. */
	apic_icr(CS_VEC_RING_GO | ICR_OTHERS, 0);
	apic_icr(CS_VEC_RING, 1);
	settle(CS_VEC_RING, all, 1, 2000);
	snapshot(mb->count[CT_RING], CS_VEC_RING);
}

static void pingpong(struct cs_mbox *mb)
{
	uint64_t iters = mb->arg[2], t0 = 0;

	for (uint64_t k = 0; k < iters + 50; k++) {
		uint32_t c = irq_count(0, CS_VEC_PONG);

		if (k == 50)
			t0 = rdtsc();
		apic_icr(CS_VEC_PING, 1);
		while (irq_count(0, CS_VEC_PONG) == c)
			cpu_halt();
	}
	mb->pingpong_ticks = rdtsc() - t0;
}

static int bsp_main(void)
{
	struct cs_mbox *mb = mbox0();
	unsigned int n = cpu_count();
	uint32_t aps = ((1u << n) - 1) & ~1u;
	int status = 0;

	tsc_set_khz(mb->arg[1]);
	map_high();
	irq_init();
	apic_x2apic_on();
	__atomic_fetch_or(&online, 1u, __ATOMIC_RELEASE);
	if (start_aps(mb, aps) < 0) {
		status = 1;
	} else if (mb->arg[0] == CS_PINGPONG) {
		pingpong(mb);
	} else {
		ipi_tests(mb, aps);
	}
	mb->online = online;
	mb->ap_ok = ap_ok;
	for (unsigned int i = 0; i < CRT_MAX_VCPUS; i++) {
		mb->hlt_wakes[i] = irq_hlt_wakes(i);
		for (int k = 0; k < 4; k++)
			mb->ap_info[i][k] = ap_info[i][k];
	}
	/* The end: every AP wakes, sees go_exit and leaves. */
	__atomic_store_n(&go_exit, 1, __ATOMIC_RELEASE);
	apic_icr(CS_VEC_WAKE | ICR_OTHERS, 0);
	if (!wait_bits(&exited, online & aps, 5000) && !status)
		snprintf(mb->text, sizeof(mb->text), "APs that saw the end: 0x%x of 0x%x", exited,
			  online & aps);
	mb->exited = exited;
	return status;
}

int main(unsigned int cpu)
{
	if (cpu == 0)
		return bsp_main();
	return ap_main(cpu);
}
