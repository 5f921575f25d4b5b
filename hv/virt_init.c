/*
 * virt_init(): the kvm_init() sequence (../shared/seed/kvm_init.txt) for
 * this hypervisor. Each stage either succeeds or the labels at the bottom
 * undo every earlier stage, in reverse order; each undo is logged. The
 * stage table is in docs/init.md.
 */
#include "hv/virt_init.h"
#include "hv/async_work.h"
#include "hv/cpu_hotplug.h"
#include "hv/cpuid.h"
#include "hv/debug_stats.h"
#include "hv/devops.h"
#include "hv/errno.h"
#include "hv/events.h"
#include "hv/hypercall.h"
#include "hv/irqchip.h"
#include "hv/kmalloc.h"
#include "hv/notifier.h"
#include "hv/panic.h"
#include "hv/preempt.h"
#include "hv/printk.h"
#include "hv/reboot.h"
#include "hv/slab.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/syscore.h"
#include "hv/virt_cpu.h"

const struct virt_ops *virt_ops;
struct cache *vcpu_cache;
cpumask_t *virt_enabled_mask;
static bool ready;

bool virt_ready(void)
{
	return ready;
}

#define undo(stage) pr_info("virt: undo %s\n", virt_stage_name(stage))

/* ------------------------------------------------------------ stage 1 */

static int arch_init(void)
{
	struct virt_check chk = { 0 };
	const struct virt_ops *ops;
	int r;

	if (fail_inject_hit(STAGE_ARCH, -1))
		return ERR(-ENODEV);
	ops = arch_virt_select(&chk);
	if (!ops) {
		pr_err("virt: no hardware virtualization: %s%s%s\n", virt_reason_name(chk.reason),
		       chk.detail[0] ? ": " : "", chk.detail);
		return ERR(-ENODEV);
	}
	if ((r = virt_ops_validate(ops)))
		return r;
	/* At most one backend: a second init while one is active is refused. */
	if (virt_ops)
		return ERR(-EEXIST);
	r = ops->probe(&chk);
	if (r) {
		pr_err("virt: %s unusable on the boot CPU: %s%s%s\n", ops->name,
		       virt_reason_name(chk.reason), chk.detail[0] ? ": " : "", chk.detail);
		virt_cpu_fail(smp_processor_id(), &chk);
		return r;
	}
	virt_ops = ops;
	pr_info("virt: backend %s\n", ops->name);
	return 0;
}

static void arch_exit(void)
{
	virt_ops = NULL;
}

/* ------------------------------------------------------------ stage 3 */

static int cpumask_alloc(void)
{
	if (fail_inject_hit(STAGE_CPUMASK, -1))
		return ERR(-ENOMEM);
	virt_enabled_mask = kzalloc(sizeof(*virt_enabled_mask));
	return virt_enabled_mask ? 0 : ERR(-ENOMEM);
}

static void cpumask_free(void)
{
	kfree(virt_enabled_mask);
	virt_enabled_mask = NULL;
}

/* ------------------------------------------------------------ stage 4 */

static int hw_setup(void)
{
	struct virt_check chk = { 0 };
	int r;

	if (fail_inject_hit(STAGE_HW_SETUP, -1))
		return ERR(-EIO);
	r = virt_ops->hardware_setup(&chk);
	if (r) {
		pr_err("virt: hardware setup failed: %s%s%s\n", virt_reason_name(chk.reason),
		       chk.detail[0] ? ": " : "", chk.detail);
		return r;
	}
	/* What guests are told about the CPU, from what it and the backend
	 * offer (static data: nothing to undo). */
	cpuid_default_init();
	return 0;
}

/* ------------------------------------------------------------ stage 5 */

static int compat_one(void *arg)
{
	unsigned int cpu = smp_processor_id();
	struct virt_check chk = { 0 };
	int r;

	if (fail_inject_hit(STAGE_COMPAT, (int)cpu)) {
		chk.reason = VIRT_REASON_CAP_MISMATCH;
		memcpy(chk.detail, "injected", sizeof("injected"));
		r = -EIO;
	} else {
		r = virt_ops->check_compat(&chk);
	}
	if (r)
		virt_cpu_fail(cpu, &chk);
	return r;
}

/* Every online CPU must match the boot CPU; the first that does not fails
 * init, named with the capability that differs. */
static int check_compat_all(void)
{
	static int results[NR_CPUS];
	unsigned int cpu;

	smp_call_function_all(compat_one, NULL, results);
	for_each_cpu(cpu, &cpu_online_mask) {
		int r = results[cpu];

		if (!r)
			continue;
		if (r == -ETIMEDOUT) {
			struct virt_check chk = { .reason = VIRT_REASON_NO_ANSWER };

			virt_cpu_fail(cpu, &chk);
		}
		const struct virt_check *bad = &virt_cpu_of(cpu)->chk;

		pr_err("virt: CPU %u is not compatible with the boot CPU: %s%s%s\n", cpu,
		       virt_reason_name(bad->reason), bad->detail[0] ? ": " : "", bad->detail);
		return r;
	}
	return 0;
}

/* ------------------------------------------------------------ stage 6, 7 */

static int virt_cpu_event(struct notifier_block *nb, unsigned long action, void *data)
{
	return action == CPU_OFFLINE ? virt_cpu_offline() : virt_cpu_online();
}

static struct notifier_block virt_cpu_nb = { .call = virt_cpu_event };

static int virt_reboot_event(struct notifier_block *nb, unsigned long action, void *data)
{
	hypercall_set_accepting(false);
	virt_reboot_all();
	virt_status_print();
	return 0;
}

static struct notifier_block virt_reboot_nb = { .call = virt_reboot_event };

static int register_notifier(enum virt_stage s, struct notifier_chain *c,
			     struct notifier_block *nb)
{
	if (fail_inject_hit(s, -1))
		return ERR(-EBUSY);
	return notifier_register(c, nb);
}

/* ------------------------------------------------------------ stage 8 */

static int create_vcpu_cache(void)
{
	struct cache *c;

	if (fail_inject_hit(STAGE_VCPU_CACHE, -1))
		return ERR(-ENOMEM);
	c = cache_create("vcpu", virt_ops->vcpu_size, virt_ops->vcpu_align, 0, NULL);
	if (IS_ERR(c))
		return (int)PTR_ERR(c);
	vcpu_cache = c;
	return 0;
}

static void destroy_vcpu_cache(void)
{
	if (cache_destroy(vcpu_cache))
		pr_err("virt: vCPU cache still in use, leaking it\n");
	vcpu_cache = NULL;
}

/* ------------------------------------------------------------ stage 11 */

static int virt_suspend(void)
{
	hypercall_set_accepting(false);
	return virt_suspend_all();
}

static void virt_resume(void)
{
	/* Calls come back only when virtualization does (not inside a nested
	 * suspend, not while rebooting). */
	if (!virt_resume_all() && !virt_counts.suspends && !virt_counts.rebooting)
		hypercall_set_accepting(true);
}

static struct syscore_ops virt_syscore_ops = { .suspend = virt_suspend, .resume = virt_resume };

/* ------------------------------------------------------------ stage 12 */

/* KVM's vcpu_load/vcpu_put: the backend makes the vCPU's control block
 * this CPU's for the run (VMPTRLD) and lets go of it after (VMCLEAR). */
static void virt_sched_in(void *vcpu, unsigned int cpu)
{
	virt_ops->vcpu_load(vcpu);
}

static void virt_sched_out(void *vcpu)
{
	virt_ops->vcpu_put(vcpu);
}
static const struct preempt_ops virt_preempt_ops = {
	.sched_in = virt_sched_in, .sched_out = virt_sched_out,
};

/* ------------------------------------------------------------ stage 13 */

static void show_virt(void)
{
	virt_status_print();
}

static void show_counters(void)
{
	unsigned int cpu;

	for_each_cpu(cpu, &cpu_online_mask)
		pr_info("cpu %u: %lu enables, %lu disables\n", cpu,
			virt_cpu_of(cpu)->enables, virt_cpu_of(cpu)->disables);
}

static struct debug_stat stat_virt = { .name = "virt", .show = show_virt };
static struct debug_stat stat_counters = { .name = "virt_counters", .show = show_counters };

static int virt_debug_init(void)
{
	int r;

	if (fail_inject_hit(STAGE_DEBUG, -1))
		return ERR(-ENOMEM);
	if ((r = debug_stat_register(&stat_virt)))
		return r;
	if ((r = debug_stat_register(&stat_counters)))
		debug_stat_unregister(&stat_virt);
	return r;
}

static void virt_debug_exit(void)
{
	debug_stat_unregister(&stat_counters);
	debug_stat_unregister(&stat_virt);
}

/* ------------------------------------------------------------ stage 14 */

/* The registry of device models VMs can be given (kvm_vfio_ops_init's
 * place): the local APIC and IOAPIC (hv/irqchip.c), and the debug port
 * (writes to port 0xe9 end up on the hypervisor's console). Without it
 * HC_CREATE_IRQCHIP answers -HV_ENODEV and VMs run as in API version 1. */
static struct dev_ops debugport_devops = { .name = "debug-port", .type = 1 };

static int devops_init(void)
{
	int r;

	if (fail_inject_hit(STAGE_DEVOPS, -1))
		return ERR(-ENOMEM);
	if ((r = devops_register(&debugport_devops)))
		return r;
	if ((r = irqchip_devops_register()))
		devops_unregister(&debugport_devops);
	return r;
}

static void devops_exit(void)
{
	irqchip_devops_unregister();
	devops_unregister(&debugport_devops);
}

/* ------------------------------------------------------------ panic */

/* Runs on every CPU when one panics (the others from their NMI); returns
 * what the hardware reads back afterwards. */
static int virt_emergency(void)
{
	const struct virt_ops *ops = virt_ops;

	if (!ops)
		return 0;
	ops->emergency_disable();
	return ops->hw_state();
}

/* ------------------------------------------------------------ the sequence */

static int stage_call(enum virt_stage s, int (*fn)(void))
{
	if (fail_inject_hit(s, -1))
		return ERR(-EIO);
	return fn();
}

int virt_init(void)
{
	int r;

	/* A fresh start: counts left by an earlier init (a suspend that its
	 * exit never saw resumed) must not leak into this one. */
	if (!virt_ops)
		virt_cpu_reset_all();
	r = arch_init();
	if (r)
		goto out_fail;

	/*
	 * arch_init makes sure there is exactly one backend; it must run
	 * before the event infrastructure, which later stages use.
	 */
	r = stage_call(STAGE_EVENTS, events_init);
	if (r)
		goto out_events;

	r = cpumask_alloc();
	if (r)
		goto out_free_0;

	r = hw_setup();
	if (r < 0)
		goto out_free_0a;

	r = check_compat_all();
	if (r < 0)
		goto out_free_1;

	r = register_notifier(STAGE_CPU_NOTIFIER, &cpu_notifiers, &virt_cpu_nb);
	if (r)
		goto out_free_2;
	r = register_notifier(STAGE_REBOOT_NOTIFIER, &reboot_notifiers, &virt_reboot_nb);
	if (r)
		goto out_unreg_cpu;

	/* A slab cache meets the alignment VMCS/VMCB pages and XSAVE need. */
	r = create_vcpu_cache();
	if (r)
		goto out_free_3;

	r = stage_call(STAGE_ASYNC, async_work_init);
	if (r)
		goto out_free;

	/*
	 * Installed here, in the seed's place, but answering only once the
	 * whole sequence is done and virtualization is on (see the end).
	 */
	r = stage_call(STAGE_HYPERCALL, hypercall_install);
	if (r) {
		pr_err("virt: installing the hypercall interface failed\n");
		goto out_unreg;
	}

	r = fail_inject_hit(STAGE_SYSCORE, -1) ? ERR(-EBUSY) : syscore_register(&virt_syscore_ops);
	if (r)
		goto out_unhypercall;

	if (fail_inject_hit(STAGE_PREEMPT, -1)) {
		r = ERR(-EBUSY);
		goto out_unsyscore;
	}
	preempt_ops_set(&virt_preempt_ops);

	r = virt_debug_init();
	if (r) {
		pr_err("virt: creating the debug statistics failed\n");
		goto out_undebug;
	}

	r = devops_init();
	if (r)
		pr_warn("virt: device ops registry failed (%s); going on without it\n",
			errno_name(r));

	r = fail_inject_hit(STAGE_ENABLE, -1) && fail_init.cpu < 0 ? ERR(-EIO) : virt_enable_all();
	if (r)
		goto out_undevops;

	panic_cpu_hook = virt_emergency;
	ready = true;
	hypercall_set_accepting(true);
	pr_info("virt: %s on in %u CPUs\n", virt_ops->name, cpumask_weight(virt_enabled_mask));
	return 0;

out_undevops:
	undo(STAGE_DEVOPS);
	devops_exit();
	undo(STAGE_DEBUG);
	virt_debug_exit();
out_undebug:
	undo(STAGE_PREEMPT);
	preempt_ops_set(NULL);
out_unsyscore:
	undo(STAGE_SYSCORE);
	syscore_unregister(&virt_syscore_ops);
out_unhypercall:
	undo(STAGE_HYPERCALL);
	hypercall_uninstall();
out_unreg:
	undo(STAGE_ASYNC);
	async_work_exit();
out_free:
	undo(STAGE_VCPU_CACHE);
	destroy_vcpu_cache();
out_free_3:
	undo(STAGE_REBOOT_NOTIFIER);
	notifier_unregister(&reboot_notifiers, &virt_reboot_nb);
out_unreg_cpu:
	undo(STAGE_CPU_NOTIFIER);
	notifier_unregister(&cpu_notifiers, &virt_cpu_nb);
out_free_2:
	/* The compatibility check allocates nothing; it is logged anyway so
	 * the undo log always lists every stage before the failed one. */
	undo(STAGE_COMPAT);
out_free_1:
	undo(STAGE_HW_SETUP);
	virt_ops->hardware_unsetup();
out_free_0a:
	undo(STAGE_CPUMASK);
	cpumask_free();
out_free_0:
	undo(STAGE_EVENTS);
	events_exit();
out_events:
	undo(STAGE_ARCH);
	arch_exit();
out_fail:
	pr_err("virt: init failed (%s); every stage before the failure was undone\n",
	       errno_name(r));
	return r;
}

void virt_exit(void)
{
	if (!ready)
		return;
	ready = false;
	hypercall_set_accepting(false);
	panic_cpu_hook = NULL;
	virt_disable_all();
	devops_exit();
	virt_debug_exit();
	preempt_ops_set(NULL);
	syscore_unregister(&virt_syscore_ops);
	hypercall_uninstall();
	async_work_exit();
	destroy_vcpu_cache();
	notifier_unregister(&reboot_notifiers, &virt_reboot_nb);
	notifier_unregister(&cpu_notifiers, &virt_cpu_nb);
	virt_ops->hardware_unsetup();
	cpumask_free();
	events_exit();
	arch_exit();
	pr_info("virt: shut down\n");
}

int virt_ops_validate(const struct virt_ops *ops)
{
	static const struct { const char *name; size_t off; } required[] = {
#define OP(n) { #n, __builtin_offsetof(struct virt_ops, n) }
		OP(probe), OP(hardware_setup), OP(hardware_unsetup), OP(check_compat),
		OP(enable), OP(disable), OP(hw_state), OP(emergency_disable),
		OP(vcpu_setup), OP(vcpu_teardown), OP(vcpu_load), OP(vcpu_put), OP(vcpu_enter),
		OP(run_child_fast),
		OP(get_regs), OP(set_regs), OP(get_sregs), OP(set_sregs), OP(get_rip), OP(set_rip),
		OP(get_mode), OP(inject_exception), OP(msr_read), OP(msr_write), OP(get_dr67),
		OP(set_dr67), OP(get_tsc_offset), OP(set_tsc_offset), OP(event_queued),
		OP(irq_window_open), OP(nmi_window_open), OP(inject_irq), OP(inject_nmi),
		OP(request_window),
#undef OP
	};

	for (size_t i = 0; i < ARRAY_SIZE(required); i++)
		if (!*(void *const *)((const char *)ops + required[i].off)) {
			pr_err("virt: backend %s lacks the %s op\n", ops->name, required[i].name);
			return ERR(-EINVAL);
		}
	if (!ops->vcpu_size) {
		pr_err("virt: backend %s has no vCPU size\n", ops->name);
		return ERR(-EINVAL);
	}
	return 0;
}
