/*
 * The root partition: the privileged guest that drives the hypercall
 * interface, loaded from the first multiboot2 module (an ELF64 executable)
 * or, without one, the demo root built into the image. See docs/root.md.
 */
#ifndef HV_ROOT_H
#define HV_ROOT_H

#include "hv/types.h"

struct vcpu;

/* Split memory at boot: the hypervisor keeps `hv_mem` bytes for itself
 * (its page allocator), everything else usable is root memory. */
uint64_t root_hv_pool_size(uint64_t usable_total);

/* Load the root and run it on this (the boot) CPU; returns only when there
 * is no root to run (root=none) or it could not be started. */
void root_run(void);
/* Start a root vCPU on another CPU, with the caller's segment and control
 * registers and the given entry point, stack and RDI. */
int64_t root_start_vcpu(unsigned int cpu, struct vcpu *caller, uint64_t rip,
			uint64_t rsp, uint64_t rdi);
/* Is a root vCPU running on that CPU? */
bool root_cpu_busy(unsigned int cpu);
/* An AP's idle loop calls this after each wake-up: runs a root vCPU handed
 * to this CPU (and then never returns). */
void root_ap_poll(void);

#endif
