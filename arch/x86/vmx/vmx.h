/* VMX backend internals. */
#ifndef X86_VMX_H
#define X86_VMX_H

#include "hv/types.h"
#include "hv/compiler.h"
#include "hv/gpt.h"

/* A vCPU's control block: its VMCS region first (page-aligned, SDM Vol. 3C
 * 25.2), then guest state VM exits do not save, XSAVE space 64-aligned. */
struct vmx_vcpu {
	uint8_t vmcs[4096];
	uint64_t gprs[16];
	uint8_t xsave[4096] __aligned(64);
} __aligned(4096);

extern const struct virt_ops vmx_ops;

struct vcpu;
struct vm_exit_info;
struct hv_regs;
struct hv_sregs;

/* vmx.c: the configuration's fixed bits and revision, for guests. */
uint64_t vmx_cr0_fixed0(void);          /* PE and PG left out: unrestricted guest */
uint64_t vmx_cr0_fixed1(void);
uint64_t vmx_cr4_fixed0(void);
uint64_t vmx_cr4_fixed1(void);
uint64_t vmx_revision(void);

/* vmx_vcpu.c: guests. */
extern struct gpt_format ept_format;
int vmx_guest_setup(const uint64_t *caps, bool true_ctls);
void vmx_guest_unsetup(void);
int vmx_vcpu_setup(struct vcpu *v);
void vmx_vcpu_teardown(struct vcpu *v);
void vmx_vcpu_enter(struct vcpu *v, struct vm_exit_info *exit);
void vmx_get_regs(struct vcpu *v, struct hv_regs *r);
void vmx_set_regs(struct vcpu *v, const struct hv_regs *r);
void vmx_get_sregs(struct vcpu *v, struct hv_sregs *s);
void vmx_set_sregs(struct vcpu *v, const struct hv_sregs *s);
void vmx_set_rip(struct vcpu *v, uint64_t rip);
void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
int vmx_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int vmx_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);

#endif
