/* Build-time limits. */
#ifndef HV_CONFIG_H
#define HV_CONFIG_H

/* Highest number of CPUs the hypervisor manages (cpumask width, per-CPU areas). */
#define NR_CPUS 256

#endif
