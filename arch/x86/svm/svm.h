/* SVM backend internals. */
#ifndef X86_SVM_H
#define X86_SVM_H

#include "hv/types.h"
#include "hv/compiler.h"
#include "hv/gpt.h"
#include <x86/fpu.h>

/* A vCPU's control block: the VMCB page first (page-aligned, APM 15.5.1),
 * then its x87/SSE/AVX state. */
struct svm_vcpu {
	uint8_t vmcb[4096];
	struct fpu fpu;
	uint32_t dr_intercept;          /* what the VMCB's DR intercept word holds */
} __aligned(4096);

extern const struct virt_ops svm_ops;

struct vcpu;
struct vm_exit_info;
struct hv_regs;
struct hv_sregs;
struct guest_mode;

/* CPUID 0x8000000A EDX bits used (APM 15.1). */
#define SVM_FEATURE_NPT         (1U << 0)
#define SVM_FEATURE_NRIP        (1U << 3)
#define SVM_FEATURE_FLUSH_ASID  (1U << 6)
#define SVM_FEATURE_PAUSE_FILTER (1U << 10)

/* svm_vcpu.c: guests. */
extern struct gpt_format npt_format;
int svm_guest_setup(uint32_t features);
void svm_guest_unsetup(void);
/* After EFER.SVME is set on this CPU (svm_enable has checked that it has a
 * host VMCB): the host's FS/GS/TR/LDTR and syscall MSRs into it, which
 * every exit VMLOADs (svm_entry.S). */
void svm_save_host_state(void);
int svm_vcpu_setup(struct vcpu *v);
void svm_vcpu_teardown(struct vcpu *v);
void svm_vcpu_load(struct vcpu *v);
void svm_vcpu_put(struct vcpu *v);
void svm_vcpu_enter(struct vcpu *v, struct vm_exit_info *exit, uint64_t deadline);
bool svm_run_child_fast(struct vcpu *root, struct vcpu *v, struct vm_exit_info *exit,
			uint64_t deadline);
void svm_get_regs(struct vcpu *v, struct hv_regs *r);
void svm_set_regs(struct vcpu *v, const struct hv_regs *r);
void svm_get_sregs(struct vcpu *v, struct hv_sregs *s);
void svm_set_sregs(struct vcpu *v, const struct hv_sregs *s);
uint64_t svm_get_rip(struct vcpu *v);
void svm_set_rip(struct vcpu *v, uint64_t rip);
void svm_get_mode(struct vcpu *v, struct guest_mode *m);
void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
int svm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int svm_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
bool svm_event_queued(struct vcpu *v);
bool svm_irq_window_open(struct vcpu *v);
bool svm_nmi_window_open(struct vcpu *v);
void svm_inject_irq(struct vcpu *v, uint8_t vector);
void svm_inject_nmi(struct vcpu *v);
void svm_request_window(struct vcpu *v, bool irq, bool nmi, int tpr_class);
void svm_get_dr67(struct vcpu *v, uint64_t *dr6, uint64_t *dr7);
void svm_set_dr67(struct vcpu *v, uint64_t dr6, uint64_t dr7);
uint64_t svm_get_tsc_offset(struct vcpu *v);
void svm_set_tsc_offset(struct vcpu *v, uint64_t offset);

#endif
