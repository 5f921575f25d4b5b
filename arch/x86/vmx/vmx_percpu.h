/* The VMX backend's part of each CPU's per-CPU area (x86/percpu.h). */
#ifndef X86_VMX_PERCPU_H
#define X86_VMX_PERCPU_H

#include "hv/vm.h"

struct vmx_percpu {
	void *vmxon_region;             /* VMXON's region (24.11.5) */
	void *test_vmcs;                /* for the hardware read-back (hw_state) */
	struct vcpu *current;           /* the VMCS current on this CPU */
	struct vcpu *root;              /* the root vCPU whose VMCS stays active here */
	/* This CPU's current VMX-on period, numbered across all CPUs: a VMCS
	 * whose host-state fields were written in it (vmx_vcpu.host_epoch)
	 * need not be written again when it is loaded here (vmx_vcpu_load). */
	uint64_t host_epoch;
	/* What this CPU's STAR, LSTAR, CSTAR, SFMASK and KERNEL_GS_BASE hold
	 * (read at VMXON, vmx_msrs_read). The hypervisor never uses them (no
	 * SYSCALL, no SWAPGS), so an entry writes only those that differ. */
	struct {
		uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
	} msrs;
	/* The vCPU that last entered with each VPID here (TLB policy). */
	struct vcpu *vpid_owner[VM_MAX + 2];
};

#endif
