/*
 * Per-CPU virtualization state. Whether a CPU's hardware should be on is
 * derived, never stored: on exactly when the init has enabled it (users >
 * 0), the machine is not suspended or rebooting, and the CPU is not
 * offline. Each path (init/exit, suspend/resume, reboot, offline/online)
 * changes only its own count or flag and then brings the hardware in line,
 * so they compose in any order: a CPU taken offline while suspended comes
 * back on at online time if (and only if) the rest says so.
 */
#ifndef HV_VIRT_CPU_H
#define HV_VIRT_CPU_H

#include "hv/virt.h"

enum virt_cpu_state { VIRT_CPU_OFF, VIRT_CPU_ON, VIRT_CPU_FAILED };

struct virt_cpu {
	enum virt_cpu_state state;      /* what was done to the hardware last */
	struct virt_check chk;          /* why it failed (state FAILED) */
	bool offline;                   /* set by the CPU hotplug notifier */
	uint64_t enables, disables;     /* statistics */
};

/* A CPU's state, in its per-CPU area: NULL for a CPU never prepared for
 * start-up (the host tests keep an array). */
struct virt_cpu *virt_cpu_of(unsigned int cpu);

struct virt_counts {
	unsigned int users;             /* virt_enable_all calls not undone */
	unsigned int suspends;          /* nested suspends */
	bool rebooting;
};
extern struct virt_counts virt_counts;

const char *virt_cpu_state_name(enum virt_cpu_state s);
/* Should a CPU's hardware be on now? (Inline: every guest entry asks.) */
static inline bool virt_cpu_wanted(const struct virt_cpu *vc)
{
	return virt_counts.users && !virt_counts.suspends && !virt_counts.rebooting &&
	       !vc->offline;
}

/* On the calling CPU: hotplug. Returns the enable error, if any. */
int virt_cpu_offline(void);
int virt_cpu_online(void);
/* Record a failure found outside enable (compatibility check, no answer). */
void virt_cpu_fail(unsigned int cpu, const struct virt_check *chk);
/* Before an init: forget failures, statistics and the counts; which CPUs
 * are offline is read from the online mask (the hotplug state). */
void virt_cpu_reset_all(void);

/* users++, then every online CPU on; all or nothing: if one fails, users--
 * and the others go back off; the first error is returned. */
int virt_enable_all(void);
/* users--, hardware off where that makes it unwanted. */
void virt_disable_all(void);
int virt_suspend_all(void);
/* Returns the first CPU's enable error (the others are still resumed). */
int virt_resume_all(void);
void virt_reboot_all(void);

/* Print the per-CPU table (state, reason, hardware read-back). */
void virt_status_print(void);

#endif
