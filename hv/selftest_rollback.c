/*
 * Every fail_init= stage in one boot (Bochs boots take a minute each): the
 * boot's init is undone, then for each stage, and for compat@1 and
 * enable@1 with two CPUs or more, the init runs with that failure
 * injected and must roll back completely: every CPU's hardware reads back
 * off and memory equals the boot baseline (the same pages free, each
 * cache as before). tests/system/cases_reliability.py checks each
 * stage's undo lines against enum virt_stage. A last init without a
 * failure must succeed.
 */
#include "hv/errno.h"
#include "hv/leakcheck.h"
#include "hv/printk.h"
#include "hv/selftest.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/virt_cpu.h"
#include "hv/virt_init.h"

static int hw_fn(void *arg)
{
	const struct virt_ops *ops = arg;

	return ops->hw_state();
}

/* Every online CPU's hardware reads back `want` (0 off, 1 on). */
static int hw_all(const struct virt_ops *ops, int want, const char *what)
{
	static int st[NR_CPUS];
	unsigned int cpu;

	CHECK(smp_call_function_all(hw_fn, (void *)ops, st) == 0);
	for_each_cpu(cpu, &cpu_online_mask)
		if (st[cpu] != want) {
			pr_err("virt: %s: CPU %u hardware reads %d, expected %d\n", what, cpu,
			       st[cpu], want);
			return -EIO;
		}
	return 0;
}

static int one(const struct virt_ops *ops, int stage, int cpu)
{
	char what[64];
	int r;

	if (cpu >= 0)
		snprintf(what, sizeof(what), "after rollback of %s@%d", virt_stage_name(stage), cpu);
	else
		snprintf(what, sizeof(what), "after rollback of %s", virt_stage_name(stage));
	pr_info("virt: %s: running\n", what + 6);     /* "rollback of STAGE[@N]" */
	fail_init.stage = stage;
	fail_init.cpu = cpu;
	virt_cpu_reset_all();
	r = virt_init();
	fail_init.stage = fail_init.cpu = -1;
	if (!r) {
		pr_err("virt: the init succeeded with %s injected\n", virt_stage_name(stage));
		virt_exit();
		return -EIO;
	}
	if ((r = hw_all(ops, 0, what)))
		return r;
	return mem_compare(&boot_baseline, what);
}

SELFTEST(virt_rollback_each)
{
	const struct virt_ops *ops = virt_ops;
	int r;

	CHECK(virt_ready() && fail_init.stage < 0);
	virt_exit();
	if ((r = hw_all(ops, 0, "after the boot's init was undone")))
		return r;
	if ((r = mem_compare(&boot_baseline, "after the boot's init was undone")))
		return r;
	for (int s = 0; s < STAGE_COUNT; s++) {
		if (s == STAGE_DEVOPS)          /* a failure there only warns */
			continue;
		if ((r = one(ops, s, -1)))
			return r;
	}
	if (smp_num_online() >= 2) {
		if ((r = one(ops, STAGE_COMPAT, 1)) || (r = one(ops, STAGE_ENABLE, 1)))
			return r;
	}
	pr_info("virt: every stage rolled back; a last init without a failure\n");
	virt_cpu_reset_all();
	if ((r = virt_init()))
		return r;
	if ((r = hw_all(ops, 1, "after the last init")))
		return r;
	pr_info("virt: rollback of every stage: PASS\n");
	return 0;
}
