/* VMX backend internals. */
#ifndef X86_VMX_H
#define X86_VMX_H

#include "hv/types.h"
#include "hv/compiler.h"
#include "hv/gpt.h"
#include <x86/fpu.h>

/* A vCPU's control block: its VMCS region first (page-aligned, SDM Vol. 3C
 * 24.2), its x87/SSE/AVX state, then the guest state the VMCS has no
 * field for (CR2, the SYSCALL and SWAPGS MSRs: an SVM VMCB holds them),
 * loaded around each entry, and what the backend remembers of the VMCS. */
struct vmx_vcpu {
	uint8_t vmcs[4096];
	struct fpu fpu;
	uint64_t cr2, star, lstar, cstar, sfmask, kernel_gs_base;
	uint32_t proc;                  /* the primary controls as last written */
	uint64_t host_epoch;            /* whose host state it holds (vmx_percpu), 0: none */
	bool launched;                  /* VMLAUNCH done since the last VMCLEAR */
} __aligned(4096);

/* Capability MSRs (SDM Vol. 3D, appendix A), in configuration order. */
enum vmx_cap {
	CAP_BASIC, CAP_PIN, CAP_PROC, CAP_EXIT, CAP_ENTRY, CAP_MISC,
	CAP_CR0_FIXED0, CAP_CR0_FIXED1, CAP_CR4_FIXED0, CAP_CR4_FIXED1,
	CAP_PROC2, CAP_EPT_VPID, CAP_TRUE_PIN, CAP_TRUE_PROC, CAP_TRUE_EXIT,
	CAP_TRUE_ENTRY, CAP_COUNT,
};

/* IA32_VMX_EPT_VPID_CAP bits (SDM Vol. 3D, A.10). */
#define EPT_CAP_WALK4           (1ULL << 6)
#define EPT_CAP_WB              (1ULL << 14)
#define EPT_CAP_2M              (1ULL << 16)
#define EPT_CAP_1G              (1ULL << 17)
#define EPT_CAP_INVEPT          (1ULL << 20)
#define EPT_CAP_INVEPT_SINGLE   (1ULL << 25)
#define EPT_CAP_INVEPT_ALL      (1ULL << 26)

extern const struct virt_ops vmx_ops;

struct vcpu;
struct vm_exit_info;
struct hv_regs;
struct hv_sregs;
struct guest_mode;

/* vmx.c: the configuration's fixed bits and revision, for guests. */
uint64_t vmx_cr0_fixed0(void);          /* PE and PG left out: unrestricted guest */
uint64_t vmx_cr0_fixed1(void);
uint64_t vmx_cr4_fixed0(void);
uint64_t vmx_cr4_fixed1(void);
uint64_t vmx_revision(void);

/* vmx_vcpu.c: guests. */
extern struct gpt_format ept_format;
/* From hardware setup: the controls within the capabilities (caps indexed
 * by enum vmx_cap), and the pages every guest shares. */
int vmx_guest_setup(const uint64_t caps[CAP_COUNT]);
void vmx_guest_unsetup(void);
int vmx_vcpu_setup(struct vcpu *v);
void vmx_vcpu_teardown(struct vcpu *v);
void vmx_vcpu_load(struct vcpu *v);
void vmx_vcpu_put(struct vcpu *v);
/* After VMXON on this CPU (vmx_enable): its syscall MSRs and KERNEL_GS_BASE
 * read anew (load_guest_extra writes only those a vCPU has otherwise) and
 * a new host-state epoch (every VMCS writes this CPU's host state at its
 * next load here, vmx_vcpu_load). */
void vmx_cpu_state_reset(void);
void vmx_vcpu_enter(struct vcpu *v, struct vm_exit_info *exit, uint64_t deadline);
bool vmx_run_child_fast(struct vcpu *root, struct vcpu *v, struct vm_exit_info *exit,
			uint64_t deadline);
void vmx_get_regs(struct vcpu *v, struct hv_regs *r);
void vmx_set_regs(struct vcpu *v, const struct hv_regs *r);
void vmx_get_sregs(struct vcpu *v, struct hv_sregs *s);
void vmx_set_sregs(struct vcpu *v, const struct hv_sregs *s);
uint64_t vmx_get_rip(struct vcpu *v);
void vmx_set_rip(struct vcpu *v, uint64_t rip);
void vmx_get_mode(struct vcpu *v, struct guest_mode *m);
void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
int vmx_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int vmx_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
bool vmx_event_queued(struct vcpu *v);
bool vmx_irq_window_open(struct vcpu *v);
bool vmx_nmi_window_open(struct vcpu *v);
void vmx_inject_irq(struct vcpu *v, uint8_t vector);
void vmx_inject_nmi(struct vcpu *v);
void vmx_request_window(struct vcpu *v, bool irq, bool nmi, int tpr_class);
void vmx_get_dr67(struct vcpu *v, uint64_t *dr6, uint64_t *dr7);
void vmx_set_dr67(struct vcpu *v, uint64_t dr6, uint64_t dr7);
uint64_t vmx_get_tsc_offset(struct vcpu *v);
void vmx_set_tsc_offset(struct vcpu *v, uint64_t offset);
/* panic/NMI context: the VMCS current on this CPU, for VMCLEAR. */
void vmx_emergency_clear(void);

#endif
