/* fail_init= fault injection for the staged init (hv/virt_init.h). */
#include "hv/virt_init.h"
#include "hv/errno.h"
#include "hv/string.h"

struct fail_inject fail_init = { -1, -1 };

static const char *const stage_names[STAGE_COUNT] = {
	[STAGE_ARCH] = "arch", [STAGE_EVENTS] = "events", [STAGE_CPUMASK] = "cpumask",
	[STAGE_HW_SETUP] = "hw_setup", [STAGE_COMPAT] = "compat",
	[STAGE_CPU_NOTIFIER] = "cpu_notifier", [STAGE_REBOOT_NOTIFIER] = "reboot_notifier",
	[STAGE_VCPU_CACHE] = "vcpu_cache", [STAGE_ASYNC] = "async",
	[STAGE_HYPERCALL] = "hypercall", [STAGE_SYSCORE] = "syscore",
	[STAGE_PREEMPT] = "preempt", [STAGE_DEBUG] = "debug", [STAGE_DEVOPS] = "devops",
	[STAGE_ENABLE] = "enable",
};

const char *virt_stage_name(enum virt_stage s)
{
	return (unsigned int)s < STAGE_COUNT ? stage_names[s] : "?";
}

int fail_inject_parse(const char *value, struct fail_inject *out)
{
	const char *at = value ? strchr(value, '@') : NULL;
	size_t len = at ? (size_t)(at - value) : (value ? strlen(value) : 0);
	int stage = -1, cpu = -1;

	for (int s = 0; s < STAGE_COUNT; s++)
		if (strlen(stage_names[s]) == len && !strncmp(value, stage_names[s], len))
			stage = s;
	if (stage < 0)
		return ERR(-EINVAL);
	if (at) {
		/* Only the per-CPU stages take a CPU. */
		if ((stage != STAGE_COMPAT && stage != STAGE_ENABLE) || !at[1])
			return ERR(-EINVAL);
		cpu = 0;
		for (const char *p = at + 1; *p; p++) {
			if (*p < '0' || *p > '9' || cpu > NR_CPUS)
				return ERR(-EINVAL);
			cpu = cpu * 10 + (*p - '0');
		}
		if (cpu >= NR_CPUS)
			return ERR(-EINVAL);
	}
	out->stage = stage;
	out->cpu = cpu;
	return 0;
}

bool fail_inject_hit(enum virt_stage s, int cpu)
{
	return fail_init.stage == (int)s && (fail_init.cpu < 0 || fail_init.cpu == cpu);
}
