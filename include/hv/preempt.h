/* vCPU load/put hooks on scheduling (kvm_preempt_ops' analogue): called when
 * a vCPU is switched onto or off a physical CPU. */
#ifndef HV_PREEMPT_H
#define HV_PREEMPT_H

struct preempt_ops {
	void (*sched_in)(void *vcpu, unsigned int cpu);
	void (*sched_out)(void *vcpu);
};

/* NULL uninstalls. */
void preempt_ops_set(const struct preempt_ops *ops);
void preempt_sched_in(void *vcpu, unsigned int cpu);
void preempt_sched_out(void *vcpu);

#endif
