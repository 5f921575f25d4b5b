/* Local APIC in xAPIC (MMIO) or x2APIC (MSR) mode (SDM Vol. 3A, ch. 10). */
#ifndef X86_APIC_H
#define X86_APIC_H

#include "hv/types.h"

#define VEC_TIMER         0xef  /* local APIC timer tick */
#define VEC_CALL_FUNCTION 0xf1  /* cross-CPU function call */
#define VEC_KICK          0xf2  /* a vCPU has something new: leave the guest */
#define VEC_APIC_ERROR    0xfe
#define VEC_SPURIOUS_APIC 0xff

/* Boot CPU: pick the mode (x2APIC when CPUID has it) and map the MMIO page.
 * lapic_base is the MADT's address, 0 to use IA32_APIC_BASE's. */
int apic_init_bsp(uint64_t lapic_base);
/* Every CPU: enable its local APIC in the chosen mode. */
void apic_init_cpu(void);
uint32_t apic_id(void);
bool apic_x2apic_mode(void);
void apic_eoi(void);

/* Delivery of an IPI; returns -ETIMEDOUT if the APIC never accepted it. */
int apic_send_init(uint32_t apic_id);
int apic_send_sipi(uint32_t apic_id, uint8_t page);
int apic_send_ipi(uint32_t apic_id, uint8_t vector);
/* NMI to every CPU but the caller (shorthand), for panic. */
void apic_send_nmi_all_but_self(void);

/* This CPU's timer fires `vector` once, tsc_delta TSC cycles from now. */
void apic_timer_oneshot(uint8_t vector, uint64_t tsc_delta);
void apic_timer_stop(void);

#endif
