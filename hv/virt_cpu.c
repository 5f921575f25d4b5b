/* Per-CPU virtualization state and its reference counts (hv/virt_cpu.h). */
#include "hv/virt_cpu.h"
#include "hv/virt_init.h"
#include "hv/errno.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/string.h"

static const char *const reason_names[VIRT_REASON_COUNT] = {
	[VIRT_REASON_NONE] = "-",
	[VIRT_REASON_UNSUPPORTED] = "no VMX/SVM",
	[VIRT_REASON_FW_DISABLED] = "disabled in firmware",
	[VIRT_REASON_IN_USE] = "already in use",
	[VIRT_REASON_MISSING_FEATURE] = "missing feature",
	[VIRT_REASON_CAP_MISMATCH] = "capability mismatch",
	[VIRT_REASON_ENABLE_FAILED] = "enable failed",
	[VIRT_REASON_NO_MEMORY] = "out of memory",
	[VIRT_REASON_NO_ANSWER] = "did not answer",
	[VIRT_REASON_INJECTED] = "injected failure",
};

const char *virt_reason_name(enum virt_reason r)
{
	return (unsigned int)r < VIRT_REASON_COUNT ? reason_names[r] : "?";
}

void virt_check_set(struct virt_check *chk, enum virt_reason r, const char *detail)
{
	chk->reason = r;
	if (detail)
		snprintf(chk->detail, sizeof(chk->detail), "%s", detail);
}

const char *virt_cpu_state_name(enum virt_cpu_state s)
{
	return s == VIRT_CPU_ON ? "on" : s == VIRT_CPU_FAILED ? "failed" : "off";
}

struct virt_counts virt_counts;

/* Bring the calling CPU's hardware in line with what is wanted. */
static int sync_this_cpu(void)
{
	unsigned int cpu = smp_processor_id();
	struct virt_cpu *vc = virt_cpu_of(cpu);
	bool want = virt_cpu_wanted(vc);
	bool on = vc->state == VIRT_CPU_ON;

	if (want == on)
		return 0;
	if (!want) {
		virt_ops->disable();
		cpumask_clear_atomic(virt_enabled_mask, cpu);
		vc->state = VIRT_CPU_OFF;
		vc->disables++;
		return 0;
	}
	memset(&vc->chk, 0, sizeof(vc->chk));
	if (fail_inject_hit(STAGE_ENABLE, (int)cpu)) {
		vc->chk.reason = VIRT_REASON_INJECTED;
		vc->state = VIRT_CPU_FAILED;
		return ERR(-EIO);
	}
	int r = virt_ops->enable(&vc->chk);

	if (r) {
		vc->state = VIRT_CPU_FAILED;
		return r;
	}
	vc->state = VIRT_CPU_ON;
	vc->enables++;
	cpumask_set_atomic(virt_enabled_mask, cpu);
	return 0;
}

int virt_cpu_offline(void)
{
	virt_cpu_of(smp_processor_id())->offline = true;
	return sync_this_cpu();
}

int virt_cpu_online(void)
{
	virt_cpu_of(smp_processor_id())->offline = false;
	return sync_this_cpu();
}

void virt_cpu_fail(unsigned int cpu, const struct virt_check *chk)
{
	struct virt_cpu *vc = virt_cpu_of(cpu);

	if (vc) {
		vc->state = VIRT_CPU_FAILED;
		vc->chk = *chk;
	}
}

void virt_cpu_reset_all(void)
{
	/* Offline is what the online mask says now: the hotplug notifier that
	 * kept the flag is not registered between an exit and the next init. */
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct virt_cpu *vc = virt_cpu_of(cpu);

		if (!vc)
			continue;
		memset(vc, 0, sizeof(*vc));
		vc->offline = !cpumask_test_atomic(&cpu_online_mask, cpu);
	}
	memset(&virt_counts, 0, sizeof(virt_counts));
}

static int sync_fn(void *arg)
{
	return sync_this_cpu();
}

/* Sync every online CPU; report each failure; return the first error. */
static int sync_all(const char *what)
{
	static int results[NR_CPUS];
	unsigned int cpu;
	int first = 0;

	smp_call_function_all(sync_fn, NULL, results);
	for_each_cpu(cpu, &cpu_online_mask) {
		if (!results[cpu])
			continue;
		if (results[cpu] == -ETIMEDOUT) {
			struct virt_check chk = { .reason = VIRT_REASON_NO_ANSWER };

			virt_cpu_fail(cpu, &chk);
		}
		const struct virt_check *chk = &virt_cpu_of(cpu)->chk;

		pr_err("virt: %s failed on CPU %u: %s (%s%s%s)\n", what, cpu,
		       errno_name(results[cpu]), virt_reason_name(chk->reason),
		       chk->detail[0] ? ": " : "", chk->detail);
		if (!first)
			first = results[cpu];
	}
	return first;
}

int virt_enable_all(void)
{
	unsigned int cpu;
	int r;

	virt_counts.users++;
	r = sync_all("enable");
	if (r) {
		virt_counts.users--;
		for_each_cpu(cpu, &cpu_online_mask)
			if (virt_cpu_of(cpu)->state == VIRT_CPU_ON)
				pr_info("virt: undo enable on CPU %u\n", cpu);
		sync_all("disable");
	}
	return r;
}

void virt_disable_all(void)
{
	if (virt_counts.users)
		virt_counts.users--;
	sync_all("disable");
}

int virt_suspend_all(void)
{
	virt_counts.suspends++;
	return sync_all("disable");
}

int virt_resume_all(void)
{
	if (virt_counts.suspends)
		virt_counts.suspends--;
	return sync_all("re-enable");
}

void virt_reboot_all(void)
{
	virt_counts.rebooting = true;
	sync_all("disable");
}

static int hw_state_fn(void *arg)
{
	return virt_ops ? virt_ops->hw_state() : 0;
}

void virt_status_print(void)
{
	static int hw[NR_CPUS];
	unsigned int cpu;

	smp_call_function_all(hw_state_fn, NULL, hw);
	pr_info("virt: users %u, suspended %u, rebooting %s\n", virt_counts.users,
		virt_counts.suspends, virt_counts.rebooting ? "yes" : "no");
	pr_info("virt: cpu  apic  state   hw   reason\n");
	for_each_cpu(cpu, &cpu_online_mask) {
		const struct virt_cpu *vc = virt_cpu_of(cpu);

		pr_info("virt: %3u %5u  %-7s %-4s %s%s%s\n", cpu, cpu_apic_id[cpu],
			virt_cpu_state_name(vc->state),
			hw[cpu] == 1 ? "on" : hw[cpu] == 0 ? "off" : "BAD",
			virt_reason_name(vc->chk.reason),
			vc->chk.detail[0] ? ": " : "", vc->chk.detail);
	}
}
