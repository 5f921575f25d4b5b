/*
 * VMs and vCPUs, vendor-neutral. The root partition is VM 0 (no handle);
 * child VMs are created by the root through hypercalls. A vCPU's control
 * block (VMCB/VMCS page first) comes from the vCPU slab cache.
 */
#ifndef HV_VM_H
#define HV_VM_H

#include "hv/gpt.h"
#include "hv/spinlock.h"
#include "hv/types.h"
#include <uapi/hv/hypercall.h>

#define VM_MAX              12          /* child VMs at once (ASIDs: QEMU has 16) */
#define VM_MAX_VCPUS        8           /* per VM */
#define VCPU_MAX            (VM_MAX * VM_MAX_VCPUS)
#define VM_MAX_REGIONS      8

struct mem_region {
	uint64_t gpa, hpa, size;
};

struct vm {
	int64_t handle;                 /* 0 for the root partition */
	bool is_root;
	bool dead;                      /* triple fault: only destroy works */
	uint32_t asid;                  /* SVM ASID / VMX VPID, 1.. */
	struct gpt gpt;
	spinlock_t lock;                /* regions, vCPU count */
	uint32_t nr_regions;
	struct mem_region regions[VM_MAX_REGIONS];
	uint32_t nr_vcpus;
	uint64_t exits;
};

struct vcpu {
	struct vm *vm;
	int64_t handle;
	int running_on;                 /* physical CPU + 1 while in HC_RUN, else 0 */
	uint64_t exit_page;             /* root-physical address of struct hv_exit */
	struct hv_regs regs;            /* GPRs; RIP/RSP/RFLAGS/RAX live in the VMCB/VMCS */
	/* What the next run must finish first (set when an exit went to the root). */
	enum { PENDING_NONE, PENDING_IN, PENDING_HYPERCALL, PENDING_SKIP } pending;
	uint8_t pending_size;
	uint64_t pending_next_rip;
	uint64_t exits;
	void *block;                    /* the vCPU cache object (VMCB/VMCS page) */
};

/* How a handled exit continues. */
enum exit_action {
	EXIT_RESUME,                    /* re-enter the guest */
	EXIT_TO_ROOT,                   /* a child's exit: record written, HC_RUN returns */
	EXIT_STOP,                      /* the VM cannot go on */
};

/* An exit, as the vendor backend translates it for the generic handlers. */
enum exit_kind {
	EXIT_KIND_NONE,                 /* handled by the backend (interrupt window) */
	EXIT_KIND_IO,
	EXIT_KIND_NPF,                  /* EPT violation / nested page fault */
	EXIT_KIND_HLT,
	EXIT_KIND_HYPERCALL,
	EXIT_KIND_CPUID,
	EXIT_KIND_RDMSR,
	EXIT_KIND_WRMSR,
	EXIT_KIND_SHUTDOWN,             /* triple fault */
	EXIT_KIND_VIRT_INSN,            /* VMX/SVM instruction: #UD */
	EXIT_KIND_CR,                   /* control-register access the controls trap */
	EXIT_KIND_INVALID,              /* VM entry failed: bad guest state */
	EXIT_KIND_UNKNOWN,
	EXIT_KIND_COUNT,
};

struct vm_exit_info {
	enum exit_kind kind;
	uint64_t hw_reason, info1, info2;
	uint64_t rip, next_rip;         /* next_rip 0 if unknown */
	struct { uint16_t port; uint8_t size; bool in, string; } io;
	struct { uint64_t gpa; bool write, fetch; } npf;
	uint32_t msr;
};

extern struct vm root_vm;

struct vm *vm_create(bool is_root);
int vm_destroy(struct vm *vm);
int vm_set_region(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size);
struct vcpu *vcpu_create(struct vm *vm, uint64_t exit_page);
void vcpu_destroy(struct vcpu *v);
/* Run a child vCPU until an exit for the root; 0 with the record written. */
int vcpu_run_child(struct vcpu *v);
/* Run a root vCPU on this CPU for good. */
__attribute__((noreturn)) void vcpu_run_root(struct vcpu *v);

extern uint64_t vm_count, vcpu_count, exit_count, hypercall_count;

#endif
