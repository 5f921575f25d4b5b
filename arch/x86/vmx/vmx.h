/* VMX backend internals. */
#ifndef X86_VMX_H
#define X86_VMX_H

#include "hv/types.h"
#include "hv/compiler.h"

/* A vCPU's control block: its VMCS region first (page-aligned, SDM Vol. 3C
 * 25.2), then guest state VM exits do not save, XSAVE space 64-aligned. */
struct vmx_vcpu {
	uint8_t vmcs[4096];
	uint64_t gprs[16];
	uint8_t xsave[4096] __aligned(64);
} __aligned(4096);

extern const struct virt_ops vmx_ops;

#endif
