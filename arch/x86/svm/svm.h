/* SVM backend internals. */
#ifndef X86_SVM_H
#define X86_SVM_H

#include "hv/types.h"
#include "hv/compiler.h"

/* A vCPU's control block: the VMCB page first (page-aligned, APM 15.5.1),
 * then the guest state VMRUN does not save, with XSAVE space 64-aligned. */
struct svm_vcpu {
	uint8_t vmcb[4096];
	uint64_t gprs[16];
	uint8_t xsave[4096] __aligned(64);
} __aligned(4096);

extern const struct virt_ops svm_ops;

#endif
