/* The SVM backend's part of each CPU's per-CPU area (x86/percpu.h). */
#ifndef X86_SVM_PERCPU_H
#define X86_SVM_PERCPU_H

#include "hv/vm.h"

struct svm_percpu {
	void *hsave;                    /* host save area (VM_HSAVE_PA, APM 15.30.4) */
	void *host_vmcb;                /* VMSAVE/VMLOAD keep the host's own state here */
	/* The vCPU that last entered with each ASID here (TLB policy). */
	struct vcpu *asid_owner[VM_MAX + 2];
};

#endif
