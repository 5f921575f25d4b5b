/*
 * Hardware virtualization, vendor-neutral side. One backend (VMX or SVM)
 * fills a struct virt_ops at arch init; the core never asks which one.
 */
#ifndef HV_VIRT_H
#define HV_VIRT_H

#include "hv/config.h"
#include "hv/types.h"

/* Why a CPU cannot (or did not) turn virtualization on. */
enum virt_reason {
	VIRT_REASON_NONE = 0,
	VIRT_REASON_UNSUPPORTED,        /* CPUID: no VMX / SVM */
	VIRT_REASON_FW_DISABLED,        /* locked off: IA32_FEATURE_CONTROL, VM_CR.SVMDIS */
	VIRT_REASON_IN_USE,             /* CR4.VMXE / EFER.SVME already set by someone else */
	VIRT_REASON_MISSING_FEATURE,    /* a required control (EPT, NPT, ...) is absent */
	VIRT_REASON_CAP_MISMATCH,       /* capability differs from the boot CPU's */
	VIRT_REASON_ENABLE_FAILED,      /* VMXON failed, EFER.SVME did not stick */
	VIRT_REASON_NO_MEMORY,
	VIRT_REASON_NO_ANSWER,          /* the CPU did not answer the cross-CPU call */
	VIRT_REASON_INJECTED,           /* fail_init= */
	VIRT_REASON_COUNT,
};

const char *virt_reason_name(enum virt_reason r);

/* Out-parameter of the per-CPU checks: a reason and, for a mismatch or a
 * missing feature, which capability ("IA32_VMX_PROCBASED_CTLS2", ...). */
struct virt_check {
	enum virt_reason reason;
	char detail[40];
};

struct virt_ops {
	const char *name;
	/* On the boot CPU: can this machine do it at all? */
	int (*probe)(struct virt_check *chk);
	/* Read the capabilities into one configuration and check the controls
	 * the hypervisor needs; allocate per-CPU regions for every online CPU. */
	int (*hardware_setup)(struct virt_check *chk);
	void (*hardware_unsetup)(void);
	/* On each CPU: equal to the boot CPU's configuration? */
	int (*check_compat)(struct virt_check *chk);
	/* On the calling CPU. enable may fail; disable cannot. */
	int (*enable)(struct virt_check *chk);
	void (*disable)(void);
	/* Read back from the hardware whether virtualization is on for this CPU
	 * (CR4.VMXE + VMPTRLD/VMCLEAR of a test VMCS; EFER.SVME + VM_HSAVE_PA).
	 * Returns 1 on, 0 off, negative if the state is inconsistent. */
	int (*hw_state)(void);
	/* Panic/NMI context: no locks, no printing, idempotent. */
	void (*emergency_disable)(void);
	size_t vcpu_size;
	size_t vcpu_align;
};

/* Checks that every op is set: -EINVAL (and names the missing op) if not. */
int virt_ops_validate(const struct virt_ops *ops);

/* The arch's choice of backend for this machine, or NULL with chk->reason. */
const struct virt_ops *arch_virt_select(struct virt_check *chk);

#endif
