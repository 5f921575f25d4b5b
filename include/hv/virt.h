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

/* The guest's mode, for instruction fetch and decoding. */
struct guest_mode {
	uint64_t cr0, cr3, cr4, efer, rflags;
	uint64_t cs_base;
	uint16_t cs_attrib;             /* VMCB layout: L bit 9, D bit 10 */
	uint8_t cpl;
};

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

/* Fill in a check's reason and, if given, its detail (the backends'). */
void virt_check_set(struct virt_check *chk, enum virt_reason r, const char *detail);

#define HV_VENDOR_INTEL 1               /* the HV_CAP_VENDOR values */
#define HV_VENDOR_AMD   2

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
	unsigned int vendor;            /* HV_VENDOR_*: whose CPU model guests see */

	/* Guests (vCPU blocks come from the vCPU cache, VMCB/VMCS page first). */
	const struct gpt_format *gpt_format;
	/* Prepare a new vCPU's control block: 64-bit root state or a child's
	 * reset state, the VM's nested page tables and intercepts; point
	 * v->fpu at the block's FPU area. */
	int (*vcpu_setup)(struct vcpu *v);
	void (*vcpu_teardown)(struct vcpu *v);
	/* vCPU load/put (the preempt stage's hooks, KVM's vcpu_load/put): the
	 * control block becomes this CPU's (VMPTRLD) and stops being (VMCLEAR).
	 * Accessors below work on a loaded vCPU, or on one loaded nowhere. */
	void (*vcpu_load)(struct vcpu *v);
	void (*vcpu_put)(struct vcpu *v);
	/* Enter the guest once and translate the exit. Interrupts that arrive
	 * meanwhile are served before returning. deadline: host TSC by which
	 * the guest must be out again (its timer, the run budget), 0: none. */
	void (*vcpu_enter)(struct vcpu *v, struct vm_exit_info *exit, uint64_t deadline);
	/* HC_RUN's fast path (hv/vcpu_run.c): from a root vCPU's hypercall
	 * exit, interrupts still off, enter child v (loaded by the caller,
	 * vcpu_load) once, translate its exit, put v and leave the CPU ready
	 * for the root's re-entry; the exit goes to exit_child_fast
	 * (hv/exits.h), whose answer it returns (VMX calls it before the put,
	 * while v's VMCS is current, so the record's next RIP needs no
	 * reload; SVM at the end). Interrupts that arrive meanwhile end the
	 * child's run and stay pending. */
	bool (*run_child_fast)(struct vcpu *root, struct vcpu *v, struct vm_exit_info *exit,
			       uint64_t deadline);
	/* RIP, RSP, RFLAGS (and RAX on SVM) live in the control block. */
	void (*get_regs)(struct vcpu *v, struct hv_regs *r);
	void (*set_regs)(struct vcpu *v, const struct hv_regs *r);
	void (*get_sregs)(struct vcpu *v, struct hv_sregs *s);
	void (*set_sregs)(struct vcpu *v, const struct hv_sregs *s);
	uint64_t (*get_rip)(struct vcpu *v);
	void (*set_rip)(struct vcpu *v, uint64_t rip);
	/* What decoding and paging need: control registers, EFER, CS, CPL. */
	void (*get_mode)(struct vcpu *v, struct guest_mode *m);
	void (*inject_exception)(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
	/* MSRs kept in the control block (EFER, PAT, syscall MSRs, FS/GS bases):
	 * 0, -ENOENT when the MSR is not one of them, -EINVAL for a value the
	 * CPU refuses (#GP). */
	int (*msr_read)(struct vcpu *v, uint32_t msr, uint64_t *val);
	int (*msr_write)(struct vcpu *v, uint32_t msr, uint64_t val);
	/* DR6 (SVM keeps it in the VMCB) and DR7. */
	void (*get_dr67)(struct vcpu *v, uint64_t *dr6, uint64_t *dr7);
	void (*set_dr67)(struct vcpu *v, uint64_t dr6, uint64_t dr7);
	/* Interrupt injection (docs/interrupts.md). event_queued: something
	 * is already set for the next entry (a re-delivery, an exception).
	 * The windows: an external interrupt / NMI could be taken now (RFLAGS.IF
	 * and no STI/MOV SS shadow; no NMI in progress). request_window: exit
	 * as soon as one opens; tpr_class: the priority class of an interrupt
	 * the guest's TPR holds back (exit when the TPR drops below it), -1:
	 * none. Called before every entry with what is wanted now. */
	bool (*event_queued)(struct vcpu *v);
	bool (*irq_window_open)(struct vcpu *v);
	bool (*nmi_window_open)(struct vcpu *v);
	void (*inject_irq)(struct vcpu *v, uint8_t vector);
	void (*inject_nmi)(struct vcpu *v);
	void (*request_window)(struct vcpu *v, bool irq, bool nmi, int tpr_class);
	/* Guest TSC = host TSC + offset. */
	uint64_t (*get_tsc_offset)(struct vcpu *v);
	void (*set_tsc_offset)(struct vcpu *v, uint64_t offset);
};

/* Checks that every op is set: -EINVAL (and names the missing op) if not. */
int virt_ops_validate(const struct virt_ops *ops);

/* The arch's choice of backend for this machine, or NULL with chk->reason. */
const struct virt_ops *arch_virt_select(struct virt_check *chk);

#endif
