/*
 * The hypervisor's public ABI for guests (the root partition): hypercall
 * numbers, arguments and errors. Fixed-width types only, so guest code can
 * include this header unchanged.
 *
 * Convention (KVM's paravirtual one): VMCALL (Intel) or VMMCALL (AMD) with
 * the number in RAX and arguments in RBX, RCX, RDX, RSI; the result comes
 * back in RAX: >= 0 success, negative: -HV_E* below. See docs/hypercalls.md.
 */
#ifndef UAPI_HV_HYPERCALL_H
#define UAPI_HV_HYPERCALL_H

#include <stdint.h>

#define HV_API_VERSION          1

/* CPUID leaf 0x40000000: EAX = highest hypervisor leaf, EBX/ECX/EDX =
 * "HvMicroHvX86" as in KVM's "KVMKVMKVM". */
#define HV_CPUID_SIGNATURE      0x40000000u

enum hv_hypercall {
	HC_API_VERSION          = 0,    /* -> HV_API_VERSION */
	HC_VIRT_STATUS          = 1,    /* RBX = cpu -> state | reason << 8 */
	HC_COUNT,
};

/* Errors (negated in RAX); numbers match Linux errno. */
#define HV_EPERM        1       /* caller may not make this call */
#define HV_ENOENT       2       /* no such object (handle) */
#define HV_EAGAIN       11      /* not ready: the staged init has not completed */
#define HV_ENOMEM       12
#define HV_EFAULT       14      /* guest pointer outside the caller's memory */
#define HV_EBUSY        16
#define HV_EEXIST       17
#define HV_ENODEV       19
#define HV_EINVAL       22
#define HV_ENOSYS       38      /* unknown hypercall number */

/* HC_VIRT_STATUS states. */
#define HV_VIRT_OFF     0
#define HV_VIRT_ON      1
#define HV_VIRT_FAILED  2

#endif
