/* The mailbox through which other CPUs call a CPU (arch/x86/smp_call.c):
 * one per CPU, in its per-CPU area. */
#ifndef X86_SMP_CALL_H
#define X86_SMP_CALL_H

#include "hv/smp.h"

struct call_mailbox {
	int state;                      /* enum mb_state, changed by CAS */
	bool nowait;                    /* nobody collects: the end frees it */
	smp_call_fn fn;
	void *arg;
	int result;
} __aligned(64);

#endif
