/*
 * Interrupts, the local APIC, the IOAPIC and application processors for
 * child payloads (crt/irq.c, crt/irq.S, crt/sipi.S), on top of child.h.
 * Only for VMs the root gave an interrupt controller (HC_CREATE_IRQCHIP).
 *
 * IDT: crt_start loads one with the exception vectors 0-31; irq_init()
 * loads, on the vCPU that calls it, one with all 256: 0-31 as before
 * (trap_set_handler, trap_expect), 32-255 go to irq_set_handler()'s
 * handler for the vector, or else are counted (irq_count) and EOIed.
 *
 * Memory: the local APIC's xAPIC page (0xfee00000) and the IOAPIC
 * (0xfec00000) are above the 1 GiB child.h maps; map_high() maps the
 * fourth GiB (uncached 2 MiB pages) into the shared page tables.
 *
 * Application processors: a vCPU the root put in wait-for-SIPI starts, at
 * an INIT-SIPI-SIPI with vector sipi_vector(), in real mode at
 * crt_sipi_start (4 KiB-aligned, below 1 MiB), goes to protected mode and
 * then to long mode on the child's page tables and GDT, takes the stack
 * child.h gives its index (CPUID 1 EBX[31:24], the initial APIC ID) and
 * enters main(index) through crt_start like every other vCPU.
 */
#ifndef CRT_APIC_H
#define CRT_APIC_H

#include "child.h"

#define MSR_APIC_BASE           0x1b
#define MSR_TSC_DEADLINE        0x6e0
#define MSR_X2APIC(off)         (0x800 + (off) / 16)
#define APIC_BASE_BSP           (1ULL << 8)
#define APIC_BASE_EXTD          (1ULL << 10)
#define APIC_BASE_EN            (1ULL << 11)
#define XAPIC_MMIO              0xfee00000ULL
#define IOAPIC_MMIO             0xfec00000ULL

/* Local APIC registers: xAPIC offsets (the x2APIC MSR is MSR_X2APIC). */
#define APIC_ID         0x020
#define APIC_VERSION    0x030
#define APIC_TPR        0x080
#define APIC_APR        0x090
#define APIC_PPR        0x0a0
#define APIC_EOI        0x0b0
#define APIC_LDR        0x0d0
#define APIC_DFR        0x0e0
#define APIC_SVR        0x0f0
#define APIC_ISR        0x100
#define APIC_TMR        0x180
#define APIC_IRR        0x200
#define APIC_ESR        0x280
#define APIC_ICR        0x300
#define APIC_ICR_HI     0x310
#define APIC_LVT_TIMER  0x320
#define APIC_LVT_LINT0  0x350
#define APIC_LVT_LINT1  0x360
#define APIC_LVT_ERROR  0x370
#define APIC_TMICT      0x380
#define APIC_TMCCT      0x390
#define APIC_TDCR       0x3e0
#define APIC_SELF_IPI   0x3f0

#define APIC_SVR_ENABLE         (1u << 8)
#define LVT_MASKED              (1u << 16)
#define LVT_ONESHOT             (0u << 17)
#define LVT_PERIODIC            (1u << 17)
#define LVT_DEADLINE            (2u << 17)

/* ICR, low half (SDM 10.6.1). */
#define ICR_FIXED               (0u << 8)
#define ICR_NMI                 (4u << 8)
#define ICR_INIT                (5u << 8)
#define ICR_SIPI                (6u << 8)
#define ICR_LOGICAL             (1u << 11)
#define ICR_ASSERT              (1u << 14)
#define ICR_LEVEL               (1u << 15)
#define ICR_SELF                (1u << 18)
#define ICR_ALL                 (2u << 18)
#define ICR_OTHERS              (3u << 18)

/* IOAPIC: IOREGSEL, IOWIN, EOI; entry n at 0x10 + 2n (low), 0x11 + 2n. */
#define IOAPIC_REGSEL           0x00
#define IOAPIC_WIN              0x10
#define IOAPIC_EOIR             0x40
#define IOAPIC_REG_VERSION      0x01
#define IOAPIC_REG_REDIR(n)     (0x10 + 2 * (n))
#define RTE_LOGICAL             (1u << 11)
#define RTE_REMOTE_IRR          (1u << 14)
#define RTE_LEVEL               (1u << 15)
#define RTE_MASKED              (1u << 16)

#ifndef __ASSEMBLY__

/* ---------------------------------------------------------- interrupts */

/* A handler gets the frame of child.h with the vector in f->vector; it
 * does its own EOI. */
typedef void (*irq_handler_t)(struct trap_frame *f);

void irq_init(void);
void irq_set_handler(unsigned int vector, irq_handler_t h);
/* Interrupts of `vector` taken by vCPU cpu without a handler. */
uint32_t irq_count(unsigned int cpu, unsigned int vector);
void irq_clear_counts(unsigned int cpu);
/* Interrupts that vCPU cpu took in cpu_halt(), whatever their vector. */
uint32_t irq_hlt_wakes(unsigned int cpu);

static inline void irq_enable(void)
{
	__asm__ __volatile__("sti" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ __volatile__("cli" ::: "memory");
}

/* STI; HLT; CLI: until an interrupt (STI's shadow makes it atomic). */
void cpu_halt(void);
extern const char crt_hlt_resume[];     /* the RIP an interrupt in it sees */

/* The TSC's rate the root passes on (0: 1 GHz assumed), for waits. */
void tsc_set_khz(uint64_t khz);
uint64_t ms_to_tsc(uint64_t ms);
uint64_t us_to_tsc(uint64_t us);
/* Interrupts on, spin until irq_count(this vCPU, vector) >= n or `ticks`
 * of TSC pass; interrupts off again. true when it got there. */
bool irq_wait(unsigned int vector, uint32_t n, uint64_t ticks);

/* ---------------------------------------------------------- memory */

void map_high(void);

static inline uint32_t mmio_read32(uint64_t a)
{
	return *(volatile uint32_t *)(uintptr_t)a;
}

static inline void mmio_write32(uint64_t a, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)a = v;
}

/* ---------------------------------------------------------- local APIC */

/* WRMSR IA32_APIC_BASE: the vector it raised (13: #GP) or -1; remembers
 * the mode this vCPU is in for apic_read/apic_write. */
int apic_set_base(uint64_t v);
bool apic_is_x2apic(void);
/* xAPIC to x2APIC, then software-enable (SVR 0x1ff). 0 or the vector. */
int apic_x2apic_on(void);
void apic_sw_enable(void);
/* The register at an xAPIC offset, through MMIO or the MSR as the mode is. */
uint32_t apic_read(uint32_t off);
void apic_write(uint32_t off, uint32_t v);
/* Send: x2APIC one 64-bit WRMSR, xAPIC ICR high (dest << 24) then low. */
void apic_icr(uint32_t lo, uint32_t dest);
void apic_eoi(void);

/* ---------------------------------------------------------- IOAPIC */

uint32_t ioapic_read(uint32_t reg);
void ioapic_write(uint32_t reg, uint32_t v);

/* ---------------------------------------------------------- SMP */

extern const char crt_sipi_start[];
static inline uint8_t sipi_vector(void)
{
	return (uint8_t)((uintptr_t)crt_sipi_start >> 12);
}

#endif /* !__ASSEMBLY__ */
#endif
