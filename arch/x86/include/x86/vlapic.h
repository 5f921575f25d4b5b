/*
 * Virtual local APIC: one per vCPU, a pure model (SDM Vol. 3A ch. 10,
 * "Advanced Programmable Interrupt Controller"). One register core sits
 * behind both guest views: the xAPIC MMIO page and the x2APIC MSRs.
 * The integration (exits, injection, host timers, IPI routing) lives
 * elsewhere and talks to the model through this header. docs/interrupts.md
 * describes what is modelled.
 */
#ifndef X86_VLAPIC_H
#define X86_VLAPIC_H

#include "hv/types.h"

#define VLAPIC_MSR_APIC_BASE    0x1b
#define VLAPIC_MSR_TSC_DEADLINE 0x6e0
#define VLAPIC_MSR_X2APIC_FIRST 0x800   /* MSR = 0x800 + xAPIC offset / 16 */
#define VLAPIC_MSR_X2APIC_LAST  0x8ff

/* IA32_APIC_BASE (SDM 10.4.4, 10.12.1). */
#define VLAPIC_BASE_BSP     (1ULL << 8)
#define VLAPIC_BASE_EXTD    (1ULL << 10)        /* x2APIC mode */
#define VLAPIC_BASE_EN      (1ULL << 11)        /* hardware enable */
#define VLAPIC_BASE_ADDR    0x000ffffffffff000ULL /* bits 51:12: MAXPHYADDR 52 */
#define VLAPIC_DEFAULT_BASE 0xfee00000ULL

/* Register offsets in the xAPIC page (SDM Table 10-1). */
#define VLAPIC_ID        0x020
#define VLAPIC_VERSION   0x030
#define VLAPIC_TPR       0x080
#define VLAPIC_APR       0x090
#define VLAPIC_PPR       0x0a0
#define VLAPIC_EOI       0x0b0
#define VLAPIC_LDR       0x0d0
#define VLAPIC_DFR       0x0e0
#define VLAPIC_SVR       0x0f0
#define VLAPIC_ISR       0x100  /* 8 registers, 16 bytes apart */
#define VLAPIC_TMR       0x180
#define VLAPIC_IRR       0x200
#define VLAPIC_ESR       0x280
#define VLAPIC_LVT_CMCI  0x2f0
#define VLAPIC_ICR_LO    0x300
#define VLAPIC_ICR_HI    0x310
#define VLAPIC_LVT_TIMER 0x320
#define VLAPIC_LVT_THERM 0x330
#define VLAPIC_LVT_PERF  0x340
#define VLAPIC_LVT_LINT0 0x350
#define VLAPIC_LVT_LINT1 0x360
#define VLAPIC_LVT_ERROR 0x370
#define VLAPIC_TMICT     0x380  /* timer initial count */
#define VLAPIC_TMCCT     0x390  /* timer current count */
#define VLAPIC_TDCR      0x3e0  /* timer divide configuration */
#define VLAPIC_SELF_IPI  0x3f0  /* x2APIC only */

#define VLAPIC_VERSION_VALUE 0x00050014u  /* integrated APIC 0x14, max LVT entry 5 */

/* Bits of the SVR, the LVT entries and the ICR. */
#define VLAPIC_SVR_ENABLE     (1u << 8)
#define VLAPIC_LVT_MASKED     (1u << 16)
#define VLAPIC_TIMER_ONESHOT  (0u << 17)
#define VLAPIC_TIMER_PERIODIC (1u << 17)
#define VLAPIC_TIMER_DEADLINE (2u << 17)
#define VLAPIC_TIMER_MODE     (3u << 17)
#define VLAPIC_ICR_DM_SHIFT   8         /* delivery mode, bits 10:8 */
#define VLAPIC_DM_FIXED       0
#define VLAPIC_DM_LOWPRI      1
#define VLAPIC_DM_SMI         2
#define VLAPIC_DM_NMI         4
#define VLAPIC_DM_INIT        5
#define VLAPIC_DM_SIPI        6
#define VLAPIC_ICR_LOGICAL    (1u << 11)
#define VLAPIC_ICR_ASSERT     (1u << 14)
#define VLAPIC_ICR_LEVEL      (1u << 15)
#define VLAPIC_ICR_SH_SHIFT   18        /* destination shorthand, bits 19:18 */
#define VLAPIC_SH_NONE        0
#define VLAPIC_SH_SELF        1
#define VLAPIC_SH_ALL         2
#define VLAPIC_SH_OTHERS      3

/* ESR bits the model raises (SDM 10.5.3). */
#define VLAPIC_ESR_SEND_ILLEGAL 0x20
#define VLAPIC_ESR_RECV_ILLEGAL 0x40

struct vlapic;

struct vlapic_ops {
	/*
	 * The guest wrote the ICR (xAPIC: ICR_LO write; x2APIC: MSR 0x830):
	 * deliver it. icr_lo: vector, delivery mode, destination mode, level,
	 * trigger mode, destination shorthand, as written; dest: x2APIC:
	 * ICR[63:32]; xAPIC: ICR_HI[31:24]. The router (not the model)
	 * resolves shorthands and destinations over all APICs of the VM, and
	 * handles NMI/INIT/SIPI. Called on the owner's CPU. Not called for
	 * vectors 0-15 in fixed/lowest-priority mode (the model sets ESR
	 * "send illegal vector" instead).
	 */
	void (*send_ipi)(struct vlapic *src, uint32_t icr_lo, uint32_t dest);
	/* EOI of a vector whose TMR bit was set: the IOAPIC must clear remote IRR. */
	void (*eoi_level)(struct vlapic *l, uint8_t vector);
	/* The guest's TSC now (the timer clock). */
	uint64_t (*now)(struct vlapic *l);
};

struct vlapic {
	/*
	 * A 4 KiB page: the registers at their xAPIC offsets (regs[off / 4]).
	 * It doubles as the VMX virtual-APIC page, so TPR lives at offset 0x80
	 * and the CPU may change it behind the model's back (CR8 writes with
	 * TPR shadow): PPR is never cached, it is computed from TPR and ISR.
	 * IRR and TMR words change from any CPU (atomic bit operations).
	 */
	uint32_t *regs;
	const struct vlapic_ops *ops;
	void *owner;            /* the vCPU */
	uint32_t id;            /* APIC ID (the vCPU index); the x2APIC ID */
	uint64_t apic_base;     /* IA32_APIC_BASE */
	uint64_t tsc_deadline;  /* IA32_TSC_DEADLINE (guest TSC), 0 disarmed */
	uint64_t count_expiry;  /* one-shot/periodic: guest TSC when the count hits 0, 0 stopped */
	uint32_t esr_pending;   /* errors since the last ESR write (atomic OR from any CPU) */
};

/* Power-on state: xAPIC mode, hardware-enabled, base 0xfee00000, BSP flag;
 * software-disabled (SVR 0xff) as after RESET. */
void vlapic_init(struct vlapic *l, uint32_t *regs_page, uint32_t apic_id, bool bsp,
		 const struct vlapic_ops *ops, void *owner);
/* RESET: the power-on state again. */
void vlapic_reset(struct vlapic *l, bool bsp);
/* INIT: registers to their reset values; the ID and IA32_APIC_BASE (mode,
 * base) are kept (SDM 10.4.7.3, 10.12.5.1). */
void vlapic_init_signal(struct vlapic *l);

/*
 * xAPIC MMIO at offset `off` (0-0xfff) in the page, `size` 1, 2, 4 or 8
 * bytes. Always 0: MMIO never faults. Reads return the bytes of the 32-bit
 * register at (off & ~0xf) that the access covers, 0 for bytes 4-15 of a
 * slot, and 0 for write-only and reserved registers. Writes other than an
 * aligned 32-bit store at a register offset are ignored, as are writes to
 * read-only and reserved registers. Only meaningful when
 * vlapic_mmio_enabled().
 */
int vlapic_mmio_read(struct vlapic *l, uint32_t off, unsigned int size, uint64_t *val);
int vlapic_mmio_write(struct vlapic *l, uint32_t off, unsigned int size, uint64_t val);
bool vlapic_mmio_enabled(const struct vlapic *l);       /* EN set, EXTD clear */
uint64_t vlapic_mmio_base(const struct vlapic *l);      /* page address from IA32_APIC_BASE */

/*
 * MSRs: IA32_APIC_BASE (0x1b), IA32_TSC_DEADLINE (0x6e0), x2APIC
 * 0x800-0x8ff. 0; -EINVAL: the guest gets #GP (an x2APIC MSR outside
 * x2APIC mode; reserved, write-only (read) or read-only (write) registers
 * per SDM Table 10-6; a non-zero EOI or ESR write; reserved bits (SDM
 * 10.12.1.3); invalid IA32_APIC_BASE values and transitions, SDM 10.12.5);
 * -ENOENT: not an APIC MSR.
 */
int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val);
int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val);

/*
 * From any CPU, lock-free: a fixed or lowest-priority interrupt for this
 * APIC. Sets IRR, and TMR when level (clears it when edge). false when
 * dropped: the APIC is hardware- or software-disabled, or the vector is
 * 0-15 (ESR "receive illegal vector"; that error may itself raise the LVT
 * error interrupt, so the caller kicks the owner whatever the result).
 */
bool vlapic_accept(struct vlapic *l, uint8_t vector, bool level);

/* The rest: the owner's CPU only. */

/* Highest IRR vector whose priority class (bits 7:4) is above PPR's: what
 * to inject now; -1 none. */
int vlapic_pending_vector(const struct vlapic *l);
/* Highest IRR vector, -1 none (for a VMX TPR threshold). */
int vlapic_highest_irr(const struct vlapic *l);
/* The CPU took the vector: IRR -> ISR. */
void vlapic_ack(struct vlapic *l, uint8_t vector);
/* Guest TSC of the next timer expiry in any mode (masked or not), 0 none. */
uint64_t vlapic_next_event(const struct vlapic *l);
/* Fire what expired by `now`: IRR gets the LVT timer vector unless masked;
 * periodic reloads (missed periods give one interrupt), one-shot and
 * TSC-deadline disarm (the deadline reads back 0 afterwards). */
void vlapic_timer_check(struct vlapic *l, uint64_t now);
/*
 * Does this APIC match destination `dest` (SDM 10.6.2)? Physical: ID match
 * or broadcast (0xff in xAPIC, 0xffffffff in x2APIC). Logical: xAPIC flat
 * (DFR model 0xf: MDA & LDR[31:24]), xAPIC cluster (DFR model 0: equal
 * high nibble, a common bit in the low nibble), x2APIC (dest[31:16] ==
 * LDR[31:16], dest[15:0] & LDR[15:0]); 0xff (xAPIC) or 0xffffffff (x2APIC)
 * is a broadcast. The router converts between xAPIC and x2APIC formats.
 */
bool vlapic_match_dest(const struct vlapic *l, uint32_t dest, bool logical);
uint8_t vlapic_get_tpr(const struct vlapic *l);         /* for SVM's V_TPR sync */
void vlapic_set_tpr(struct vlapic *l, uint8_t tpr);
bool vlapic_x2apic_mode(const struct vlapic *l);
bool vlapic_sw_enabled(const struct vlapic *l);         /* SVR bit 8 */

#endif
