/* CPU offline/online (hv/cpu_hotplug.h). */
#include "hv/cpu_hotplug.h"
#include "hv/errno.h"
#include "hv/printk.h"
#include "hv/smp.h"

struct notifier_chain cpu_notifiers = NOTIFIER_CHAIN_INIT;
static cpumask_t parked;

static int run_chain(void *arg)
{
	return notifier_call_chain(&cpu_notifiers, (unsigned long)arg, NULL);
}

bool cpu_is_parked(unsigned int cpu)
{
	return cpu < NR_CPUS && cpumask_test_atomic(&parked, cpu);
}

int cpu_offline(unsigned int cpu)
{
	int r;

	if (cpu == 0 || cpu >= NR_CPUS)
		return ERR(-EINVAL);
	if (cpu_is_parked(cpu))
		return ERR(-EALREADY);
	if (!cpumask_test_atomic(&cpu_online_mask, cpu))
		return ERR(-EINVAL);
	r = smp_call_function_single(cpu, run_chain, (void *)CPU_OFFLINE, true);
	if (r)
		return r;
	cpumask_clear_atomic(&cpu_online_mask, cpu);
	cpumask_set_atomic(&parked, cpu);
	pr_info("cpu: CPU %u offline\n", cpu);
	return 0;
}

int cpu_online(unsigned int cpu)
{
	int r;

	if (!cpu_is_parked(cpu))
		return ERR(cpu < NR_CPUS && cpumask_test_atomic(&cpu_online_mask, cpu) ?
			   -EALREADY : -EINVAL);
	/* Back in the mask first: the calls below need it. */
	cpumask_set_atomic(&cpu_online_mask, cpu);
	r = smp_call_function_single(cpu, run_chain, (void *)CPU_ONLINE, true);
	if (r) {
		cpumask_clear_atomic(&cpu_online_mask, cpu);
		return r;
	}
	cpumask_clear_atomic(&parked, cpu);
	pr_info("cpu: CPU %u online\n", cpu);
	return 0;
}
