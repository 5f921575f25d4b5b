/*
 * The staged virtualization init, modelled on Linux's kvm_init(): each stage
 * succeeds or every stage before it is undone, in reverse order. See
 * docs/init.md for the stage table.
 */
#ifndef HV_VIRT_INIT_H
#define HV_VIRT_INIT_H

#include "hv/cpumask.h"
#include "hv/virt.h"

enum virt_stage {
	STAGE_ARCH,             /* kvm_arch_init */
	STAGE_EVENTS,           /* kvm_irqfd_init */
	STAGE_CPUMASK,          /* zalloc_cpumask_var(cpus_hardware_enabled) */
	STAGE_HW_SETUP,         /* kvm_arch_hardware_setup */
	STAGE_COMPAT,           /* check_processor_compat on each CPU */
	STAGE_CPU_NOTIFIER,     /* register_cpu_notifier */
	STAGE_REBOOT_NOTIFIER,  /* register_reboot_notifier */
	STAGE_VCPU_CACHE,       /* kmem_cache_create("kvm_vcpu") */
	STAGE_ASYNC,            /* kvm_async_pf_init */
	STAGE_HYPERCALL,        /* misc_register(&kvm_dev) */
	STAGE_SYSCORE,          /* register_syscore_ops */
	STAGE_PREEMPT,          /* kvm_preempt_ops */
	STAGE_DEBUG,            /* kvm_init_debug */
	STAGE_DEVOPS,           /* kvm_vfio_ops_init (failure only warns) */
	STAGE_ENABLE,           /* virtualization on in every online CPU */
	STAGE_COUNT,
};

const char *virt_stage_name(enum virt_stage s);

/*
 * fail_init=STAGE, fail_init=compat@CPU, fail_init=enable@CPU: make that
 * stage (or that CPU's part of it) fail with a realistic error.
 */
struct fail_inject {
	int stage;              /* -1: none */
	int cpu;                /* -1: every CPU / not per-CPU */
};
extern struct fail_inject fail_init;
int fail_inject_parse(const char *value, struct fail_inject *out);
/* Should stage s fail (on cpu, for per-CPU stages; -1 otherwise)? */
bool fail_inject_hit(enum virt_stage s, int cpu);

/* Run the sequence. 0, or the error of the stage that failed after every
 * earlier stage was undone. */
int virt_init(void);
/* Undo a successful virt_init completely (the reverse of all stages). */
void virt_exit(void);
bool virt_ready(void);

/* What the backend chose, and the vCPU cache, for later users. */
extern const struct virt_ops *virt_ops;
extern struct cache *vcpu_cache;
extern struct cache *async_work_cache;
extern cpumask_t *virt_enabled_mask;

#endif
