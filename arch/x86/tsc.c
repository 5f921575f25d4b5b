/*
 * TSC calibration. INIT-SIPI-SIPI (SDM Vol. 3A, 8.4.4.1) needs 10 ms and
 * 200 us delays, and every timeout in the hypervisor is in TSC cycles.
 */
#include <x86/tsc.h>
#include <x86/cpu.h>
#include "hv/printk.h"

uint64_t boot_tsc;
static uint64_t khz;

#define PIT_HZ          1193182ULL
#define PIT_CH2         0x42
#define PIT_CMD         0x43
#define PIT_GATE        0x61            /* bit 0 gate, bit 1 speaker, bit 5 OUT2 */
#define CALIBRATE_MS    10

static uint64_t from_cpuid(void)
{
	if (cpuid(0).eax < 0x15)
		return 0;
	struct cpuid_regs r = cpuid(0x15);     /* TSC/crystal ratio, crystal Hz */

	if (r.eax && r.ebx && r.ecx)
		return (uint64_t)r.ecx * r.ebx / r.eax / 1000;
	if (cpuid(0).eax >= 0x16 && (cpuid(0x16).eax & 0xffff))
		return (uint64_t)(cpuid(0x16).eax & 0xffff) * 1000;     /* base MHz */
	return 0;
}

static uint64_t from_pit(void)
{
	uint16_t count = PIT_HZ * CALIBRATE_MS / 1000;
	uint8_t gate = inb(PIT_GATE);
	uint64_t t0, t1;

	/* Channel 2, mode 0 (interrupt on terminal count), binary; OUT2 goes
	 * high when the count reaches zero. Speaker off, gate on. */
	outb(PIT_GATE, (gate & ~0x02) | 0x01);
	outb(PIT_CMD, 0xb0);
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
	t0 = rdtsc();
	/* Bounded: a port read takes about 1 us, so a PIT that never
	 * answers costs a few seconds, not minutes, before the fallback. */
	for (uint64_t spins = 0; !(inb(PIT_GATE) & 0x20); spins++)
		if (spins > 3000000ULL)
			break;
	t1 = rdtsc();
	outb(PIT_GATE, gate);
	return (t1 - t0) / CALIBRATE_MS;
}

uint64_t tsc_calibrate(void)
{
	const char *src = "CPUID 0x15/0x16";

	khz = from_cpuid();
	if (!khz) {
		khz = from_pit();
		src = "PIT channel 2";
	}
	if (khz < 1000) {               /* nonsense: assume 1 GHz, say so */
		pr_warn("tsc: calibration failed (%lu kHz), assuming 1 GHz\n", khz);
		khz = 1000000;
		src = "assumed";
	}
	pr_info("tsc: %lu.%03lu MHz (%s)\n", khz / 1000, khz % 1000, src);
	return khz;
}

uint64_t tsc_khz(void)
{
	return khz;
}

uint64_t tsc_to_us(uint64_t cycles)
{
	return khz ? cycles * 1000 / khz : 0;
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * khz / 1000;

	while (rdtsc() < end)
		cpu_relax_hint();
}
