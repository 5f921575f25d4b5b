/*
 * SVM guests: the VMCB of each vCPU, nested page tables, VMRUN and the
 * translation of #VMEXIT codes into generic exits (AMD64 APM Vol. 2, 15).
 */
#include <x86/cpu.h>
#include <x86/debugreg.h>
#include <x86/fpu.h>
#include <x86/guest.h>
#include <x86/hosttimer.h>
#include <x86/percpu.h>
#include "hv/errno.h"
#include "hv/exits.h"
#include "hv/gpt.h"
#include "hv/hypercall.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/virt.h"
#include "hv/vm.h"
#include "svm.h"
#include "vmcb.h"
#include <x86/regs_offsets.h>

/* The entry/exit assembly of both backends addresses struct hv_regs by these. */
BUILD_BUG_ON(__builtin_offsetof(struct hv_regs, rax) != R_RAX);
BUILD_BUG_ON(__builtin_offsetof(struct hv_regs, rbx) != R_RBX);
BUILD_BUG_ON(__builtin_offsetof(struct hv_regs, rcx) != R_RCX);
BUILD_BUG_ON(__builtin_offsetof(struct hv_regs, rdx) != R_RDX);
BUILD_BUG_ON(__builtin_offsetof(struct hv_regs, rsi) != R_RSI);
BUILD_BUG_ON(__builtin_offsetof(struct hv_regs, rdi) != R_RDI);
BUILD_BUG_ON(__builtin_offsetof(struct hv_regs, rsp) != R_RSP);
BUILD_BUG_ON(__builtin_offsetof(struct hv_regs, rbp) != R_RBP);
BUILD_BUG_ON(__builtin_offsetof(struct hv_regs, r8) != R_R8);
BUILD_BUG_ON(__builtin_offsetof(struct hv_regs, r15) != R_R15);

void svm_vmrun(uint64_t guest_vmcb, struct hv_regs *regs, uint64_t host_vmcb);
extern const char svm_vmrun_resume[];

/* I/O permission maps (12 KiB): the root owns every port, a child none. */
static uint8_t *iopm_open, *iopm_closed;
/* MSR permission map (8 KiB): every MSR access exits (allow-list). */
static uint8_t *msrpm;
static uint32_t features;               /* CPUID 0x8000000A EDX */

#define VMCB(v) ((uint8_t *)(v)->block)
#define F64(v, off) (*(uint64_t *)(VMCB(v) + (off)))
#define F32(v, off) (*(uint32_t *)(VMCB(v) + (off)))
#define F16(v, off) (*(uint16_t *)(VMCB(v) + (off)))

/* PAUSEs in a row before one exits, where the CPU counts (KVM's default). */
#define PAUSE_FILTER_COUNT      3000
#define SVM(v) ((struct svm_vcpu *)(v)->block)

/* ---------------------------------------------------------- nested paging */

#define NPT_P   (1ULL << 0)
#define NPT_W   (1ULL << 1)
#define NPT_U   (1ULL << 2)
#define NPT_PS  (1ULL << 7)
#define NPT_NX  (1ULL << 63)

/* Nested page tables use the ordinary long-mode format; guest accesses
 * count as user accesses (APM 15.25.5), so U is always set. */
static uint64_t npt_leaf(uint64_t hpa, unsigned int level, unsigned int flags)
{
	return hpa | NPT_P | NPT_U | (flags & GPT_WRITE ? NPT_W : 0) |
	       (flags & GPT_EXEC ? 0 : NPT_NX) | (level ? NPT_PS : 0);
}

static uint64_t npt_table(uint64_t hpa)
{
	return hpa | NPT_P | NPT_W | NPT_U;
}

static bool npt_present(uint64_t e) { return e & NPT_P; }
static bool npt_large(uint64_t e) { return e & NPT_PS; }

struct gpt_format npt_format = {
	.leaf = npt_leaf, .table = npt_table, .present = npt_present, .large = npt_large,
	.max_leaf_level = 1,
};

/* ---------------------------------------------------------- setup */

/* Called from hardware setup: the pages every guest shares. */
int svm_guest_setup(uint32_t feat)
{
	unsigned int cpu;

	features = feat;
	iopm_open = page_zalloc(2);
	iopm_closed = page_alloc(2);
	msrpm = page_alloc(1);
	if (!iopm_open || !iopm_closed || !msrpm)
		goto fail;
	memset(iopm_closed, 0xff, PAGE_SIZE << 2);
	memset(msrpm, 0xff, PAGE_SIZE << 1);
	for_each_cpu(cpu, &cpu_online_mask)
		if (!(per_cpu(cpu)->vendor.svm.host_vmcb = page_zalloc(0)))
			goto fail;
	if (cpuid(0x80000001).edx & (1U << 26))
		npt_format.max_leaf_level = 2;          /* 1 GiB pages */
	return 0;
fail:
	svm_guest_unsetup();
	return ERR(-ENOMEM);
}

/* Nothing of what VMSAVE keeps changes while SVM is on: the per-CPU GS
 * base, TR and LDTR are set at bring-up, and the hypervisor uses neither
 * SYSCALL/SYSENTER nor SWAPGS (KVM saves them once per vCPU load too). */
void svm_save_host_state(void)
{
	uint64_t host = (uint64_t)this_cpu()->vendor.svm.host_vmcb;

	__asm__ __volatile__("vmsave %%rax" :: "a"(host) : "memory");
}

void svm_guest_unsetup(void)
{
	page_free(iopm_open, 2);
	page_free(iopm_closed, 2);
	page_free(msrpm, 1);
	iopm_open = iopm_closed = msrpm = NULL;
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct percpu *pc = per_cpu(cpu);

		if (pc) {
			page_free(pc->vendor.svm.host_vmcb, 0);
			pc->vendor.svm.host_vmcb = NULL;
			memset(pc->vendor.svm.asid_owner, 0, sizeof(pc->vendor.svm.asid_owner));
		}
	}
}

static void seg_set(struct vcpu *v, unsigned int off, const struct hv_segment *s)
{
	*(uint16_t *)(VMCB(v) + off) = s->selector;
	*(uint16_t *)(VMCB(v) + off + 2) = s->attrib;
	*(uint32_t *)(VMCB(v) + off + 4) = s->limit;
	*(uint64_t *)(VMCB(v) + off + 8) = s->base;
}

static void seg_get(struct vcpu *v, unsigned int off, struct hv_segment *s)
{
	s->selector = *(uint16_t *)(VMCB(v) + off);
	s->attrib = *(uint16_t *)(VMCB(v) + off + 2);
	s->limit = *(uint32_t *)(VMCB(v) + off + 4);
	s->base = *(uint64_t *)(VMCB(v) + off + 8);
}

/*
 * Intercepts: interrupts, NMI, SMI, INIT (the host serves them); CPUID,
 * MSRs, HLT, I/O, XSETBV (XCR0 is per vCPU), INVD and WBINVD (never let a
 * guest drop or flush the host's caches: emulated as done), MONITOR/MWAIT
 * (not offered: #UD), RDPMC (no PMU offered: #GP), every SVM instruction
 * and INVLPGA (#UD), shutdown (triple fault), and MOV DR until the debug
 * registers are live (x86/debugreg.h). CR accesses are not intercepted:
 * VMRUN loads the guest's CR0/CR4 whole and the hypervisor owns no bit of
 * them; CR8 is virtual (V_TPR) with V_INTR_MASKING (APM 15.21.1).
 */
int svm_vcpu_setup(struct vcpu *v)
{
	struct svm_vcpu *sv = SVM(v);

	memset(sv->vmcb, 0, sizeof(sv->vmcb));
	F32(v, VMCB_INTERCEPT_MISC1) = ICPT_INTR | ICPT_NMI | ICPT_SMI | ICPT_INIT |
				       ICPT_CPUID | ICPT_INVD | ICPT_HLT | ICPT_IOIO |
				       ICPT_MSR | ICPT_SHUTDOWN | ICPT_RDPMC | ICPT_INVLPGA;
	F32(v, VMCB_INTERCEPT_MISC2) = ICPT_VMRUN | ICPT_VMMCALL | ICPT_VMLOAD |
				       ICPT_VMSAVE | ICPT_STGI | ICPT_CLGI | ICPT_SKINIT |
				       ICPT_WBINVD | ICPT_MONITOR | ICPT_MWAIT |
				       ICPT_MWAIT_COND | ICPT_XSETBV;
	F32(v, VMCB_INTERCEPT_DR) = sv->dr_intercept = 0xffffffff;
	/* The root keeps its I/O ports (its serial console); a child's I/O
	 * goes to the root as exit records. */
	F64(v, VMCB_IOPM_BASE) = (uint64_t)(v->vm->is_root ? iopm_open : iopm_closed);
	F64(v, VMCB_MSRPM_BASE) = (uint64_t)msrpm;
	F32(v, VMCB_ASID) = v->vm->asid;
	F64(v, VMCB_VINTR) = VINTR_MASKING;     /* host IF rules, guest CR8 is V_TPR */
	F64(v, VMCB_NP_ENABLE) = 1;
	F64(v, VMCB_N_CR3) = (uint64_t)v->vm->gpt.root;
	F64(v, VMCB_G_PAT) = 0x0007040600070406ULL;
	F64(v, VMCB_DR7) = DR7_RESET;
	F64(v, VMCB_DR6) = DR6_RESET;
	F64(v, VMCB_RFLAGS) = 0x2;
	/* Reset state (real mode at 0, like a CPU after INIT) until set_sregs. */
	struct hv_segment code = { .base = 0, .limit = 0xffff, .selector = 0, .attrib = 0x9b };
	struct hv_segment data = { .base = 0, .limit = 0xffff, .selector = 0, .attrib = 0x93 };
	struct hv_segment tr = { .limit = 0xffff, .attrib = 0x8b };
	struct hv_segment ldtr = { .limit = 0xffff, .attrib = 0x82 };

	seg_set(v, VMCB_CS, &code);
	seg_set(v, VMCB_DS, &data);
	seg_set(v, VMCB_ES, &data);
	seg_set(v, VMCB_FS, &data);
	seg_set(v, VMCB_GS, &data);
	seg_set(v, VMCB_SS, &data);
	seg_set(v, VMCB_TR, &tr);
	seg_set(v, VMCB_LDTR, &ldtr);
	F32(v, VMCB_GDTR + 4) = 0xffff;
	F32(v, VMCB_IDTR + 4) = 0xffff;
	F64(v, VMCB_CR0) = 0x10;                /* ET; caches on (CD/NW clear) */
	F64(v, VMCB_EFER) = EFER_SVME;          /* VMRUN requires it (15.5.1) */
	v->fpu = &sv->fpu;
	return 0;
}

void svm_vcpu_teardown(struct vcpu *v)
{
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct percpu *pc = per_cpu(cpu);

		if (pc && pc->vendor.svm.asid_owner[v->vm->asid] == v)
			__atomic_store_n(&pc->vendor.svm.asid_owner[v->vm->asid], NULL,
					 __ATOMIC_RELAXED);
	}
}

/* A VMCB is usable on any CPU: nothing to load or put. */
void svm_vcpu_load(struct vcpu *v)
{
}

void svm_vcpu_put(struct vcpu *v)
{
}

/* ---------------------------------------------------------- registers */

/* GPRs (RAX included) live in v->regs; RSP, RIP, RFLAGS in the VMCB. */
void svm_get_regs(struct vcpu *v, struct hv_regs *r)
{
	*r = v->regs;
	r->rsp = F64(v, VMCB_RSP);
	r->rip = F64(v, VMCB_RIP);
	r->rflags = F64(v, VMCB_RFLAGS);
}

void svm_set_regs(struct vcpu *v, const struct hv_regs *r)
{
	if (F64(v, VMCB_RIP) != r->rip || !(r->rflags & (1 << 9)))
		F64(v, VMCB_INT_SHADOW) = 0;    /* the shadow covers one instruction */
	v->regs = *r;
	F64(v, VMCB_RSP) = r->rsp;
	F64(v, VMCB_RIP) = r->rip;
	F64(v, VMCB_RFLAGS) = (r->rflags & ~0xffffffffffc08028ULL) | 0x2;
}

void svm_get_sregs(struct vcpu *v, struct hv_sregs *s)
{
	seg_get(v, VMCB_CS, &s->cs);
	seg_get(v, VMCB_DS, &s->ds);
	seg_get(v, VMCB_ES, &s->es);
	seg_get(v, VMCB_FS, &s->fs);
	seg_get(v, VMCB_GS, &s->gs);
	seg_get(v, VMCB_SS, &s->ss);
	seg_get(v, VMCB_TR, &s->tr);
	seg_get(v, VMCB_LDTR, &s->ldtr);
	s->gdt = (struct hv_dtable){ F64(v, VMCB_GDTR + 8), F32(v, VMCB_GDTR + 4), 0 };
	s->idt = (struct hv_dtable){ F64(v, VMCB_IDTR + 8), F32(v, VMCB_IDTR + 4), 0 };
	s->cr0 = F64(v, VMCB_CR0);
	s->cr2 = F64(v, VMCB_CR2);
	s->cr3 = F64(v, VMCB_CR3);
	s->cr4 = F64(v, VMCB_CR4);
	s->efer = F64(v, VMCB_EFER) & ~EFER_SVME;       /* the guest never sees SVME */
}

void svm_set_sregs(struct vcpu *v, const struct hv_sregs *s)
{
	seg_set(v, VMCB_CS, &s->cs);
	seg_set(v, VMCB_DS, &s->ds);
	seg_set(v, VMCB_ES, &s->es);
	seg_set(v, VMCB_FS, &s->fs);
	seg_set(v, VMCB_GS, &s->gs);
	seg_set(v, VMCB_SS, &s->ss);
	seg_set(v, VMCB_TR, &s->tr);
	seg_set(v, VMCB_LDTR, &s->ldtr);
	F64(v, VMCB_GDTR + 8) = s->gdt.base;
	F32(v, VMCB_GDTR + 4) = s->gdt.limit;
	F64(v, VMCB_IDTR + 8) = s->idt.base;
	F32(v, VMCB_IDTR + 4) = s->idt.limit;
	F64(v, VMCB_CR0) = s->cr0;
	F64(v, VMCB_CR2) = s->cr2;
	F64(v, VMCB_CR3) = s->cr3;
	F64(v, VMCB_CR4) = s->cr4;
	F64(v, VMCB_EFER) = s->efer | EFER_SVME;
	*(uint8_t *)(VMCB(v) + VMCB_CPL) = (s->ss.attrib >> 5) & 3;
}

uint64_t svm_get_rip(struct vcpu *v)
{
	return F64(v, VMCB_RIP);
}

void svm_set_rip(struct vcpu *v, uint64_t rip)
{
	F64(v, VMCB_RIP) = rip;
	F64(v, VMCB_INT_SHADOW) = 0;
}

void svm_get_mode(struct vcpu *v, struct guest_mode *m)
{
	m->cr0 = F64(v, VMCB_CR0);
	m->cr3 = F64(v, VMCB_CR3);
	m->cr4 = F64(v, VMCB_CR4);
	m->efer = F64(v, VMCB_EFER) & ~EFER_SVME;
	m->rflags = F64(v, VMCB_RFLAGS);
	m->cs_base = F64(v, VMCB_CS + 8);
	m->cs_attrib = *(uint16_t *)(VMCB(v) + VMCB_CS + 2);
	m->cpl = *(uint8_t *)(VMCB(v) + VMCB_CPL);
}

void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	F64(v, VMCB_EVENTINJ) = vector | EVENT_TYPE_EXCEPTION |
				(has_error ? EVENT_ERROR_VALID : 0) | EVENT_VALID |
				((uint64_t)error << 32);
}

/* ---------------------------------------------------------- injection */

bool svm_event_queued(struct vcpu *v)
{
	return F64(v, VMCB_EVENTINJ) & EVENT_VALID;
}

bool svm_irq_window_open(struct vcpu *v)
{
	return (F64(v, VMCB_RFLAGS) & (1 << 9)) && !(F64(v, VMCB_INT_SHADOW) & 1);
}

bool svm_nmi_window_open(struct vcpu *v)
{
	return !v->nmi_blocked && !(F64(v, VMCB_INT_SHADOW) & 1);
}

void svm_inject_irq(struct vcpu *v, uint8_t vector)
{
	F64(v, VMCB_EVENTINJ) = vector | EVENT_TYPE_INTR | EVENT_VALID;
}

/* NMIs stay blocked until the handler's IRET (APM 15.21.4): intercept it. */
void svm_inject_nmi(struct vcpu *v)
{
	F64(v, VMCB_EVENTINJ) = 2 | EVENT_TYPE_NMI | EVENT_VALID;
	v->nmi_blocked = true;
	F32(v, VMCB_INTERCEPT_MISC1) |= ICPT_IRET;
}

/*
 * An interrupt window is a virtual interrupt (V_IRQ) the guest would take:
 * with V_INTR_MASKING its own IF, interrupt shadow and V_TPR decide, and
 * the VINTR intercept exits instead of delivering it (APM 15.21.4). With
 * V_IGN_TPR clear and the held-back class as priority, it also exits once
 * the guest lowers CR8 (V_TPR) below that class.
 */
void svm_request_window(struct vcpu *v, bool irq, bool nmi, int tpr_class)
{
	uint64_t vintr = F64(v, VMCB_VINTR) & ~(VINTR_IRQ | VINTR_IGN_TPR |
						(0xfULL << VINTR_PRIO_SHIFT));

	if (irq)
		vintr |= VINTR_IRQ | VINTR_IGN_TPR | (0xfULL << VINTR_PRIO_SHIFT);
	else if (tpr_class > 0)
		vintr |= VINTR_IRQ | ((uint64_t)tpr_class << VINTR_PRIO_SHIFT);
	F64(v, VMCB_VINTR) = vintr;
	if (vintr & VINTR_IRQ)
		F32(v, VMCB_INTERCEPT_MISC1) |= ICPT_VINTR;
	else
		F32(v, VMCB_INTERCEPT_MISC1) &= ~ICPT_VINTR;
	(void)nmi;                      /* the IRET intercept is on while one is blocked */
}

void svm_get_dr67(struct vcpu *v, uint64_t *dr6, uint64_t *dr7)
{
	*dr6 = F64(v, VMCB_DR6);
	*dr7 = F64(v, VMCB_DR7);
}

void svm_set_dr67(struct vcpu *v, uint64_t dr6, uint64_t dr7)
{
	F64(v, VMCB_DR6) = dr6;
	F64(v, VMCB_DR7) = dr7;
}

uint64_t svm_get_tsc_offset(struct vcpu *v)
{
	return F64(v, VMCB_TSC_OFFSET);
}

void svm_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
	F64(v, VMCB_TSC_OFFSET) = offset;
}

static const struct { uint32_t msr; unsigned int off; } vmcb_msrs[] = {
	{ 0xc0000081, VMCB_STAR }, { 0xc0000082, VMCB_LSTAR }, { 0xc0000083, VMCB_CSTAR },
	{ 0xc0000084, VMCB_SFMASK }, { 0xc0000102, VMCB_KERNEL_GS_BASE },
	{ 0x174, VMCB_SYSENTER_CS }, { 0x175, VMCB_SYSENTER_ESP },
	{ 0x176, VMCB_SYSENTER_EIP }, { 0x277, VMCB_G_PAT },
	{ MSR_FS_BASE, VMCB_FS + 8 }, { MSR_GS_BASE, VMCB_GS + 8 },
};

int svm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	if (msr == MSR_EFER) {
		*val = F64(v, VMCB_EFER) & ~EFER_SVME;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(vmcb_msrs); i++)
		if (vmcb_msrs[i].msr == msr) {
			*val = F64(v, vmcb_msrs[i].off);
			return 0;
		}
	return -ENOENT;
}

/* EFER: SCE, LME, NXE are the guest's; LMA follows CR0.PG (read-only to
 * WRMSR); LME cannot change while paging is on (APM 3.1.7); SVME stays
 * set underneath and is never seen. */
static int write_efer(struct vcpu *v, uint64_t val)
{
	const uint64_t settable = EFER_SCE | EFER_LME | EFER_NXE;
	uint64_t old = F64(v, VMCB_EFER);

	if (val & ~(settable | EFER_LMA))
		return -EINVAL;
	if ((F64(v, VMCB_CR0) & CR0_PG) && ((val ^ old) & EFER_LME))
		return -EINVAL;
	F64(v, VMCB_EFER) = (old & EFER_LMA) | (val & settable) | EFER_SVME;
	return 0;
}

int svm_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	if (msr == MSR_EFER)
		return write_efer(v, val);
	for (size_t i = 0; i < ARRAY_SIZE(vmcb_msrs); i++)
		if (vmcb_msrs[i].msr == msr) {
			F64(v, vmcb_msrs[i].off) = val;
			return 0;
		}
	return -ENOENT;
}

/* ---------------------------------------------------------- running */

/*
 * The next instruction's address for an intercepted instruction: NRIP
 * where the CPU saves it (APM 15.7.1), else the address plus the length
 * the instruction has without prefixes: CPUID, RDMSR/WRMSR, INVD, WBINVD,
 * RDPMC (2 bytes), HLT (1), VMMCALL, XSETBV, MONITOR, MWAIT (3). A guest
 * that puts redundant prefixes on these under a CPU without NRIP save
 * (QEMU's TCG) re-executes a prefix byte: docs/cpu-state.md says so.
 */
static uint64_t next_rip(struct vcpu *v, uint64_t rip, unsigned int len)
{
	if (features & SVM_FEATURE_NRIP)
		return F64(v, VMCB_NRIP);
	return rip + len;
}

static __always_inline void decode_exit(struct vcpu *v, struct vm_exit_info *e)
{
	uint64_t code = F64(v, VMCB_EXITCODE);
	uint64_t i1 = F64(v, VMCB_EXITINFO1), i2 = F64(v, VMCB_EXITINFO2);

	e->hw_reason = code;
	e->info1 = i1;
	e->info2 = i2;
	e->rip = F64(v, VMCB_RIP);
	e->next_rip = 0;
	/*
	 * QEMU 7.2's TCG with several CPUs now and then ends a VMRUN with the
	 * host's own state saved as the guest's (measured: about one Linux
	 * boot in four with 4 vCPUs on 2 CPUs under load): RIP is the
	 * instruction after our VMRUN and RSP the host's stack. No CPU does
	 * that and the guest's registers are gone: said plainly, and the VM
	 * ends as on any invalid state (the root stops, a child's root gets
	 * HV_EXIT_INTERNAL), never resumed at a hypervisor address.
	 */
	if (__builtin_expect(e->rip == (uint64_t)svm_vmrun_resume, 0)) {
		pr_err("svm: exit 0x%lx saved the host's own state as the guest's (RIP is svm_vmrun's resume point): a fault of the CPU model, the guest's state is lost\n",
		       code);
		e->kind = EXIT_KIND_INVALID;
		return;
	}
	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
	case SVM_EXIT_INIT:
		e->kind = EXIT_KIND_NONE;       /* served by the host right after */
		break;
	case SVM_EXIT_VINTR:
		F64(v, VMCB_VINTR) &= ~(VINTR_IRQ | VINTR_IGN_TPR | (0xfULL << VINTR_PRIO_SHIFT));
		F32(v, VMCB_INTERCEPT_MISC1) &= ~ICPT_VINTR;
		e->kind = EXIT_KIND_WINDOW;
		break;
	case SVM_EXIT_IRET:                     /* the NMI handler is returning */
		F32(v, VMCB_INTERCEPT_MISC1) &= ~ICPT_IRET;
		v->nmi_blocked = false;
		e->kind = EXIT_KIND_WINDOW;
		break;
	case SVM_EXIT_IOIO:
		e->kind = EXIT_KIND_IO;
		e->io.port = (uint16_t)(i1 >> 16);
		e->io.in = i1 & 1;
		e->io.string = i1 & (1 << 2);
		e->io.rep = i1 & (1 << 3);
		e->io.size = i1 & (1 << 4) ? 1 : i1 & (1 << 5) ? 2 : 4;
		e->next_rip = i2;               /* APM 15.10.2: next RIP in EXITINFO2 */
		break;
	case SVM_EXIT_NPF:
		e->kind = EXIT_KIND_NPF;
		e->npf.gpa = i2;
		e->npf.write = i1 & (1 << 1);
		e->npf.fetch = i1 & (1 << 4);
		e->npf.delivering = (uint32_t)F64(v, VMCB_EXITINTINFO);
		if (!(e->npf.delivering & EVENT_VALID))
			e->npf.delivering = 0;
		break;
	case SVM_EXIT_HLT:
		e->kind = EXIT_KIND_HLT;
		e->next_rip = next_rip(v, e->rip, 1);
		break;
	case SVM_EXIT_VMMCALL:
		e->kind = EXIT_KIND_HYPERCALL;
		e->next_rip = next_rip(v, e->rip, 3);
		break;
	case SVM_EXIT_CPUID:
		e->kind = EXIT_KIND_CPUID;
		e->next_rip = next_rip(v, e->rip, 2);
		break;
	case SVM_EXIT_MSR:
		e->kind = i1 ? EXIT_KIND_WRMSR : EXIT_KIND_RDMSR;
		e->msr = (uint32_t)v->regs.rcx;
		e->next_rip = next_rip(v, e->rip, 2);
		break;
	case SVM_EXIT_XSETBV:
		e->kind = EXIT_KIND_XSETBV;
		e->next_rip = next_rip(v, e->rip, 3);
		break;
	case SVM_EXIT_INVD:
	case SVM_EXIT_WBINVD:
		e->kind = EXIT_KIND_NOP;
		e->next_rip = next_rip(v, e->rip, 2);
		break;
	case SVM_EXIT_RDPMC:
		e->kind = EXIT_KIND_GP;
		break;
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND:
		e->kind = EXIT_KIND_UD;
		break;
	case SVM_EXIT_SHUTDOWN:
		e->kind = EXIT_KIND_SHUTDOWN;
		break;
	case SVM_EXIT_PAUSE:
		e->kind = EXIT_KIND_PAUSE;
		e->next_rip = next_rip(v, e->rip, 2);   /* F3 90 */
		break;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
		e->kind = EXIT_KIND_VIRT_INSN;
		break;
	case SVM_EXIT_INVALID:
		e->kind = EXIT_KIND_INVALID;
		break;
	default:
		e->kind = code >= SVM_EXIT_READ_DR0 && code <= SVM_EXIT_WRITE_DR15 ?
			  EXIT_KIND_DR : EXIT_KIND_UNKNOWN;
		break;
	}
}

/*
 * TLB policy (docs/cpu-state.md): the guest's TLB entries, tagged with its
 * VM's ASID, stay valid across VMRUNs unless the VM's nested mappings
 * changed (a newer generation), the vCPU moved here from another CPU, or
 * another vCPU of the VM (same ASID, other address space) used this CPU
 * since (APM 15.16).
 */
static __always_inline uint32_t tlb_control(struct vcpu *v, unsigned int cpu)
{
	uint64_t gen = __atomic_load_n(&v->vm->tlb_gen, __ATOMIC_ACQUIRE);
	struct vcpu **owner = &this_cpu()->vendor.svm.asid_owner[v->vm->asid];

	if (v->last_cpu == (int)cpu && v->tlb_gen == gen && *owner == v)
		return TLB_CONTROL_NONE;
	v->last_cpu = (int)cpu;
	v->tlb_gen = gen;
	*owner = v;
	return features & SVM_FEATURE_FLUSH_ASID ? TLB_CONTROL_FLUSH_ASID : TLB_CONTROL_FLUSH_ALL;
}

/*
 * An event whose delivery the exit cut off (EXITINTINFO, APM 15.7.2) is
 * delivered again at the next VMRUN. Software interrupts and INT3/INTO
 * are not: RIP still points at the instruction, which raises them again.
 */
static void requeue_event(struct vcpu *v)
{
	uint64_t info = F64(v, VMCB_EXITINTINFO);
	uint32_t type = info & (7u << 8), vec = info & 0xff;

	if (!(info & EVENT_VALID) || type == EVENT_TYPE_SOFT ||
	    (type == EVENT_TYPE_EXCEPTION && (vec == 3 || vec == 4)))
		info = 0;
	F64(v, VMCB_EVENTINJ) = info;
}

/*
 * PAUSE exits while the run shares its CPU (vcpu->yield_on_pause): a
 * spin-wait loop gives the CPU to the vCPUs waiting for it. With the pause
 * filter (APM 15.14.4) only a loop of that many PAUSEs exits; without it
 * (QEMU's TCG) every PAUSE does, so a run that has the CPU alone leaves
 * them alone.
 */
static void pause_intercept(struct vcpu *v)
{
	uint32_t misc1 = F32(v, VMCB_INTERCEPT_MISC1);

	if (v->yield_on_pause == !!(misc1 & ICPT_PAUSE))
		return;
	if (features & SVM_FEATURE_PAUSE_FILTER)
		F16(v, VMCB_PAUSE_FILTER_COUNT) = v->yield_on_pause ? PAUSE_FILTER_COUNT : 0;
	F32(v, VMCB_INTERCEPT_MISC1) = misc1 ^ ICPT_PAUSE;
}

/*
 * A VMMCALL that hypercall_fast() completes re-enters the guest from here,
 * GIF still clear: no interrupt is taken and none of svm_vcpu_enter's
 * set-up needs doing again (an interrupt pending meanwhile ends the next
 * VMRUN at once, and the ordinary path takes it). VMMCALL is 3 bytes.
 */
static bool fast_hypercall(struct vcpu *v)
{
	if (F64(v, VMCB_EXITCODE) != SVM_EXIT_VMMCALL)
		return false;
	v->regs.rax = F64(v, VMCB_RAX);
	if (!hypercall_fast(v, v->regs.rax))
		return false;
	F64(v, VMCB_RAX) = v->regs.rax;
	F64(v, VMCB_EVENTINJ) = 0;      /* as requeue_event: nothing was cut off */
	svm_set_rip(v, next_rip(v, F64(v, VMCB_RIP), 3));
	return true;
}

/* Debug-register interception for this entry (the guest's DR7 decides). */
static __always_inline void dr_intercept(struct vcpu *v)
{
	struct svm_vcpu *sv = SVM(v);
	uint32_t dr = debugreg_enter(v, F64(v, VMCB_DR7), false) ? 0xffffffff : 0;

	if (dr != sv->dr_intercept)
		F32(v, VMCB_INTERCEPT_DR) = sv->dr_intercept = dr;
}

/* Everything an entry needs but the VMRUN, interrupts off. */
static __always_inline void enter_prepare(struct vcpu *v, uint64_t deadline)
{
	dr_intercept(v);
	pause_intercept(v);
	F32(v, VMCB_TLB_CONTROL) = tlb_control(v, this_cpu_id());
	F64(v, VMCB_CLEAN) = 0;
	F64(v, VMCB_RAX) = v->regs.rax;
	if (v->lapic)                   /* CR8 of the guest is its APIC's TPR */
		F64(v, VMCB_VINTR) = (F64(v, VMCB_VINTR) & ~VINTR_TPR_MASK) |
				     (v->apic_page[0x80 / 4] >> 4 & 0xf);
	if (deadline)
		hosttimer_set_deadline(deadline);
	guest_switch_in(v);
}

/* Right after the exit (GIF set again or not): the guest's state back in
 * its struct and the exit translated. */
static __always_inline void exit_finish(struct vcpu *v, struct vm_exit_info *exit)
{
	guest_switch_out(v, false);
	v->regs.rax = F64(v, VMCB_RAX);
	if (v->lapic)
		v->apic_page[0x80 / 4] = (uint32_t)(F64(v, VMCB_VINTR) & 0xf) << 4;
	requeue_event(v);
	decode_exit(v, exit);
}

void svm_vcpu_enter(struct vcpu *v, struct vm_exit_info *exit, uint64_t deadline)
{
	enter_prepare(v, deadline);
	/*
	 * With V_INTR_MASKING the host's RFLAGS.IF at VMRUN decides whether a
	 * physical interrupt (a cross-CPU call, a kick, the timer) ends the
	 * guest's run: VMRUN with IF set, GIF clear keeping interrupts out
	 * until then.
	 */
	__asm__ __volatile__("cli; clgi; sti" ::: "memory");
	do
		svm_vmrun((uint64_t)v->block, &v->regs, (uint64_t)this_cpu()->vendor.svm.host_vmcb);
	while (fast_hypercall(v));
	/* An interrupt or NMI that caused the exit is taken here. */
	__asm__ __volatile__("stgi; cli" ::: "memory");
	exit_finish(v, exit);
}

/*
 * HC_RUN on the fast path (hv/vcpu_run.c): the root has just exited, GIF
 * clear, and a child runs once from here before the root re-enters, with
 * no return to the run loops (load and put do nothing on SVM). The root's
 * guest-side state (XCR0, TSC_AUX, armed debug registers, x87/SSE/AVX)
 * goes out, the child's in and out around one VMRUN, and the root's back;
 * then the exit goes to exit_child_fast (a VMCB needs no loading for its
 * accessors). GIF stays clear throughout: an interrupt that arrives ends
 * the child's VMRUN at once (an INTR exit), which the caller then hands to
 * the ordinary path.
 */
bool svm_run_child_fast(struct vcpu *root, struct vcpu *v, struct vm_exit_info *exit,
			uint64_t deadline)
{
	/* The root's debug registers are in the CPU only when it armed them
	 * (then they go out and back in); otherwise its intercepts stand. */
	bool root_dr = root->dr_state != DR_SAVED;

	guest_switch_out(root, false);
	fpu_switch(root->fpu, v->fpu);
	enter_prepare(v, deadline);
	svm_vmrun((uint64_t)v->block, &v->regs, (uint64_t)this_cpu()->vendor.svm.host_vmcb);
	exit_finish(v, exit);
	if (deadline)
		hosttimer_set_deadline(0);
	fpu_switch(v->fpu, root->fpu);
	if (__builtin_expect(root_dr, 0))
		dr_intercept(root);
	guest_switch_in(root);
	return exit_child_fast(v, exit);
}
