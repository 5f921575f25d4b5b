/* SVM backend internals. */
#ifndef X86_SVM_H
#define X86_SVM_H

#include "hv/types.h"
#include "hv/compiler.h"
#include "hv/gpt.h"

/* A vCPU's control block: the VMCB page first (page-aligned, APM 15.5.1),
 * then the guest state VMRUN does not save, with XSAVE space 64-aligned. */
struct svm_vcpu {
	uint8_t vmcb[4096];
	uint64_t gprs[16];
	uint8_t xsave[4096] __aligned(64);
} __aligned(4096);

extern const struct virt_ops svm_ops;

struct vcpu;
struct vm_exit_info;
struct hv_regs;
struct hv_sregs;

/* svm_vcpu.c: guests. */
extern struct gpt_format npt_format;
int svm_guest_setup(void);
void svm_guest_unsetup(void);
int svm_vcpu_setup(struct vcpu *v);
void svm_vcpu_teardown(struct vcpu *v);
void svm_vcpu_enter(struct vcpu *v, struct vm_exit_info *exit);
void svm_get_regs(struct vcpu *v, struct hv_regs *r);
void svm_set_regs(struct vcpu *v, const struct hv_regs *r);
void svm_get_sregs(struct vcpu *v, struct hv_sregs *s);
void svm_set_sregs(struct vcpu *v, const struct hv_sregs *s);
void svm_set_rip(struct vcpu *v, uint64_t rip);
void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
int svm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int svm_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);

#endif
