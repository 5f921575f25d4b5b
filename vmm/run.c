/*
 * Running vCPUs (docs/vmm.md): each physical CPU's root vCPU runs the
 * child vCPUs whose home it is, one HC_RUN at a time. With one vCPU at
 * home a run blocks in the hypervisor while the guest halts (a halted VM
 * costs no CPU); with several they share the CPU in budget slices, and a
 * halted or spinning one (PAUSE: HV_EXIT_YIELD) gives its slice up at once
 * (HV_RUN_NO_BLOCK) unless all are halted. CPU 0 also serves the consoles and tears ended VMs down between
 * runs, so its runs have a short budget.
 */
#include "vmm.h"

unsigned int nr_cpus = 1;
uint64_t run_budget_us = 20000;

#define SLICE_US        10000           /* vCPUs sharing a CPU */
#define LONE_US         200000          /* a vCPU alone on a CPU other than 0 */

static void check_powered_off(struct vmm_vm *vm);

static void handle_exit(struct vmm_vcpu *vc)
{
	struct vmm_vm *vm = vc->vm;
	struct hv_exit *e = vc->exit;

	vc->halted = false;
	switch (e->reason) {
	case HV_EXIT_IO:
		pio_exit(vc);
		break;
	case HV_EXIT_MMIO:
		mmio_exit(vc);
		break;
	case HV_EXIT_HLT:
		vc->halted = true;
		if (!(e->flags & HV_EXIT_F_IF)) {
			vc->stopped = true;     /* halted with interrupts off */
			check_powered_off(vm);
		}
		break;
	case HV_EXIT_HYPERCALL:
		e->hypercall.ret = -HV_ENOSYS;
		break;
	case HV_EXIT_SHUTDOWN:
		vm_stop(vm, "triple fault", 0);
		break;
	case HV_EXIT_INTERNAL:
		vmm_printf("vm %u: vCPU %u: the hypervisor could not go on at RIP 0x%lx "
			   "(suberror %u, reason 0x%lx, info 0x%lx 0x%lx, %u instruction bytes: "
			   "%02x %02x %02x %02x)\n",
			   vm->id, vc->index, e->rip, e->internal.suberror, e->internal.hw_reason,
			   e->internal.info1, e->internal.info2, e->internal.insn_len, e->internal.insn[0],
			   e->internal.insn[1], e->internal.insn[2], e->internal.insn[3]);
		vm_stop(vm, "internal error", (int)e->internal.suberror);
		break;
	default:                                /* TIMEOUT, KICKED: look around */
		break;
	}
}

/* A guest whose vCPUs all halted with interrupts off, or never started
 * (Linux's poweroff without ACPI halts every CPU so), can never wake: it
 * has powered off. */
static void check_powered_off(struct vmm_vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_vcpus; i++) {
		struct vmm_vcpu *vc = &vm->vcpus[i];

		if (!vc->stopped &&
		    hcall(HC_GET_MP_STATE, (uint64_t)vc->handle, 0, 0, 0) != HV_MP_INIT_RECEIVED)
			return;
	}
	vm_stop(vm, "poweroff (every vCPU halted with interrupts off)", 0);
}

static void run_one(struct vmm_vcpu *vc, uint64_t budget, uint32_t flags)
{
	int64_t r;

	__atomic_store_n(&vc->in_run, 1, __ATOMIC_RELEASE);
	if (__atomic_load_n(&vc->vm->state, __ATOMIC_ACQUIRE) != VM_RUNNING) {
		__atomic_store_n(&vc->in_run, 0, __ATOMIC_RELEASE);
		return;
	}
	r = hcall(HC_RUN, (uint64_t)vc->handle, budget, flags, 0);
	if (r == 0)
		handle_exit(vc);
	else if (r == -HV_EINVAL) {           /* the VM died (triple fault) */
		vm_stop(vc->vm, "triple fault", 0);
	}
	__atomic_store_n(&vc->in_run, 0, __ATOMIC_RELEASE);
}

void run_loop(unsigned int cpu)
{
	bool all_halted = false;

	for (;;) {
		struct vmm_vcpu *mine[VMM_MAX_VMS * VMM_MAX_VCPUS];
		unsigned int n = 0, halted = 0;

		for (unsigned int i = 0; i < nr_vms; i++) {
			struct vmm_vm *vm = &vms[i];

			if (__atomic_load_n(&vm->state, __ATOMIC_ACQUIRE) != VM_RUNNING)
				continue;
			for (unsigned int c = 0; c < vm->nr_vcpus; c++)
				if (vm->vcpus[c].home == cpu)
					mine[n++] = &vm->vcpus[c];
		}
		for (unsigned int k = 0; k < n; k++) {
			uint64_t budget = cpu == 0 ? run_budget_us : n > 1 ? SLICE_US : LONE_US;
			uint32_t flags = n > 1 && !all_halted ? HV_RUN_NO_BLOCK : 0;

			run_one(mine[k], budget, flags);
			halted += mine[k]->halted;
			if (cpu == 0) {
				console_poll();
				vm_reap();
			}
		}
		all_halted = n && halted == n;
		if (!n) {
			if (cpu == 0) {
				console_poll();
				vm_reap();
			}
			__asm__ __volatile__("hlt");    /* until the hypervisor's tick */
		}
	}
}
