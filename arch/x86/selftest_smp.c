/* Self-tests of SMP bring-up and cross-CPU calls (test=smp). */
#include <x86/apic.h>
#include "hv/errno.h"
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
