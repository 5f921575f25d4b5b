/*
 * VMs and vCPUs, vendor-neutral. The root partition is VM 0 (no handle);
 * child VMs are created by the root through hypercalls. A vCPU's control
 * block (VMCB/VMCS page first, then its FPU area) comes from the vCPU slab
 * cache.
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

struct fpu;
struct cpuid_table;
struct irqchip;
struct vlapic;

struct mem_region {
	uint64_t gpa, hpa, size;
};

struct vm {
	uint32_t id;                    /* for log lines: 0 root, then 1, 2, ... */
	bool is_root;
	bool dead;                      /* triple fault: only destroy works */
	uint32_t asid;                  /* SVM ASID / VMX VPID, 1.. */
	struct gpt gpt;
	/* Nested mappings change -> generation + 1; a vCPU that entered under
	 * an older one flushes its TLB first (docs/cpu-state.md). */
	uint64_t tlb_gen;
	spinlock_t lock;                /* regions, vCPU slots */
	uint32_t nr_regions;
	struct mem_region regions[VM_MAX_REGIONS];
	uint32_t nr_vcpus;
	struct vcpu *vcpus[VM_MAX_VCPUS];       /* by index (the APIC ID) */
	const struct cpuid_table *cpuid;        /* the default or its own */
	struct irqchip *irqchip;                /* NULL: no local APIC/IOAPIC */
	struct async_work *release;             /* a shootdown to retry, then free tables */
	uint64_t exits;
	uint64_t stat[HV_STAT_COUNT];
};

/* What the next run must finish first (set when an exit went to the root). */
enum vcpu_pending {
	PENDING_NONE,
	PENDING_IN,                     /* IN: the root's data into AL/AX/EAX */
	PENDING_INS,                    /* INS: the root's data into guest memory */
	PENDING_HYPERCALL,              /* RAX = the root's result */
	PENDING_MMIO,                   /* the instruction completes with mmio.data */
};

/* Where the debug registers DR0-3 (and DR6 on VMX) are (docs/cpu-state.md). */
enum dr_state {
	DR_SAVED,                       /* in struct vcpu; MOV DR exits */
	DR_LOADED,                      /* in the CPU because DR7 arms them; MOV DR exits */
	DR_LIVE,                        /* in the CPU, MOV DR does not exit until the next exit */
};

/* How a handled exit continues. */
enum exit_action {
	EXIT_RESUME,                    /* re-enter the guest */
	EXIT_TO_ROOT,                   /* a child's exit: record written, HC_RUN returns */
	EXIT_STOP,                      /* the VM cannot go on */
};

/* An exit, as the vendor backend translates it for the generic handlers. */
enum exit_kind {
	EXIT_KIND_NONE,                 /* handled by the backend, or an interrupt */
	EXIT_KIND_IO,
	EXIT_KIND_NPF,                  /* EPT violation / nested page fault */
	EXIT_KIND_HLT,
	EXIT_KIND_HYPERCALL,
	EXIT_KIND_CPUID,
	EXIT_KIND_RDMSR,
	EXIT_KIND_WRMSR,
	EXIT_KIND_SHUTDOWN,             /* triple fault */
	EXIT_KIND_VIRT_INSN,            /* VMX/SVM instruction: #UD */
	EXIT_KIND_XSETBV,
	EXIT_KIND_DR,                   /* MOV DR: make the debug registers live */
	EXIT_KIND_UD,                   /* MONITOR/MWAIT and the like: #UD */
	EXIT_KIND_GP,                   /* RDPMC: #GP */
	EXIT_KIND_NOP,                  /* INVD, WBINVD: done, skip it */
	EXIT_KIND_WINDOW,               /* interrupt/NMI window opened */
	EXIT_KIND_PAUSE,                /* PAUSE while vCPU->yield_on_pause */
	EXIT_KIND_INVALID,              /* VM entry failed: bad guest state */
	EXIT_KIND_UNKNOWN,
	EXIT_KIND_COUNT,
};

struct vm_exit_info {
	enum exit_kind kind;
	uint32_t msr;
	uint64_t hw_reason, info1, info2;
	uint64_t rip, next_rip;         /* next_rip 0 if unknown */
	struct { uint16_t port; uint8_t size; bool in, string, rep; } io;
	/* delivering: the event whose delivery the fault cut off (bits 7:0
	 * vector, 10:8 type, 31 valid: EXITINTINFO / IDT-vectoring info), 0
	 * when the fault is an instruction's own. */
	struct { uint64_t gpa; bool write, fetch; uint32_t delivering; } npf;
};

struct vcpu {
	struct vm *vm;
	uint32_t index;                 /* in its VM: its APIC ID */
	int running_on;                 /* physical CPU + 1 while in HC_RUN, else 0 */
	uint64_t exit_page;             /* root-physical address of struct hv_exit */
	struct hv_regs regs;            /* GPRs; RIP/RSP/RFLAGS live in the VMCB/VMCS */
	enum vcpu_pending pending;
	uint8_t pending_size;
	uint64_t pending_next_rip;
	uint64_t pending_gpa;           /* PENDING_MMIO: the device address */
	/* String I/O in progress (hv/emulate.c). */
	uint64_t string_la, string_mask;
	uint8_t string_len;
	bool string_rep;
	struct fpu *fpu;                /* in the control block */
	uint64_t db[4], dr6;            /* DR6 here on VMX only (the VMCB has it) */
	enum dr_state dr_state;
	uint64_t tsc_aux;
	uint64_t mtrr_def_type;
	/* TLB policy: where and under which generation it last entered. */
	int last_cpu;
	uint64_t tlb_gen;
	/* Interrupt platform (docs/interrupts.md). */
	struct vlapic *lapic;           /* NULL without an irqchip */
	uint32_t *apic_page;            /* local APIC registers / VMX virtual-APIC page */
	uint32_t mp_state;              /* HV_MP_* */
	uint32_t requests;              /* VCPU_REQ_*, set from any CPU */
	uint8_t sipi_vector;
	uint8_t extint_vector;          /* HC_INTERRUPT without an irqchip */
	bool nmi_blocked;               /* an NMI handler runs until IRET */
	/* The last request_window asked for a window or a TPR exit (the
	 * backends only ever clear these themselves): while it did not,
	 * asking for nothing again is skipped (irqchip_inject). */
	bool window_asked;
	/* This run shares the CPU (HV_RUN_NO_BLOCK): PAUSE exits and ends it. */
	bool yield_on_pause;
	/* HC_RUN's fast path ended at an exit it leaves to the ordinary path:
	 * the next run starts by handling it, under the same deadline. */
	bool deferred;
	uint64_t deferred_deadline;
	struct vm_exit_info deferred_exit;
	/* A root vCPU: the child its HC_RUN's fast path left claimed for the
	 * same call's ordinary path (hv/hypercall.c). */
	struct vcpu *fast_claim;
	void *block;                    /* the vCPU cache object (VMCB/VMCS page) */
};

/* vcpu->requests: what other CPUs (or the root) ask of a vCPU. */
#define VCPU_REQ_KICK           (1u << 0)       /* end HC_RUN: HV_EXIT_KICKED */
#define VCPU_REQ_INIT           (1u << 1)
#define VCPU_REQ_SIPI           (1u << 2)
#define VCPU_REQ_NMI            (1u << 3)
#define VCPU_REQ_EXTINT         (1u << 4)
#define VCPU_REQ_EVENT          (1u << 5)       /* an interrupt arrived: recheck */

extern struct vm root_vm;

struct vm *vm_create(bool is_root);
int vm_destroy(struct vm *vm);
int vm_set_region(struct vm *vm, uint64_t gpa, uint64_t hpa, uint64_t size);
/* The host address of guest-physical [gpa, gpa + len) if one region of the
 * VM covers it all, else NULL. */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);
struct vcpu *vcpu_create(struct vm *vm, uint64_t exit_page);
void vcpu_destroy(struct vcpu *v);
/* Run a child vCPU (for the root vCPU `caller`) until an exit for the
 * root, the budget (TSC cycles, 0: none) or a kick; 0 with the record
 * written. */
int vcpu_run_child(struct vcpu *v, struct vcpu *caller, uint64_t budget, uint32_t flags);
/* HC_RUN's fast path, from a root's hypercall exit with interrupts off
 * (hv/vcpu_run.c): true with the record written; false: the ordinary path
 * goes on (v->deferred: from the exit it left there). */
bool vcpu_run_child_fast(struct vcpu *v, struct vcpu *caller, uint64_t budget, uint32_t flags);
/* Run a root vCPU on this CPU for good. */
__attribute__((noreturn)) void vcpu_run_root(struct vcpu *v);
/* Ask a vCPU for something from any CPU, and make it look soon. */
void vcpu_request(struct vcpu *v, uint32_t req);


#endif
