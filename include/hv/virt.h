/*
 * Hardware virtualization, vendor-neutral side. One backend (VMX or SVM)
 * fills a struct virt_ops at arch init; the core never asks which one.
 */
#ifndef HV_VIRT_H
#define HV_VIRT_H

#include "hv/config.h"
#include "hv/types.h"
#include <uapi/hv/hypercall.h>

struct vcpu;
struct vm_exit_info;
struct gpt_format;

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

	/* Guests (vCPU blocks come from the vCPU cache, VMCB/VMCS page first). */
	const struct gpt_format *gpt_format;
	/* Prepare a new vCPU's control block: 64-bit root state or a child's
	 * reset state, the VM's nested page tables and intercepts. */
	int (*vcpu_setup)(struct vcpu *v);
	void (*vcpu_teardown)(struct vcpu *v);
	/* Enter the guest once and translate the exit. Interrupts that arrive
	 * meanwhile are served before returning. */
	void (*vcpu_enter)(struct vcpu *v, struct vm_exit_info *exit);
	/* RIP, RSP, RFLAGS, RAX live in the control block: move them. */
	void (*get_regs)(struct vcpu *v, struct hv_regs *r);
	void (*set_regs)(struct vcpu *v, const struct hv_regs *r);
	void (*get_sregs)(struct vcpu *v, struct hv_sregs *s);
	void (*set_sregs)(struct vcpu *v, const struct hv_sregs *s);
	void (*set_rip)(struct vcpu *v, uint64_t rip);
	void (*inject_exception)(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
	/* MSRs kept in the control block (EFER, PAT, syscall MSRs, FS/GS bases):
	 * 0, or -ENOENT when the MSR is not one of them. */
	int (*msr_read)(struct vcpu *v, uint32_t msr, uint64_t *val);
	int (*msr_write)(struct vcpu *v, uint32_t msr, uint64_t val);
};

/* Checks that every op is set: -EINVAL (and names the missing op) if not. */
int virt_ops_validate(const struct virt_ops *ops);

/* The arch's choice of backend for this machine, or NULL with chk->reason. */
const struct virt_ops *arch_virt_select(struct virt_check *chk);

#endif
