/* Self-tests of SMP bring-up and cross-CPU calls (test=smp). */
#include <x86/apic.h>
#include "hv/errno.h"
#include "hv/irqflags.h"
#include "hv/panic.h"
#include "hv/printk.h"
#include "hv/selftest.h"
#include "hv/smp.h"

/* Each CPU answers with its APIC ID as its own local APIC reports it. */
static int report_apic(void *arg)
{
	return (int)apic_id();
}

static int report_cpu(void *arg)
{
	__atomic_fetch_add((int *)arg, 1, __ATOMIC_SEQ_CST);
	return (int)smp_processor_id();
}

SELFTEST(smp)
{
	static int results[NR_CPUS];
	unsigned int cpu, n = 0;
	int hits = 0;

	for_each_cpu(cpu, &cpu_online_mask) {
		int r = smp_call_function_single(cpu, report_apic, NULL, true);

		pr_info("smp: cpu %u apic %u answered %d\n", cpu, cpu_apic_id[cpu], r);
		CHECK(r == (int)cpu_apic_id[cpu]);
		n++;
	}
	CHECK(smp_call_function_all(report_cpu, &hits, results) == 0);
	CHECK(hits == (int)n);
	for_each_cpu(cpu, &cpu_online_mask)
		CHECK(results[cpu] == (int)cpu);
	CHECK(smp_call_function_single(NR_CPUS - 1, report_apic, NULL, true) == -ENODEV ||
	      cpumask_test(&cpu_online_mask, NR_CPUS - 1));
	pr_info("smp: %u CPUs online, all answered single and broadcast calls\n", n);
	return 0;
}

static int panic_here(void *arg)
{
	panic("panic on CPU %u", smp_processor_id());
}

/* A panic on an AP must stop every other CPU (by NMI) so the log ends with
 * the panic report; the boot CPU is busy-waiting for the call meanwhile. */
SELFTEST(panic_on_ap)
{
	CHECK(smp_num_online() > 1);
	smp_call_function_single(1, panic_here, NULL, true);
	pr_err("the boot CPU was not stopped by the panic on CPU 1\n");
	return -EIO;
}

static volatile int busy_release;

/* Keeps this CPU from answering calls: interrupts off until released. */
static int stay_busy(void *arg)
{
	unsigned long flags = local_irq_save();

	while (!__atomic_load_n(&busy_release, __ATOMIC_ACQUIRE))
		__asm__ __volatile__("pause");
	local_irq_restore(flags);
	return 0;
}

/* A CPU that does not answer is reported to the caller as -ETIMEDOUT, not
 * waited on forever; its late answer is not taken for a newer call's. */
SELFTEST(smp_timeout)
{
	static int results[NR_CPUS];
	uint64_t saved = smp_call_timeout_us;
	int r1, r2;

	CHECK(smp_num_online() >= 2);
	busy_release = 0;
	CHECK(smp_call_function_single(1, stay_busy, NULL, false) == 0);
	smp_call_timeout_us = 50000;
	r1 = smp_call_function_single(1, report_apic, NULL, true);
	r2 = smp_call_function_all(report_apic, NULL, results);
	smp_call_timeout_us = saved;
	pr_info("smp: busy CPU 1 -> single call %s, broadcast %s (CPU 1: %s)\n",
		errno_name(r1), errno_name(r2), errno_name(results[1]));
	__atomic_store_n(&busy_release, 1, __ATOMIC_RELEASE);
	CHECK(r1 == -ETIMEDOUT && r2 == -ETIMEDOUT && results[1] == -ETIMEDOUT);
	CHECK(results[0] == (int)cpu_apic_id[0]);
	/* Once free again, CPU 1 answers the next call with the right result. */
	CHECK(smp_call_function_single(1, report_apic, NULL, true) == (int)cpu_apic_id[1]);
	return 0;
}
