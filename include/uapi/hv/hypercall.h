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

#define HV_API_VERSION          2      /* 1: the calls up to HC_REBOOT */

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
	HC_STATS                = 16,   /* RBX struct hv_stats (root phys), RCX HV_STATS_* */
	HC_REBOOT               = 17,   /* RBX HV_REBOOT_* */
	/* API version 2. */
	HC_SET_CPUID            = 18,   /* RBX vm, RCX struct hv_cpuid: table in, effective table out */
	HC_GET_CPUID            = 19,   /* RBX vm, RCX struct hv_cpuid */
	HC_GET_XSAVE            = 20,   /* RBX vcpu, RCX struct hv_xsave (page-aligned) */
	HC_SET_XSAVE            = 21,
	HC_GET_DEBUGREGS        = 22,   /* RBX vcpu, RCX struct hv_debugregs */
	HC_SET_DEBUGREGS        = 23,
	HC_CREATE_IRQCHIP       = 24,   /* RBX vm: local APICs + IOAPIC (before its vCPUs) */
	HC_IRQ_LINE             = 25,   /* RBX vm, RCX IOAPIC pin, RDX level (0/1) */
	HC_INTERRUPT            = 26,   /* RBX vcpu, RCX vector: queue an external interrupt */
	HC_NMI                  = 27,   /* RBX vcpu */
	HC_GET_MP_STATE         = 28,   /* RBX vcpu -> HV_MP_* */
	HC_SET_MP_STATE         = 29,   /* RBX vcpu, RCX HV_MP_* */
	HC_KICK                 = 30,   /* RBX vcpu: end its HC_RUN (HV_EXIT_KICKED) */
	HC_VM_STATS             = 31,   /* RBX vm, RCX struct hv_vm_stats */
	HC_CONSOLE_WRITE        = 32,   /* RBX buffer, RCX length: to the console, whole */
	HC_CONSOLE_READ         = 33,   /* RBX buffer, RCX size -> bytes typed (claims input) */
	HC_CONSOLE_INPUT        = 34,   /* RBX buffer, RCX length: bytes for the debug console */
	HC_LOG_READ             = 35,   /* RBX buffer, RCX size, RDX position -> struct hv_log_read */
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
/* API version 2: each is nonzero when the call family is there. */
#define HV_CAP_CPUID            5       /* HC_SET/GET_CPUID: max entries */
#define HV_CAP_XSAVE            6       /* HC_GET/SET_XSAVE: bytes of the area */
#define HV_CAP_DEBUGREGS        7       /* HC_GET/SET_DEBUGREGS */
#define HV_CAP_IRQCHIP          8       /* HC_CREATE_IRQCHIP, IRQ_LINE: IOAPIC pins */
#define HV_CAP_MP_STATE         9       /* HC_GET/SET_MP_STATE */
#define HV_CAP_RUN_BUDGET       10      /* HC_RUN's budget and HC_KICK */
#define HV_CAP_MMIO_EMULATION   11      /* MMIO exits carry size and data */
#define HV_CAP_CONSOLE          12      /* HC_CONSOLE_WRITE/READ/INPUT */
#define HV_CAP_VM_STATS         13      /* HC_VM_STATS: exit kinds counted */
#define HV_CAP_LOG              14      /* HC_LOG_READ: bytes in the log ring */
#define HV_CAP_MODULES          15      /* boot modules listed in hv_root_info */

#define HV_REBOOT_RESET         1
#define HV_REBOOT_POWEROFF      2

/* HC_VIRT_STATUS states. */
#define HV_VIRT_OFF             0
#define HV_VIRT_ON              1
#define HV_VIRT_FAILED          2

/* Errors (negated in RAX); the numbers match Linux errno. */
#define HV_EPERM        1       /* a root-only call made by a child VM */
#define HV_ENOENT       2       /* stale, foreign or unknown handle */
#define HV_EIO          5       /* the hardware refused (virtualization on a CPU) */
#define HV_EAGAIN       11      /* not ready: the staged init has not completed */
#define HV_ENOMEM       12      /* the hypervisor is out of memory */
#define HV_EFAULT       14      /* guest pointer outside the caller's memory */
#define HV_EBUSY        16      /* object in use (a VM with vCPUs, a running vCPU) */
#define HV_EEXIST       17      /* overlapping memory region */
#define HV_ENODEV       19      /* CPU not online */
#define HV_EINVAL       22      /* malformed argument */
#define HV_ENOSPC       28      /* table full (VMs, vCPUs, regions) */
#define HV_ENOSYS       38      /* unknown hypercall number */
#define HV_EALREADY     114     /* already in that state (CPU offline twice) */
#define HV_ETIMEDOUT    110     /* another CPU did not answer in time */

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
	HV_EXIT_TIMEOUT         = 7,    /* HC_RUN's budget ran out (API 2) */
	HV_EXIT_KICKED          = 8,    /* HC_KICK from another root vCPU (API 2) */
	HV_EXIT_YIELD           = 9,    /* HV_RUN_NO_BLOCK and the guest spins (PAUSE) */
};

/* hv_exit.flags */
#define HV_EXIT_F_IF            1u      /* HV_EXIT_HLT: RFLAGS.IF was set */

/* internal.suberror */
#define HV_INTERNAL_HW          0       /* hw_reason: VMX basic exit reason / SVM exit code */
#define HV_INTERNAL_ENTRY       1       /* VM entry refused the state (info2: VMX error) */
#define HV_INTERNAL_EMULATION   2       /* an instruction the hypervisor had to emulate
					 * and could not: insn[] holds its bytes */
#define HV_INTERNAL_FETCH       3       /* its bytes could not be read (info1: guest address) */
#define HV_INTERNAL_DELIVERY    4       /* delivering an event, the CPU touched guest-physical
					 * memory the VM does not have (info1: the event, bits
					 * 7:0 vector, 10:8 type, 31 valid, as SVM's EXITINTINFO
					 * and VMX's IDT-vectoring information; info2: the gpa) */

struct hv_exit {
	uint32_t reason;
	uint32_t flags;                 /* HV_EXIT_F_* (API 2; 0 in API 1) */
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
			uint8_t size;           /* 1, 2, 4, 8; 0: not decoded (insn) */
			uint8_t insn_len;
			uint8_t pad[5];
			uint64_t data;          /* write: the value; read: the root puts it here */
			uint8_t insn[16];       /* the instruction's bytes */
		} mmio;
		struct {
			uint64_t nr;
			uint64_t args[4];
			int64_t ret;            /* set by the root, returned to the child */
		} hypercall;
		struct {
			uint64_t hw_reason;     /* VMX basic exit reason or SVM exit code */
			uint64_t info1, info2;
			uint32_t suberror;      /* HV_INTERNAL_* */
			uint8_t insn_len;
			uint8_t pad[3];
			uint8_t insn[16];
		} internal;
	};
};

/* HC_SET_CPUID / HC_GET_CPUID (KVM_SET_CPUID2's shape). An entry answers
 * CPUID(function, index); index counts only with HV_CPUID_INDEXED. */
#define HV_CPUID_MAX_ENTRIES    100
#define HV_CPUID_INDEXED        1u
struct hv_cpuid_entry {
	uint32_t function, index, flags;
	uint32_t eax, ebx, ecx, edx;
	uint32_t pad;
};
struct hv_cpuid {
	uint32_t nent;
	uint32_t pad;
	struct hv_cpuid_entry entries[HV_CPUID_MAX_ENTRIES];
};

/* HC_GET_XSAVE / HC_SET_XSAVE: the vCPU's x87/SSE/AVX state in the
 * standard (non-compacted) XSAVE layout, or the 512-byte FXSAVE layout
 * where the CPU has no XSAVE (format). One page, page-aligned. */
#define HV_XSAVE_FORMAT_XSAVE   0
#define HV_XSAVE_FORMAT_FXSAVE  1
struct hv_xsave {
	uint64_t xcr0;                  /* the vCPU's XCR0 */
	uint32_t size;                  /* bytes of area used */
	uint32_t format;
	uint8_t pad[48];
	uint8_t area[4032];             /* legacy region, XSAVE header, components */
};

struct hv_debugregs {
	uint64_t db[4];                 /* DR0-DR3 */
	uint64_t dr6, dr7;
	uint64_t pad[2];
};

/* Multi-processor states (KVM_MP_STATE_*'s meaning). */
#define HV_MP_RUNNABLE          0
#define HV_MP_UNINITIALIZED     1       /* waits for INIT */
#define HV_MP_INIT_RECEIVED     2       /* wait-for-SIPI */
#define HV_MP_HALTED            3       /* HLT: waits for an interrupt */
#define HV_MP_SIPI_RECEIVED     4       /* starts in real mode at the SIPI page */

/* HC_RUN: RBX vcpu, RCX budget in microseconds (0: none), RDX flags. */
/* HV_RUN_NO_BLOCK: other vCPUs wait for this CPU. A halted vCPU returns
 * HV_EXIT_HLT at once, one that spins (PAUSE, a lock's wait loop whose
 * holder may be one of those waiting) HV_EXIT_YIELD. */
#define HV_RUN_NO_BLOCK         1u

/* HC_VM_STATS: exits of one VM by kind (HV_STAT_* indexes). */
enum hv_stat_kind {
	HV_STAT_IO, HV_STAT_MMIO, HV_STAT_MSR, HV_STAT_CPUID, HV_STAT_HLT,
	HV_STAT_HYPERCALL, HV_STAT_INTERRUPT, HV_STAT_WINDOW, HV_STAT_NPF,
	HV_STAT_XSETBV, HV_STAT_CR, HV_STAT_DR, HV_STAT_EXCEPTION, HV_STAT_OTHER,
	HV_STAT_TO_ROOT, HV_STAT_INJECTED, HV_STAT_HALT_WAKEUPS, HV_STAT_PAUSE,
	HV_STAT_FAST_RUN,       /* of TO_ROOT: runs done on HC_RUN's fast path */
	HV_STAT_COUNT,
};
struct hv_vm_stats {
	uint64_t exits;                 /* all exits */
	uint64_t kind[HV_STAT_COUNT];
	uint64_t pad[32 - 1 - HV_STAT_COUNT];
};

/* HC_LOG_READ: copies the hypervisor's log ring from `position` (bytes
 * since boot); returns the bytes copied. next_position is where the next
 * read should start; dropped counts bytes that were overwritten before
 * this read got them. The buffer starts with this header. */
struct hv_log_read {
	uint64_t next_position;
	uint64_t dropped;
	uint32_t len;
	uint32_t pad;
	char text[];
};

/*
 * HC_STATS flags (RCX). Without flags every CPU first empties its per-CPU
 * slab caches (a cross-CPU call round, shared by CPUs asking at once), so
 * free_pages counts what those caches held. HV_STATS_NO_SHRINK skips that:
 * no CPU waits for another, free_pages is the page allocator's free memory
 * alone, and the other figures are the same.
 */
#define HV_STATS_NO_SHRINK      1u

struct hv_stats {
	uint64_t free_pages, total_pages;
	uint64_t slab_objects;          /* objects in use in every cache (the
					 * allocator's own magazines and slab
					 * descriptors not counted) */
	uint64_t vms, vcpus;
	uint64_t exits, hypercalls;
	/* CPUs that did not empty their per-CPU caches in time (normally 0):
	 * the objects they cache count in slab_objects and their pages are
	 * missing from free_pages, so the figures are not comparable. */
	uint64_t stale_cpus;
};


/*
 * What a root partition finds at entry: RDI points at this structure (in
 * its own memory). The root runs in 64-bit mode on the hypervisor's
 * identity page tables for its first 4 GiB, with a 32 KiB stack, on CPU 0.
 */
#define HV_ROOT_INFO_MAGIC      0x6f666e49746f6f52ULL   /* "RootInfo" */
#define HV_ROOT_MAX_RANGES      16
#define HV_ROOT_MAX_MODULES     8

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
	/* API version 2: the multiboot2 modules after the root's own, mapped
	 * read-only into the root at their physical addresses (not root
	 * memory: free_start/free_end never cover them). */
	uint32_t nr_modules;
	uint32_t tsc_khz;               /* the TSC's rate, as the hypervisor measured it */
	struct {
		uint64_t start, size;
		char cmdline[112];
	} modules[HV_ROOT_MAX_MODULES];
};

#endif
