/* Time from the TSC, calibrated once at boot. */
#ifndef X86_TSC_H
#define X86_TSC_H

#include "hv/types.h"

/* Measure the TSC frequency: CPUID leaf 0x15/0x16 where they give it,
 * otherwise against PIT channel 2 over 10 ms. Returns kHz. */
uint64_t tsc_calibrate(void);
uint64_t tsc_khz(void);
void udelay(uint64_t us);
uint64_t tsc_to_us(uint64_t cycles);
/* TSC value read at the first instruction of the boot CPU. */
extern uint64_t boot_tsc;

#endif
