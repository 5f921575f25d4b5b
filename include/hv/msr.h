/*
 * The MSR model guests see (docs/cpu-state.md): what a RDMSR/WRMSR exit
 * does, for both vendors. Values hardware would refuse raise #GP; MSRs
 * the control block holds go to the backend; a few are modelled here; the
 * local APIC's go to its model; everything else raises #GP and is logged
 * (counted, rate-limited).
 */
#ifndef HV_MSR_H
#define HV_MSR_H

#include "hv/types.h"

struct vcpu;

#define MSR_IA32_TSC            0x10
#define MSR_IA32_APIC_BASE      0x1b
#define MSR_IA32_UCODE_REV      0x8b
#define MSR_IA32_MTRRCAP        0xfe
#define MSR_IA32_SYSENTER_CS    0x174
#define MSR_IA32_SYSENTER_ESP   0x175
#define MSR_IA32_SYSENTER_EIP   0x176
#define MSR_IA32_MCG_CAP        0x179
#define MSR_IA32_MCG_STATUS     0x17a
#define MSR_IA32_MISC_ENABLE    0x1a0
#define MSR_IA32_PAT            0x277
#define MSR_IA32_MTRR_DEF_TYPE  0x2ff
#define MSR_IA32_TSC_DEADLINE   0x6e0
#define MSR_X2APIC_FIRST        0x800
#define MSR_X2APIC_LAST         0x8ff
#define MSR_EFER_NR             0xc0000080
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SFMASK              0xc0000084
#define MSR_FS_BASE_NR          0xc0000100
#define MSR_GS_BASE_NR          0xc0000101
#define MSR_KERNEL_GS_BASE      0xc0000102
#define MSR_TSC_AUX             0xc0000103
#define MSR_AMD_PERF_LEGACY     0xc0010000      /* PERF_CTL0-3, PERF_CTR0-3 */
#define MSR_AMD_INT_PENDING     0xc0010055      /* C1E control (family 0Fh/10h) */
#define MSR_AMD_PERF_CORE       0xc0010200      /* PERF_CTL0-5/CTR0-5 pairs */

#define MTRR_DEF_TYPE_RESET     0x806   /* enabled, write-back; no fixed ranges (FE clear) */

/* 0 with *val; -EINVAL: the guest gets #GP. */
int msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
/* Would WRMSR accept this value (canonical bases, PAT types, SFMASK)? */
bool msr_value_ok(uint32_t msr, uint64_t val);
/* MSRs a guest touched that are not modelled (all VMs). */
extern uint64_t msr_unknown_count;

#endif
