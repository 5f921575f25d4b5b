/*
 * Per-CPU virtualization state. Hardware is on for a CPU exactly when
 * someone wants it on (refs > 0) and nothing holds it off (blocks == 0:
 * the CPU is offline, the machine suspended or rebooting). Every path
 * changes one of the two counts, so they compose in any order.
 * All functions act on the calling CPU; use cross-CPU calls for others.
 */
#ifndef HV_VIRT_CPU_H
#define HV_VIRT_CPU_H

#include "hv/virt.h"

enum virt_cpu_state { VIRT_CPU_OFF, VIRT_CPU_ON, VIRT_CPU_FAILED };

struct virt_cpu {
	enum virt_cpu_state state;
	struct virt_check chk;          /* why it failed (state FAILED) */
	unsigned int refs;
	unsigned int blocks;
	uint64_t enables, disables;     /* statistics */
};

extern struct virt_cpu virt_cpu[NR_CPUS];

const char *virt_cpu_state_name(enum virt_cpu_state s);

int virt_cpu_get(void);
void virt_cpu_put(void);
int virt_cpu_block(void);
int virt_cpu_unblock(void);
/* Record a failure found outside enable (compatibility check, no answer). */
void virt_cpu_fail(unsigned int cpu, const struct virt_check *chk);
/* Forget failures and counts (before a retry of the whole init). */
void virt_cpu_reset_all(void);

/* refs++ on every online CPU; on any failure undo the others and return it. */
int virt_enable_all(void);
/* refs-- on every online CPU. */
void virt_disable_all(void);
/* block / unblock every online CPU (suspend/resume, reboot). */
int virt_block_all(void);
int virt_unblock_all(void);

/* Print the per-CPU table (state, reason, hardware read-back). */
void virt_status_print(void);

#endif
