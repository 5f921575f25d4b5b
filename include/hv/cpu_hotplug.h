/*
 * Taking CPUs offline and back online. An offline CPU leaves the online
 * mask (no cross-CPU calls, no guests) and idles; the notifiers run on the
 * CPU itself, so per-CPU hardware state (virtualization) follows it.
 */
#ifndef HV_CPU_HOTPLUG_H
#define HV_CPU_HOTPLUG_H

#include "hv/notifier.h"

enum cpu_action { CPU_ONLINE = 1, CPU_OFFLINE = 2 };

extern struct notifier_chain cpu_notifiers;

/* -EINVAL for the boot CPU or an unknown CPU, -EALREADY if already in that
 * state; a notifier's error is returned and the CPU stays as it was. */
int cpu_offline(unsigned int cpu);
int cpu_online(unsigned int cpu);
bool cpu_is_parked(unsigned int cpu);

#endif
