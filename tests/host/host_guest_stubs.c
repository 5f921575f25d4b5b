/*
 * Host stand-ins for the kernel-only pieces the hypercall layer calls: the
 * root partition's CPU bookkeeping, the run loop that enters a guest, and
 * the machine reset. Tests that need them to do something set the hooks.
 */
#include "hv/reboot.h"
#include "hv/root.h"
#include "hv/vm.h"
#include <stdlib.h>
#include "host_guest_stubs.h"

int (*host_run_child_hook)(struct vcpu *v);
bool host_root_busy[NR_CPUS];
int host_resets;

bool root_cpu_busy(unsigned int cpu)
{
	return cpu < NR_CPUS && host_root_busy[cpu];
}

int64_t root_start_vcpu(unsigned int cpu, struct vcpu *caller, uint64_t rip,
			uint64_t rsp, uint64_t rdi)
{
	host_root_busy[cpu] = true;
	return 0;
}

int vcpu_run_child(struct vcpu *v)
{
	return host_run_child_hook ? host_run_child_hook(v) : 0;
}

void arch_reset(enum reboot_action action)
{
	host_resets++;
	abort();
}
