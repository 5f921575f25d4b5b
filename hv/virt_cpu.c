/* Per-CPU virtualization state and its reference counts (hv/virt_cpu.h). */
#include "hv/virt_cpu.h"
#include "hv/virt_init.h"
#include "hv/errno.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/string.h"

struct virt_cpu virt_cpu[NR_CPUS];

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

const char *virt_cpu_state_name(enum virt_cpu_state s)
{
	return s == VIRT_CPU_ON ? "on" : s == VIRT_CPU_FAILED ? "failed" : "off";
}

/* Bring the hardware in line with the counts. */
static int update(void)
{
	unsigned int cpu = smp_processor_id();
	struct virt_cpu *vc = &virt_cpu[cpu];
	bool want = vc->refs && !vc->blocks;
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

int virt_cpu_get(void)
{
	struct virt_cpu *vc = &virt_cpu[smp_processor_id()];
	int r;

	vc->refs++;
	r = update();
	if (r)
		vc->refs--;
	return r;
}

void virt_cpu_put(void)
{
	struct virt_cpu *vc = &virt_cpu[smp_processor_id()];

	if (vc->refs) {
		vc->refs--;
		update();
	}
}

int virt_cpu_block(void)
{
	virt_cpu[smp_processor_id()].blocks++;
	return update();
}

int virt_cpu_unblock(void)
{
	struct virt_cpu *vc = &virt_cpu[smp_processor_id()];

	if (vc->blocks)
		vc->blocks--;
	return update();
}

void virt_cpu_fail(unsigned int cpu, const struct virt_check *chk)
{
	virt_cpu[cpu].state = VIRT_CPU_FAILED;
	virt_cpu[cpu].chk = *chk;
}

void virt_cpu_reset_all(void)
{
	memset(virt_cpu, 0, sizeof(virt_cpu));
}

static int get_fn(void *arg) { return virt_cpu_get(); }
static int put_fn(void *arg) { virt_cpu_put(); return 0; }
static int block_fn(void *arg) { return virt_cpu_block(); }
static int unblock_fn(void *arg) { return virt_cpu_unblock(); }

/* Run fn everywhere; if some CPU fails, run undo on the ones that did not
 * and return the first error. */
static int all_or_nothing(smp_call_fn fn, smp_call_fn undo, const char *what)
{
	static int results[NR_CPUS];
	unsigned int cpu;
	int first = 0;

	smp_call_function_all(fn, NULL, results);
	for_each_cpu(cpu, &cpu_online_mask) {
		if (!results[cpu])
			continue;
		if (results[cpu] == -ETIMEDOUT) {
			struct virt_check chk = { .reason = VIRT_REASON_NO_ANSWER };

			virt_cpu_fail(cpu, &chk);
		}
		pr_err("virt: %s failed on CPU %u: %s (%s%s%s)\n", what, cpu,
		       errno_name(results[cpu]), virt_reason_name(virt_cpu[cpu].chk.reason),
		       virt_cpu[cpu].chk.detail[0] ? ": " : "", virt_cpu[cpu].chk.detail);
		if (!first)
			first = results[cpu];
	}
	if (first) {
		for_each_cpu(cpu, &cpu_online_mask)
			if (!results[cpu]) {
				pr_info("virt: undo %s on CPU %u\n", what, cpu);
				smp_call_function_single(cpu, undo, NULL, true);
			}
	}
	return first;
}

int virt_enable_all(void)
{
	return all_or_nothing(get_fn, put_fn, "enable");
}

void virt_disable_all(void)
{
	smp_call_function_all(put_fn, NULL, NULL);
}

int virt_block_all(void)
{
	return all_or_nothing(block_fn, unblock_fn, "disable");
}

int virt_unblock_all(void)
{
	return all_or_nothing(unblock_fn, block_fn, "re-enable");
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
	pr_info("virt: cpu  apic  state   hw   refs blocks reason\n");
	for_each_cpu(cpu, &cpu_online_mask) {
		const struct virt_cpu *vc = &virt_cpu[cpu];

		pr_info("virt: %3u %5u  %-7s %-4s %4u %6u %s%s%s\n", cpu, cpu_apic_id[cpu],
			virt_cpu_state_name(vc->state),
			hw[cpu] == 1 ? "on" : hw[cpu] == 0 ? "off" : "BAD",
			vc->refs, vc->blocks, virt_reason_name(vc->chk.reason),
			vc->chk.detail[0] ? ": " : "", vc->chk.detail);
	}
}
