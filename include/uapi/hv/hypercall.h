/*
 * The hypervisor's public ABI for guests: hypercall numbers, argument
 * structures, exit records and errors. Fixed-width types only, so guest code
 * includes this header unchanged. Reference: docs/hypercalls.md.
 *
 * Convention (KVM's paravirtual one): VMCALL (Intel) or VMMCALL (AMD) with
 * the number in RAX and arguments in RBX, RCX, RDX, RSI; the result comes
 * back in RAX: >= 0 success, negative: -HV_E* below. Other registers are
 * preserved. Guest pointers are guest-physical addresses in the caller's
 * memory; a structure must not cross a page boundary.
 */
#ifndef UAPI_HV_HYPERCALL_H
#define UAPI_HV_HYPERCALL_H

#include <stdint.h>

#define HV_API_VERSION          1

/* CPUID 0x40000000: EAX = highest hypervisor leaf, EBX:ECX:EDX = signature. */
#define HV_CPUID_SIGNATURE      0x40000000u
#define HV_CPUID_FEATURES       0x40000001u     /* EAX = HV_API_VERSION */
#define HV_SIGNATURE_EBX        0x694d7648u     /* "HvMi" */
#define HV_SIGNATURE_ECX        0x486f7263u     /* "croH" */
#define HV_SIGNATURE_EDX        0x36387876u     /* "vx86" */

enum hv_hypercall {
	HC_API_VERSION          = 0,    /* -> HV_API_VERSION (also for child VMs) */
	HC_VIRT_STATUS          = 1,    /* RBX cpu -> state | reason << 8 */
	HC_CHECK_CAP            = 2,    /* RBX cap -> value (0: absent) */
	HC_VM_CREATE            = 3,    /* -> VM handle */
	HC_VM_DESTROY           = 4,    /* RBX vm (its vCPUs must be destroyed first) */
	HC_SET_MEMORY_REGION    = 5,    /* RBX vm, RCX guest phys, RDX root phys, RSI size */
	HC_VCPU_CREATE          = 6,    /* RBX vm, RCX exit page (root phys) -> vCPU handle */
	HC_VCPU_DESTROY         = 7,    /* RBX vcpu */
	HC_GET_REGS             = 8,    /* RBX vcpu, RCX struct hv_regs (root phys) */
	HC_SET_REGS             = 9,
	HC_GET_SREGS            = 10,   /* RBX vcpu, RCX struct hv_sregs (root phys) */
	HC_SET_SREGS            = 11,
	HC_RUN                  = 12,   /* RBX vcpu -> 0; exit record in its exit page */
	HC_START_ROOT_VCPU      = 13,   /* RBX cpu, RCX rip, RDX rsp, RSI rdi value */
	HC_CPU_OFFLINE          = 14,   /* RBX cpu */
	HC_CPU_ONLINE           = 15,   /* RBX cpu */
	HC_STATS                = 16,   /* RBX struct hv_stats (root phys) */
	HC_REBOOT               = 17,   /* RBX HV_REBOOT_* */
	HC_COUNT,
	/* Numbers from here up, made by a child VM, end its HC_RUN with an
	 * HV_EXIT_HYPERCALL record for the root to handle. */
	HC_USER_BASE            = 0x1000,
};

/* HC_CHECK_CAP capabilities. */
#define HV_CAP_MAX_VMS          1
#define HV_CAP_MAX_VCPUS        2       /* per VM */
#define HV_CAP_NR_CPUS          3       /* physical CPUs online */
#define HV_CAP_VENDOR           4       /* 1: Intel VMX, 2: AMD SVM */

#define HV_REBOOT_RESET         1
#define HV_REBOOT_POWEROFF      2

/* HC_VIRT_STATUS states. */
#define HV_VIRT_OFF             0
#define HV_VIRT_ON              1
#define HV_VIRT_FAILED          2

/* Errors (negated in RAX); the numbers match Linux errno. */
#define HV_EPERM        1       /* a root-only call made by a child VM */
#define HV_ENOENT       2       /* stale, foreign or unknown handle */
#define HV_EAGAIN       11      /* not ready: the staged init has not completed */
#define HV_ENOMEM       12      /* the hypervisor is out of memory */
#define HV_EFAULT       14      /* guest pointer outside the caller's memory */
#define HV_EBUSY        16      /* object in use (a VM with vCPUs, a running vCPU) */
#define HV_EEXIST       17      /* overlapping memory region */
#define HV_ENODEV       19      /* CPU not online */
#define HV_EINVAL       22      /* malformed argument */
#define HV_ENOSPC       28      /* table full (VMs, vCPUs, regions) */
#define HV_ENOSYS       38      /* unknown hypercall number */

struct hv_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};

/* attrib: the descriptor's type (bits 0-3), S (4), DPL (5-6), P (7), AVL
 * (8), L (9), D/B (10), G (11): the AMD VMCB layout. */
struct hv_segment {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint16_t attrib;
};

struct hv_dtable {
	uint64_t base;
	uint32_t limit;
	uint32_t pad;
};

struct hv_sregs {
	struct hv_segment cs, ds, es, fs, gs, ss, tr, ldtr;
	struct hv_dtable gdt, idt;
	uint64_t cr0, cr2, cr3, cr4, efer;
};

enum hv_exit_reason {
	HV_EXIT_NONE            = 0,
	HV_EXIT_IO              = 1,    /* port I/O; for IN, put the data in io.data */
	HV_EXIT_MMIO            = 2,    /* access to guest-physical memory with nothing behind it */
	HV_EXIT_HLT             = 3,
	HV_EXIT_HYPERCALL       = 4,    /* a number >= HC_USER_BASE; set hypercall.ret */
	HV_EXIT_SHUTDOWN        = 5,    /* triple fault: the VM is dead */
	HV_EXIT_INTERNAL        = 6,    /* an exit the hypervisor cannot handle */
};

struct hv_exit {
	uint32_t reason;
	uint32_t pad;
	uint64_t rip;                   /* guest RIP of the exiting instruction */
	union {
		struct {
			uint16_t port;
			uint8_t size;           /* 1, 2 or 4 */
			uint8_t out;            /* 1: OUT, 0: IN */
			uint32_t pad;
			uint64_t data;
		} io;
		struct {
			uint64_t gpa;
			uint8_t write;
		} mmio;
		struct {
			uint64_t nr;
			uint64_t args[4];
			int64_t ret;            /* set by the root, returned to the child */
		} hypercall;
		struct {
			uint64_t hw_reason;     /* VMX basic exit reason or SVM exit code */
			uint64_t info1, info2;
		} internal;
	};
};

struct hv_stats {
	uint64_t free_pages, total_pages;
	uint64_t slab_objects;          /* objects in use in every cache */
	uint64_t vms, vcpus;
	uint64_t exits, hypercalls;
};


/*
 * What a root partition finds at entry: RDI points at this structure (in
 * its own memory). The root runs in 64-bit mode on the hypervisor's
 * identity page tables for its first 4 GiB, with a 32 KiB stack, on CPU 0.
 */
#define HV_ROOT_INFO_MAGIC      0x6f666e49746f6f52ULL   /* "RootInfo" */
#define HV_ROOT_MAX_RANGES      16

struct hv_root_info {
	uint64_t magic;
	uint32_t api_version;
	uint32_t nr_cpus;               /* physical CPUs online */
	uint64_t free_start;            /* root memory nobody uses yet: [start, end) */
	uint64_t free_end;
	uint32_t nr_ranges;
	uint32_t pad;
	struct { uint64_t base, len; } ranges[HV_ROOT_MAX_RANGES];      /* all root memory */
	char cmdline[256];              /* the module's command line */
};

#endif
