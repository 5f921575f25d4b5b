/*
 * Each CPU's local APIC timer, shared by what needs a wake-up: the idle
 * tick that polls the serial console and the deadline of the vCPU running
 * or halted here (its local APIC timer, the run budget). One-shot, always
 * armed for the earliest of them.
 */
#ifndef X86_HOSTTIMER_H
#define X86_HOSTTIMER_H

#include "hv/types.h"

/* Each CPU's timer state, in its per-CPU area. */
struct hosttimer_cpu {
	uint64_t period;                /* TSC cycles, 0: no tick */
	uint64_t next_tick;
	uint64_t deadline;              /* 0: none */
	uint64_t armed;                 /* what the timer is set for, 0: stopped */
};

/* A periodic tick on the calling CPU (0: stop it). */
void hosttimer_tick(uint64_t period_us);
/* Wake this CPU by host TSC `deadline` (0: no deadline). */
void hosttimer_set_deadline(uint64_t deadline);

#endif
