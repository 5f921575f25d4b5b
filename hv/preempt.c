/* vCPU load/put hooks (hv/preempt.h). */
#include "hv/preempt.h"
#include "hv/types.h"

static const struct preempt_ops *current_ops;

void preempt_ops_set(const struct preempt_ops *ops)
{
	__atomic_store_n(&current_ops, ops, __ATOMIC_RELEASE);
}

void preempt_sched_in(void *vcpu, unsigned int cpu)
{
	const struct preempt_ops *ops = __atomic_load_n(&current_ops, __ATOMIC_ACQUIRE);

	if (ops && ops->sched_in)
		ops->sched_in(vcpu, cpu);
}

void preempt_sched_out(void *vcpu)
{
	const struct preempt_ops *ops = __atomic_load_n(&current_ops, __ATOMIC_ACQUIRE);

	if (ops && ops->sched_out)
		ops->sched_out(vcpu);
}
