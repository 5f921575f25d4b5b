/* The run loops of root and child vCPUs. */
#include "hv/debugcon.h"
#include "hv/exits.h"
#include "hv/errno.h"
#include "hv/preempt.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/virt_cpu.h"
#include "hv/virt_init.h"
#include "hv/vm.h"

/* While virtualization is off here (suspend, reboot), guests wait. */
static void wait_until_wanted(void)
{
	while (!virt_cpu_wanted(smp_processor_id()) ||
	       virt_cpu[smp_processor_id()].state != VIRT_CPU_ON)
		arch_idle();
}

/* Complete what the root was asked to do at the last exit. */
static void finish_pending(struct vcpu *v)
{
	const struct hv_exit *rec = (const struct hv_exit *)v->exit_page;
	struct hv_regs r;

	if (v->pending == PENDING_NONE)
		return;
	virt_ops->get_regs(v, &r);
	if (v->pending == PENDING_IN) {
		uint64_t mask = v->pending_size == 4 ? 0xffffffffULL :
				(1ULL << (8 * v->pending_size)) - 1;

		/* IN writes AL/AX and leaves the rest; a 32-bit IN zero-extends. */
		r.rax = v->pending_size == 4 ? (rec->io.data & mask) :
			(r.rax & ~mask) | (rec->io.data & mask);
		r.rip = v->pending_next_rip;
	} else if (v->pending == PENDING_HYPERCALL) {
		r.rax = (uint64_t)rec->hypercall.ret;
	}
	virt_ops->set_regs(v, &r);
	v->pending = PENDING_NONE;
}

int vcpu_run_child(struct vcpu *v)
{
	struct vm_exit_info e;
	unsigned int cpu = smp_processor_id();

	finish_pending(v);
	preempt_sched_in(v, cpu);
	for (;;) {
		wait_until_wanted();
		virt_ops->vcpu_enter(v, &e);
		enum exit_action a = exit_dispatch(v, &e);

		if (a == EXIT_RESUME)
			continue;
		if (a == EXIT_STOP) {
			struct hv_exit *rec = (struct hv_exit *)v->exit_page;

			memset(rec, 0, sizeof(*rec));
			rec->reason = HV_EXIT_INTERNAL;
			rec->rip = e.rip;
			rec->internal.hw_reason = e.hw_reason;
			v->vm->dead = true;
		}
		break;
	}
	preempt_sched_out(v);
	return 0;
}

void vcpu_run_root(struct vcpu *v)
{
	struct vm_exit_info e;

	preempt_sched_in(v, smp_processor_id());
	for (;;) {
		wait_until_wanted();
		virt_ops->vcpu_enter(v, &e);
		if (exit_dispatch(v, &e) == EXIT_STOP)
			break;
	}
	pr_err("root: the root vCPU on CPU %u stopped\n", smp_processor_id());
	preempt_sched_out(v);
	if (smp_processor_id() == 0)
		debugcon_loop();
	for (;;)
		arch_idle();
}
