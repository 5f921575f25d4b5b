/* Self-tests of the staged virtualization init (test=virt, test=virt_rollback). */
#include "hv/boot.h"
#include "hv/cpu_hotplug.h"
#include "hv/syscore.h"
#include "hv/errno.h"
#include "hv/hypercall.h"
#include "hv/leakcheck.h"
#include "hv/printk.h"
#include "hv/selftest.h"
#include "hv/smp.h"
#include "hv/virt_cpu.h"
#include "hv/virt_init.h"

/* The backend's read-back works whether or not the init ran (with
 * virtualization off it only reads CR4 / EFER), so use it directly. */
static int hw_state(void *arg)
{
	struct virt_check chk;
	const struct virt_ops *ops = arch_virt_select(&chk);

	return ops ? ops->hw_state() : 0;
}

/* Every online CPU's hardware must read back `want` (1 on, 0 off). */
static int check_hw_all(int want)
{
	static int st[NR_CPUS];
	unsigned int cpu;

	CHECK(smp_call_function_all(hw_state, NULL, st) == 0);
	for_each_cpu(cpu, &cpu_online_mask) {
		pr_info("virt: cpu %u hardware reads back %s\n", cpu,
			st[cpu] == 1 ? "on" : st[cpu] == 0 ? "off" : "inconsistent");
		CHECK(st[cpu] == want);
	}
	return 0;
}

static int64_t hcall(uint64_t nr, uint64_t a0)
{
	struct hypercall_regs r = { .nr = nr, .arg = { a0 } };

	return hypercall_dispatch(&r);
}

SELFTEST(virt)
{
	unsigned int cpu;
	int r;

	CHECK(virt_ready());
	CHECK(hypercall_before_init == -HV_EAGAIN);
	if ((r = check_hw_all(1)))
		return r;
	CHECK(cpumask_weight(virt_enabled_mask) == smp_num_online());
	CHECK(hcall(HC_API_VERSION, 0) == HV_API_VERSION);
	for_each_cpu(cpu, &cpu_online_mask)
		CHECK(hcall(HC_VIRT_STATUS, cpu) == HV_VIRT_ON);
	CHECK(hcall(HC_VIRT_STATUS, NR_CPUS) == -HV_EINVAL);
	CHECK(hcall(HC_COUNT, 0) == -HV_ENOSYS);
	pr_info("virt: on in every CPU, hypercalls answered\n");
	return 0;
}

/*
 * With fail_init= on the command line the boot-time init has failed: every
 * CPU must read back off, memory must equal the baseline taken before it,
 * and a second init without the injected failure must succeed.
 */
SELFTEST(virt_rollback)
{
	int r;

	CHECK(fail_init.stage >= 0);
	CHECK(!virt_ready());
	CHECK(hcall(HC_API_VERSION, 0) == -HV_EAGAIN);
	if ((r = check_hw_all(0)))
		return r;
	if ((r = mem_compare(&boot_baseline, "after rollback")))
		return r;
	fail_init.stage = -1;
	virt_cpu_reset_all();
	pr_info("virt: retrying the init without the injected failure\n");
	if ((r = virt_init()))
		return r;
	if ((r = check_hw_all(1)))
		return r;
	CHECK(hcall(HC_API_VERSION, 0) == HV_API_VERSION);
	virt_exit();
	if ((r = check_hw_all(0)))
		return r;
	return mem_compare(&boot_baseline, "after a full init and exit");
}

/* Hardware state of one started CPU (online or parked), read on it. */
static int hw_of(unsigned int cpu)
{
	return smp_call_function_started(cpu, hw_state, NULL);
}

static int expect_hw(unsigned int ncpus, unsigned int off_cpu, bool all_off, const char *when)
{
	for (unsigned int cpu = 0; cpu < ncpus; cpu++) {
		int want = all_off || cpu == off_cpu ? 0 : 1, got = hw_of(cpu);

		if (got != want) {
			pr_err("virt: %s: CPU %u reads back %d, expected %d\n", when, cpu, got, want);
			return -EIO;
		}
	}
	pr_info("virt: %s: hardware state as expected on %u CPUs\n", when, ncpus);
	return 0;
}

/*
 * The paths that turn virtualization off and on compose: offline, suspend,
 * resume and online in an order where each must respect the others.
 */
SELFTEST(virt_paths)
{
	unsigned int n = smp_num_online(), victim = n - 1;

	CHECK(virt_ready() && n >= 2);
	CHECK(expect_hw(n, NR_CPUS, false, "booted") == 0);
	CHECK(cpu_offline(victim) == 0);
	CHECK(expect_hw(n, victim, false, "CPU offline") == 0);
	CHECK(hcall(HC_VIRT_STATUS, victim) == HV_VIRT_OFF);
	CHECK(syscore_suspend() == 0);
	CHECK(hcall(HC_API_VERSION, 0) == -HV_EAGAIN);     /* no calls while suspended */
	CHECK(expect_hw(n, victim, true, "suspended") == 0);
	syscore_resume();
	CHECK(expect_hw(n, victim, false, "resumed, CPU still offline") == 0);
	CHECK(cpu_online(victim) == 0);
	CHECK(expect_hw(n, NR_CPUS, false, "CPU back online") == 0);
	CHECK(cpu_offline(0) == -EINVAL);
	CHECK(cpu_online(victim) == -EALREADY);
	CHECK(hcall(HC_API_VERSION, 0) == HV_API_VERSION);
	return 0;
}
