/*
 * VMX guests: the VMCS of each vCPU, EPT, VMLAUNCH and the translation of
 * exit reasons into generic exits (SDM Vol. 3C, ch. 24-28).
 *
 * Load and put (KVM's vcpu_load/put, the preempt stage): a vCPU's VMCS is
 * made current with VMPTRLD when it starts running on a CPU and stays
 * there, launched, across its exits (VMRESUME); when its run ends it is
 * VMCLEARed, so it can run on another CPU next (24.11.1-24.11.3). A root
 * vCPU never moves: its VMCS stays active on its CPU while a child runs
 * there and is current again afterwards. Accessors work on the current
 * VMCS directly; a vCPU loaded nowhere (an idle child) is loaded for the
 * access and cleared again.
 */
#include <x86/cpu.h>
#include <x86/debugreg.h>
#include <x86/fpu.h>
#include <x86/guest.h>
#include <x86/desc.h>
#include <x86/percpu.h>
#include <x86/tsc.h>
#include "hv/errno.h"
#include "hv/exits.h"
#include "hv/gpt.h"
#include "hv/hypercall.h"
#include "hv/irqflags.h"
#include "hv/page_alloc.h"
#include "hv/smp.h"
#include "hv/spinlock.h"
#include "hv/string.h"
#include "hv/virt.h"
#include "hv/vm.h"
#include "vmcs.h"
#include "vmx.h"

/* vmx_entry.S moves the guest's GPRs to and from v->regs at the offsets of
 * <x86/regs_offsets.h> (checked in svm_vcpu.c). 0: a VM exit; 1: VMfail. */
int vmx_launch(struct hv_regs *regs, int resume);
extern const char vmx_exit[];

#define MSR_SYSENTER_CS         0x174
#define MSR_SYSENTER_ESP        0x175
#define MSR_SYSENTER_EIP        0x176
#define MSR_PAT                 0x277
#define MSR_STAR                0xc0000081
#define MSR_LSTAR               0xc0000082
#define MSR_CSTAR               0xc0000083
#define MSR_SFMASK              0xc0000084
#define MSR_KERNEL_GS_BASE      0xc0000102

#define CR0_NW                  (1ULL << 29)
#define CR0_CD                  (1ULL << 30)
#define RFLAGS_IF               (1ULL << 9)
#define RFLAGS_RESERVED         0xffffffffffc08028ULL  /* must be 0 (26.3.1.4) */
#define GUEST_PAT_RESET         0x0007040600070406ULL

/* What vmx_guest_setup chose within the capabilities: the same for all. */
static struct {
	uint32_t pin, proc, proc2, exit, entry;
	uint64_t cr0_mask, cr4_mask;    /* bits the guest reads from the shadows */
	uint32_t timer;                 /* VMX-preemption timer value, 0: off */
	uint32_t timer_shift;           /* it counts every 2^shift TSC ticks */
	bool pat, invept_single, tpr_shadow, intr_window, nmi_window, pause_exiting;
} ctl;
static uint8_t *msr_bitmap;             /* all ones: every MSR access exits */


/* ---------------------------------------------------------- VMX instructions */

/* VMREAD/VMWRITE on the current VMCS; the fields used exist on every CPU
 * with the controls hardware setup insists on. */
static uint64_t vmread(uint64_t field)
{
	uint64_t v = 0;

	__asm__ __volatile__("vmread %1, %0" : "=rm"(v) : "r"(field) : "cc");
	return v;
}

static void vmwrite(uint64_t field, uint64_t v)
{
	__asm__ __volatile__("vmwrite %1, %0" :: "r"(field), "rm"(v) : "cc");
}

static int vmptrld(struct vcpu *v)
{
	uint64_t pa = (uint64_t)v->block;
	uint8_t fail;

	__asm__ __volatile__("vmptrld %1; setbe %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	if (!fail)
		this_cpu()->vendor.vmx.current = v;
	return fail ? -EIO : 0;
}

static void vmclear(struct vcpu *v)
{
	uint64_t pa = (uint64_t)v->block;
	struct vmx_percpu *c = &this_cpu()->vendor.vmx;

	__asm__ __volatile__("vmclear %0" :: "m"(pa) : "cc", "memory");
	((struct vmx_vcpu *)v->block)->launched = false;
	if (c->current == v)
		c->current = NULL;
	if (c->root == v)
		c->root = NULL;
}

/* ---------------------------------------------------------- EPT */

#define EPT_R           (1ULL << 0)
#define EPT_W           (1ULL << 1)
#define EPT_X           (1ULL << 2)
#define EPT_WB          (6ULL << 3)     /* memory type of a leaf (28.2.6) */
#define EPT_LARGE       (1ULL << 7)

static uint64_t ept_leaf(uint64_t hpa, unsigned int level, unsigned int flags)
{
	return hpa | EPT_R | (flags & GPT_WRITE ? EPT_W : 0) | (flags & GPT_EXEC ? EPT_X : 0) |
	       EPT_WB | (level ? EPT_LARGE : 0);
}

static uint64_t ept_table(uint64_t hpa)
{
	return hpa | EPT_R | EPT_W | EPT_X;
}

/* An EPT entry with none of R/W/X is not present (28.2.2). */
static bool ept_present(uint64_t e) { return e & (EPT_R | EPT_W | EPT_X); }
static bool ept_large(uint64_t e) { return e & EPT_LARGE; }

struct gpt_format ept_format = {
	.leaf = ept_leaf, .table = ept_table, .present = ept_present, .large = ept_large,
	.max_leaf_level = 1,
};

/* EPTP: 4-level walk (length - 1 in bits 5:3), write-back (24.6.11). */
static uint64_t eptp(const struct vcpu *v)
{
	return (uint64_t)v->vm->gpt.root | (3 << 3) | 6;
}

/* Mappings of this VM's tables, guest-physical and combined (all VPIDs),
 * may be stale: flush them (28.3.3.1, 30.3). */
static void invept(uint64_t eptp_val)
{
	struct { uint64_t eptp, zero; } desc = { eptp_val, 0 };
	uint64_t type = ctl.invept_single ? 1 : 2;

	__asm__ __volatile__("invept %0, %1" :: "m"(desc), "r"(type) : "cc", "memory");
}

/* ---------------------------------------------------------- setup */

/* A control word: what we want, within what the CPU allows (allowed-0
 * bits must be 1, only allowed-1 bits may be 1: SDM Vol. 3D, A.3-A.5). */
static uint32_t adjust(uint32_t want, uint64_t cap)
{
	return (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

static bool allowed(uint32_t bits, uint64_t cap)
{
	return ((uint32_t)(cap >> 32) & bits) == bits;
}

/*
 * The VMX-preemption timer (25.5.1) ends a guest's run every ~10 ms. Real
 * CPUs don't need it: external-interrupt exiting ends the run whatever the
 * guest's RFLAGS.IF. Bochs 2.7 decides interrupt masking on the guest's IF
 * before it counts as in VMX non-root operation, so a guest spinning with
 * IF=0 there never sees the IPI of a cross-CPU call; the timer bounds that.
 * It counts down every 2^IA32_VMX_MISC[4:0] TSC ticks (A.6).
 */
static uint32_t timer_value(uint64_t misc)
{
	uint64_t ticks = tsc_khz() ? tsc_khz() * 10 : 1ULL << 25;

	ticks >>= misc & 0x1f;
	return (uint32_t)MIN(MAX(ticks, 1024ULL), 0xffffffffULL);
}

int vmx_guest_setup(const uint64_t caps[CAP_COUNT])
{
	bool true_ctls = caps[CAP_BASIC] & (1ULL << 55);
	uint64_t pin = caps[true_ctls ? CAP_TRUE_PIN : CAP_PIN];
	uint64_t proc = caps[true_ctls ? CAP_TRUE_PROC : CAP_PROC];
	uint64_t exit = caps[true_ctls ? CAP_TRUE_EXIT : CAP_EXIT];
	uint64_t entry = caps[true_ctls ? CAP_TRUE_ENTRY : CAP_ENTRY];
	uint64_t proc2 = caps[CAP_PROC2], ept = caps[CAP_EPT_VPID];
	const uint32_t exit_need = EXIT_HOST_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER;

	/* Without these a 64-bit host cannot come back, or EFER is lost. */
	if (!allowed(exit_need, exit) || !allowed(ENTRY_LOAD_EFER | ENTRY_IA32E_GUEST, entry))
		return ERR(-ENODEV);
	msr_bitmap = page_alloc(0);
	if (!msr_bitmap)
		return ERR(-ENOMEM);
	memset(msr_bitmap, 0xff, PAGE_SIZE);

	/* External interrupts and NMIs end the guest's run: the host serves
	 * them (25.2). HLT exits; MSR accesses exit through the bitmap. */
	ctl.pin = adjust(PIN_EXT_INTR_EXITING | PIN_NMI_EXITING |
			 (allowed(PIN_PREEMPTION_TIMER, pin) ? PIN_PREEMPTION_TIMER : 0) |
			 (allowed(PIN_VIRTUAL_NMIS, pin) ? PIN_VIRTUAL_NMIS : 0), pin);
	/* Without TRUE controls CR3-load/store exiting stay on (A.3.2): those
	 * exits are emulated in cr_access(). */
	/* MOV DR exits until the debug registers are live (x86/debugreg.h);
	 * RDPMC (no PMU offered: #GP), MONITOR/MWAIT (#UD) and WBINVD/INVD
	 * (done without touching the host's caches) exit. CR8 is the TPR
	 * shadow's where the CPU has one, else its accesses exit. */
	ctl.tpr_shadow = allowed(CPU_TPR_SHADOW, proc);
	ctl.pause_exiting = allowed(CPU_PAUSE_EXITING, proc);
	ctl.intr_window = allowed(CPU_INTR_WINDOW, proc);
	ctl.nmi_window = allowed(CPU_NMI_WINDOW, proc) && allowed(PIN_VIRTUAL_NMIS, pin);
	ctl.proc = adjust(CPU_HLT_EXITING | CPU_MSR_BITMAPS | CPU_SECONDARY | CPU_MOV_DR_EXITING |
			  CPU_RDPMC_EXITING | CPU_MWAIT_EXITING | CPU_MONITOR_EXITING |
			  CPU_TSC_OFFSETTING |
			  (ctl.tpr_shadow ? CPU_TPR_SHADOW : CPU_CR8_LOAD_EXITING | CPU_CR8_STORE_EXITING),
			  proc);
	ctl.proc2 = adjust(CPU2_EPT | CPU2_UNRESTRICTED |
			   (allowed(CPU2_VPID, proc2) ? CPU2_VPID : 0) |
			   (allowed(CPU2_WBINVD_EXITING, proc2) ? CPU2_WBINVD_EXITING : 0) |
			   ((allowed(CPU2_RDTSCP, proc2) && (cpuid(0x80000001).edx & (1U << 27))) ?
			    CPU2_RDTSCP : 0), proc2);
	ctl.pat = allowed(EXIT_SAVE_PAT | EXIT_LOAD_PAT, exit) && allowed(ENTRY_LOAD_PAT, entry);
	/* No acknowledge-interrupt-on-exit: the interrupt stays pending in the
	 * local APIC and is taken by the host's IDT after the exit. */
	ctl.exit = adjust(exit_need | EXIT_SAVE_DEBUG |
			  (ctl.pat ? EXIT_SAVE_PAT | EXIT_LOAD_PAT : 0), exit);
	ctl.entry = adjust(ENTRY_LOAD_EFER | ENTRY_LOAD_DEBUG | (ctl.pat ? ENTRY_LOAD_PAT : 0),
			   entry) & ~ENTRY_IA32E_GUEST;
	/* CR0/CR4 bits VMX operation fixes to 1 (23.8): set in the real
	 * registers, hidden behind the read shadows (25.3). PE and PG are
	 * free with unrestricted guest. */
	ctl.cr0_mask = vmx_cr0_fixed0();
	ctl.cr4_mask = vmx_cr4_fixed0() | CR4_VMXE;
	ctl.timer = ctl.pin & PIN_PREEMPTION_TIMER ? timer_value(caps[CAP_MISC]) : 0;
	ctl.timer_shift = caps[CAP_MISC] & 0x1f;
	ctl.invept_single = ept & EPT_CAP_INVEPT_SINGLE;
	if (ept & EPT_CAP_2M)
		ept_format.max_leaf_level = ept & EPT_CAP_1G ? 2 : 1;
	else
		ept_format.max_leaf_level = 0;
	return 0;
}

void vmx_guest_unsetup(void)
{
	page_free(msr_bitmap, 0);
	msr_bitmap = NULL;
}

/* ---------------------------------------------------------- guest state */

/* Everything below that touches a field needs v's VMCS current. */

/* What the guest reads from CR0/CR4: its own value in the bits we own. */
static uint64_t guest_view(uint64_t real_field, uint64_t shadow_field, uint64_t mask)
{
	return (vmread(real_field) & ~mask) | (vmread(shadow_field) & mask);
}

static void set_guest_cr0(uint64_t cr0)
{
	vmwrite(GUEST_CR0, (cr0 | vmx_cr0_fixed0()) & vmx_cr0_fixed1());
	vmwrite(CR0_SHADOW, cr0);
}

static void set_guest_cr4(uint64_t cr4)
{
	vmwrite(GUEST_CR4, (cr4 | vmx_cr4_fixed0()) & vmx_cr4_fixed1());
	vmwrite(CR4_SHADOW, cr4);
}

/* EFER and the IA-32e mode guest entry control, which must agree on LMA
 * (26.2.4, 26.3.1.1); VM exits keep both up to date (27.2). */
static void set_guest_efer(uint64_t efer)
{
	vmwrite(GUEST_IA32_EFER, efer);
	vmwrite(ENTRY_CONTROLS, efer & EFER_LMA ? ctl.entry | ENTRY_IA32E_GUEST : ctl.entry);
}

/*
 * With EPT, VM entry takes a PAE guest's four PDPTEs from the VMCS, not
 * from memory (26.3.2.4): fill them whenever the hypervisor, not the
 * guest, changes CR0, CR3 or CR4 of a guest in PAE paging.
 */
static void load_pdptes(struct vcpu *v)
{
	uint64_t pdpte[4] = { 0 }, gpa, hpa;

	if (!(vmread(GUEST_CR0) & CR0_PG) || !(vmread(GUEST_CR4) & CR4_PAE) ||
	    (vmread(GUEST_IA32_EFER) & EFER_LMA))
		return;
	gpa = vmread(GUEST_CR3) & 0xffffffe0;   /* 32-byte aligned: one page */
	spin_lock(&v->vm->lock);
	hpa = gpt_translate(&v->vm->gpt, gpa);
	if (hpa != ~0ULL)
		memcpy(pdpte, (const void *)hpa, sizeof(pdpte));
	spin_unlock(&v->vm->lock);
	for (int i = 0; i < 4; i++)
		vmwrite(GUEST_PDPTE0 + 2 * i, pdpte[i]);
}

/* The ABI's VMCB-style attribute word (type 0-3, S 4, DPL 5-6, P 7, AVL 8,
 * L 9, D/B 10, G 11) -> VMX access rights (L/DB/G at 13-15, unusable 16:
 * 24.4.1). Not present means unusable; a code/data segment gets its
 * accessed bit, which loading the descriptor would have set and VM entry
 * requires (26.3.1.2). */
static uint32_t ar_from_attrib(uint16_t a)
{
	uint32_t ar = (a & 0xffu) | ((uint32_t)(a & 0xf00) << 4);

	if (!(a & 0x80))
		return ar | AR_UNUSABLE;
	if (a & 0x10)
		ar |= 1;
	return ar;
}

/* An unusable segment reads back not present; its other bits (SS.DPL is
 * the CPL) stay. */
static uint16_t attrib_from_ar(uint32_t ar)
{
	uint16_t a = (uint16_t)((ar & 0xff) | ((ar >> 4) & 0xf00));

	return ar & AR_UNUSABLE ? a & ~0x80 : a;
}

static const struct { uint32_t sel, limit, ar, base; } seg_fields[8] = {
	{ GUEST_CS_SEL, GUEST_CS_LIMIT, GUEST_CS_AR, GUEST_CS_BASE },
	{ GUEST_DS_SEL, GUEST_DS_LIMIT, GUEST_DS_AR, GUEST_DS_BASE },
	{ GUEST_ES_SEL, GUEST_ES_LIMIT, GUEST_ES_AR, GUEST_ES_BASE },
	{ GUEST_FS_SEL, GUEST_FS_LIMIT, GUEST_FS_AR, GUEST_FS_BASE },
	{ GUEST_GS_SEL, GUEST_GS_LIMIT, GUEST_GS_AR, GUEST_GS_BASE },
	{ GUEST_SS_SEL, GUEST_SS_LIMIT, GUEST_SS_AR, GUEST_SS_BASE },
	{ GUEST_TR_SEL, GUEST_TR_LIMIT, GUEST_TR_AR, GUEST_TR_BASE },
	{ GUEST_LDTR_SEL, GUEST_LDTR_LIMIT, GUEST_LDTR_AR, GUEST_LDTR_BASE },
};
#define SEG_TR 6

static void write_segment(int i, const struct hv_segment *s)
{
	uint32_t ar = ar_from_attrib(s->attrib);

	/* TR must hold a busy TSS (26.3.1.2), as LTR would have made it. */
	if (i == SEG_TR && (ar & 0x17) == 0x1)
		ar |= 2;
	vmwrite(seg_fields[i].sel, s->selector);
	vmwrite(seg_fields[i].limit, s->limit);
	vmwrite(seg_fields[i].ar, ar);
	vmwrite(seg_fields[i].base, s->base);
}

static void read_segment(int i, struct hv_segment *s)
{
	s->selector = (uint16_t)vmread(seg_fields[i].sel);
	s->limit = (uint32_t)vmread(seg_fields[i].limit);
	s->attrib = attrib_from_ar((uint32_t)vmread(seg_fields[i].ar));
	s->base = vmread(seg_fields[i].base);
}

/* Segments, descriptor tables, control registers, EFER. */
static void write_sregs(struct vcpu *v, const struct hv_sregs *s)
{
	const struct hv_segment *segs[8] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldtr,
	};

	for (int i = 0; i < 8; i++)
		write_segment(i, segs[i]);
	vmwrite(GUEST_GDTR_BASE, s->gdt.base);
	vmwrite(GUEST_GDTR_LIMIT, s->gdt.limit);
	vmwrite(GUEST_IDTR_BASE, s->idt.base);
	vmwrite(GUEST_IDTR_LIMIT, s->idt.limit);
	set_guest_cr0(s->cr0);
	vmwrite(GUEST_CR3, s->cr3);
	set_guest_cr4(s->cr4);
	set_guest_efer(s->efer);
	((struct vmx_vcpu *)v->block)->cr2 = s->cr2;
	load_pdptes(v);
}

static void read_sregs(struct vcpu *v, struct hv_sregs *s)
{
	struct hv_segment *segs[8] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldtr,
	};

	for (int i = 0; i < 8; i++)
		read_segment(i, segs[i]);
	s->gdt = (struct hv_dtable){ vmread(GUEST_GDTR_BASE), (uint32_t)vmread(GUEST_GDTR_LIMIT), 0 };
	s->idt = (struct hv_dtable){ vmread(GUEST_IDTR_BASE), (uint32_t)vmread(GUEST_IDTR_LIMIT), 0 };
	s->cr0 = guest_view(GUEST_CR0, CR0_SHADOW, ctl.cr0_mask);
	s->cr2 = ((struct vmx_vcpu *)v->block)->cr2;
	s->cr3 = vmread(GUEST_CR3);
	s->cr4 = guest_view(GUEST_CR4, CR4_SHADOW, ctl.cr4_mask);
	s->efer = vmread(GUEST_IA32_EFER);
}

/* The execution controls and the host state that is the same on every
 * CPU and for every entry; the rest goes in before each entry. */
static void write_controls(struct vcpu *v)
{
	/* A child's I/O goes to the root (unconditional I/O exiting); the
	 * root keeps its own ports: no I/O exits at all. */
	struct vmx_vcpu *x = v->block;

	x->proc = v->vm->is_root ? ctl.proc : ctl.proc | CPU_UNCOND_IO_EXITING;
	vmwrite(PIN_CONTROLS, ctl.pin);
	vmwrite(PROC_CONTROLS, x->proc);
	vmwrite(PROC2_CONTROLS, ctl.proc2);
	vmwrite(EXIT_CONTROLS, ctl.exit);
	vmwrite(ENTRY_CONTROLS, ctl.entry);
	if (ctl.proc2 & CPU2_VPID)
		vmwrite(VIRTUAL_PROCESSOR_ID, v->vm->asid);     /* never 0 (26.2.1.1) */
	if (ctl.timer)
		vmwrite(GUEST_PREEMPTION_TIMER, ctl.timer);     /* reloaded each entry */
	vmwrite(EXCEPTION_BITMAP, 0);
	vmwrite(CR3_TARGET_COUNT, 0);
	vmwrite(EXIT_MSR_STORE_COUNT, 0);
	vmwrite(EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(ENTRY_INTR_INFO, 0);
	vmwrite(MSR_BITMAP, (uint64_t)msr_bitmap);
	vmwrite(TSC_OFFSET, 0);
	if (ctl.tpr_shadow) {
		vmwrite(VIRTUAL_APIC_PAGE, (uint64_t)v->apic_page);
		vmwrite(TPR_THRESHOLD, 0);
	}
	vmwrite(EPT_POINTER, eptp(v));
	vmwrite(CR0_MASK, ctl.cr0_mask);
	vmwrite(CR4_MASK, ctl.cr4_mask);
	vmwrite(VMCS_LINK_POINTER, ~0ULL);

	vmwrite(HOST_CS_SEL, GDT_KCODE);
	vmwrite(HOST_SS_SEL, GDT_KDATA);
	vmwrite(HOST_DS_SEL, GDT_KDATA);
	vmwrite(HOST_ES_SEL, GDT_KDATA);
	vmwrite(HOST_FS_SEL, 0);
	vmwrite(HOST_GS_SEL, 0);
	vmwrite(HOST_TR_SEL, GDT_TSS);
	vmwrite(HOST_FS_BASE, 0);
	vmwrite(HOST_SYSENTER_CS, 0);
	vmwrite(HOST_SYSENTER_ESP, 0);
	vmwrite(HOST_SYSENTER_EIP, 0);
	if (ctl.pat)
		vmwrite(HOST_IA32_PAT, rdmsr(MSR_PAT));
	vmwrite(HOST_RIP, (uint64_t)vmx_exit);
}

/* A CPU after INIT (SDM Vol. 3A, 9.1.1): real mode at 0, until set_sregs. */
static void write_reset_state(struct vcpu *v)
{
	struct hv_sregs s = { 0 };

	s.cs = (struct hv_segment){ 0, 0xffff, 0, 0x9b };
	s.ds = s.es = s.fs = s.gs = s.ss = (struct hv_segment){ 0, 0xffff, 0, 0x93 };
	s.tr = (struct hv_segment){ 0, 0xffff, 0, 0x8b };
	s.ldtr = (struct hv_segment){ 0, 0xffff, 0, 0x82 };
	s.gdt.limit = s.idt.limit = 0xffff;
	s.cr0 = 0x10;                           /* ET */
	write_sregs(v, &s);
	vmwrite(GUEST_DR7, 0x400);
	vmwrite(GUEST_IA32_DEBUGCTL, 0);
	if (ctl.pat)
		vmwrite(GUEST_IA32_PAT, GUEST_PAT_RESET);
	vmwrite(GUEST_RFLAGS, 0x2);
	vmwrite(GUEST_RSP, 0);
	vmwrite(GUEST_RIP, 0);
	vmwrite(GUEST_INTERRUPTIBILITY, 0);
	vmwrite(GUEST_ACTIVITY, 0);
	vmwrite(GUEST_PENDING_DBG, 0);
	vmwrite(GUEST_SYSENTER_CS, 0);
	vmwrite(GUEST_SYSENTER_ESP, 0);
	vmwrite(GUEST_SYSENTER_EIP, 0);
}

/* Host state that differs between CPUs (GS base, TSS, GDT, IDT): written
 * when the VMCS is loaded on a CPU whose state it does not hold yet; the
 * rest is in write_controls(). */
static void write_host_state(void)
{
	struct desc_ptr gdtr, idtr;

	__asm__ __volatile__("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	vmwrite(HOST_CR0, read_cr0());
	vmwrite(HOST_CR3, read_cr3());
	vmwrite(HOST_CR4, read_cr4());
	vmwrite(HOST_GS_BASE, rdmsr(MSR_GS_BASE));       /* the per-CPU area */
	vmwrite(HOST_TR_BASE, (uint64_t)&this_cpu()->tss);
	vmwrite(HOST_GDTR_BASE, gdtr.base);
	vmwrite(HOST_IDTR_BASE, idtr.base);
	vmwrite(HOST_IA32_EFER, rdmsr(MSR_EFER));
}

void vmx_vcpu_load(struct vcpu *v)
{
	unsigned long flags = local_irq_save();
	struct vmx_percpu *c = &this_cpu()->vendor.vmx;
	struct vmx_vcpu *x = v->block;

	if (c->current != v) {
		vmptrld(v);
		if (x->host_epoch != c->host_epoch) {
			write_host_state();
			x->host_epoch = c->host_epoch;
		}
	}
	if (v->vm->is_root)
		c->root = v;
	local_irq_restore(flags);
}

void vmx_vcpu_put(struct vcpu *v)
{
	unsigned long flags = local_irq_save();
	struct vmx_percpu *c = &this_cpu()->vendor.vmx;

	vmclear(v);
	if (c->root)                    /* the root vCPU this child ran for */
		vmptrld(c->root);
	local_irq_restore(flags);
}

/* Every VMCS active on this CPU to memory, before VMXOFF (24.11.1): the
 * loaded ones reload and relaunch when their vCPU runs again. */
void vmx_emergency_clear(void)
{
	struct vmx_percpu *c = &this_cpu()->vendor.vmx;

	if (c->current)
		vmclear(c->current);
	if (c->root)
		vmclear(c->root);
}

/* v's VMCS current on this CPU for an access: it is already (the running
 * vCPU, the calling root's), or it is loaded nowhere (an idle child, a
 * new vCPU) and is made current for the access, then cleared, and the
 * VMCS that was current before is current again. */
struct vmcs_ctx {
	unsigned long flags;
	struct vcpu *prev;
	bool temporary;
};

static bool vmcs_enter(struct vcpu *v, struct vmcs_ctx *c)
{
	c->flags = local_irq_save();
	c->prev = this_cpu()->vendor.vmx.current;
	c->temporary = c->prev != v;
	if (c->temporary && vmptrld(v)) {
		local_irq_restore(c->flags);
		return false;
	}
	return true;
}

static void vmcs_leave(struct vcpu *v, struct vmcs_ctx *c)
{
	if (c->temporary) {
		vmclear(v);
		if (c->prev)
			vmptrld(c->prev);
	}
	local_irq_restore(c->flags);
}

#define WITH_VMCS(v, body)                                      \
	do {                                                    \
		struct vmcs_ctx ctx_;                           \
		if (vmcs_enter(v, &ctx_)) {                     \
			body;                                   \
			vmcs_leave(v, &ctx_);                   \
		}                                               \
	} while (0)

/* May run on any CPU: VMCLEAR initializes the region (24.11.3), VMPTRLD
 * makes it current here for the VMWRITEs, VMCLEAR flushes it again. */
int vmx_vcpu_setup(struct vcpu *v)
{
	struct vmx_vcpu *x = v->block;
	uint32_t revision = (uint32_t)vmx_revision();
	struct vmcs_ctx c;

	memset(x->vmcs, 0, sizeof(x->vmcs));
	memcpy(x->vmcs, &revision, sizeof(revision));   /* 24.2 */
	x->cr2 = x->star = x->lstar = x->cstar = x->sfmask = x->kernel_gs_base = 0;
	x->launched = false;
	x->host_epoch = 0;
	v->fpu = &x->fpu;
	vmclear(v);
	if (!vmcs_enter(v, &c))
		return -EIO;
	write_controls(v);
	write_reset_state(v);
	vmcs_leave(v, &c);
	return 0;
}

void vmx_vcpu_teardown(struct vcpu *v)
{
	/* A vCPU loaded nowhere is not current anywhere (put cleared it); it
	 * may still be some CPU's VPID owner. */
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct percpu *pc = per_cpu(cpu);

		if (pc && pc->vendor.vmx.vpid_owner[v->vm->asid] == v)
			__atomic_store_n(&pc->vendor.vmx.vpid_owner[v->vm->asid], NULL,
					 __ATOMIC_RELAXED);
	}
}

/* ---------------------------------------------------------- accessors */

/* Blocking by STI or MOV SS covers one instruction: not the next one
 * after the hypervisor moved RIP, and never with IF=0 (26.3.1.5). */
static void clear_blocking(void)
{
	vmwrite(GUEST_INTERRUPTIBILITY,
		vmread(GUEST_INTERRUPTIBILITY) & ~(uint64_t)(BLOCKING_BY_STI | BLOCKING_BY_MOV_SS));
}

void vmx_get_regs(struct vcpu *v, struct hv_regs *r)
{
	*r = v->regs;                           /* RAX too: vmx_entry.S keeps it */
	WITH_VMCS(v, {
		r->rsp = vmread(GUEST_RSP);
		r->rip = vmread(GUEST_RIP);
		r->rflags = vmread(GUEST_RFLAGS);
	});
}

void vmx_set_regs(struct vcpu *v, const struct hv_regs *r)
{
	v->regs = *r;
	WITH_VMCS(v, {
		if (vmread(GUEST_RIP) != r->rip || !(r->rflags & RFLAGS_IF))
			clear_blocking();
		vmwrite(GUEST_RSP, r->rsp);
		vmwrite(GUEST_RIP, r->rip);
		vmwrite(GUEST_RFLAGS, (r->rflags & ~RFLAGS_RESERVED) | 0x2);
	});
}

void vmx_get_sregs(struct vcpu *v, struct hv_sregs *s)
{
	memset(s, 0, sizeof(*s));
	WITH_VMCS(v, read_sregs(v, s));
}

void vmx_set_sregs(struct vcpu *v, const struct hv_sregs *s)
{
	WITH_VMCS(v, write_sregs(v, s));
}

uint64_t vmx_get_rip(struct vcpu *v)
{
	uint64_t rip = 0;

	WITH_VMCS(v, rip = vmread(GUEST_RIP));
	return rip;
}

void vmx_get_mode(struct vcpu *v, struct guest_mode *m)
{
	WITH_VMCS(v, {
		m->cr0 = guest_view(GUEST_CR0, CR0_SHADOW, ctl.cr0_mask);
		m->cr3 = vmread(GUEST_CR3);
		m->cr4 = guest_view(GUEST_CR4, CR4_SHADOW, ctl.cr4_mask);
		m->efer = vmread(GUEST_IA32_EFER);
		m->rflags = vmread(GUEST_RFLAGS);
		m->cs_base = vmread(GUEST_CS_BASE);
		m->cs_attrib = attrib_from_ar((uint32_t)vmread(GUEST_CS_AR));
		m->cpl = (vmread(GUEST_SS_AR) >> 5) & 3;
	});
}

/* ---------------------------------------------------------- injection */

/* These run on the vCPU being entered: its VMCS is current. */
bool vmx_event_queued(struct vcpu *v)
{
	return vmread(ENTRY_INTR_INFO) & INTR_INFO_VALID;
}

bool vmx_irq_window_open(struct vcpu *v)
{
	return (vmread(GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(vmread(GUEST_INTERRUPTIBILITY) & (BLOCKING_BY_STI | BLOCKING_BY_MOV_SS));
}

bool vmx_nmi_window_open(struct vcpu *v)
{
	return !(vmread(GUEST_INTERRUPTIBILITY) &
		 (BLOCKING_BY_NMI | BLOCKING_BY_STI | BLOCKING_BY_MOV_SS));
}

void vmx_inject_irq(struct vcpu *v, uint8_t vector)
{
	vmwrite(ENTRY_INTR_INFO, vector | (INTR_TYPE_EXT_INTR << 8) | INTR_INFO_VALID);
}

/* With virtual NMIs the CPU blocks further NMIs until the handler's IRET
 * (24.6.1, 26.6.1.2). */
void vmx_inject_nmi(struct vcpu *v)
{
	vmwrite(ENTRY_INTR_INFO, 2 | (INTR_TYPE_NMI << 8) | INTR_INFO_VALID);
}

/* Interrupt- and NMI-window exiting (24.6.2) and, with a TPR shadow, the
 * TPR threshold: an exit once the guest's CR8 drops below the class of
 * the interrupt it holds back (29.1.2). */
void vmx_request_window(struct vcpu *v, bool irq, bool nmi, int tpr_class)
{
	struct vmx_vcpu *x = v->block;
	uint32_t proc = x->proc & ~(CPU_INTR_WINDOW | CPU_NMI_WINDOW);

	if (irq && ctl.intr_window)
		proc |= CPU_INTR_WINDOW;
	if (nmi && ctl.nmi_window)
		proc |= CPU_NMI_WINDOW;
	if (proc != x->proc) {
		x->proc = proc;
		vmwrite(PROC_CONTROLS, proc);
	}
	if (ctl.tpr_shadow)
		vmwrite(TPR_THRESHOLD, tpr_class > 0 ? (uint32_t)tpr_class : 0);
}

void vmx_get_dr67(struct vcpu *v, uint64_t *dr6, uint64_t *dr7)
{
	*dr6 = v->dr6;
	WITH_VMCS(v, *dr7 = vmread(GUEST_DR7));
}

void vmx_set_dr67(struct vcpu *v, uint64_t dr6, uint64_t dr7)
{
	v->dr6 = dr6;
	WITH_VMCS(v, vmwrite(GUEST_DR7, dr7));
}

uint64_t vmx_get_tsc_offset(struct vcpu *v)
{
	uint64_t off = 0;

	WITH_VMCS(v, off = vmread(TSC_OFFSET));
	return off;
}

void vmx_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
	WITH_VMCS(v, vmwrite(TSC_OFFSET, offset));
}

void vmx_set_rip(struct vcpu *v, uint64_t rip)
{
	WITH_VMCS(v, {
		clear_blocking();
		vmwrite(GUEST_RIP, rip);
	});
}

/*
 * VM-entry event injection of a hardware exception (24.8.3). Whether an
 * error code goes with it is VMX's rule, not the caller's: exactly for
 * #DF, #TS, #NP, #SS, #GP, #PF, #AC and only in protected mode (26.2.1.3).
 */
static void queue_exception(uint8_t vector, uint32_t error)
{
	const uint32_t has_code = (1u << 8) | (0x1fu << 10) | (1u << 17);
	uint32_t info = vector | (INTR_TYPE_HW_EXCEPTION << 8) | INTR_INFO_VALID;

	if (vector < 32 && (has_code >> vector & 1) && (vmread(GUEST_CR0) & CR0_PE)) {
		info |= INTR_INFO_ERROR_CODE;
		vmwrite(ENTRY_EXCEPTION_ERROR, error);
	}
	vmwrite(ENTRY_INTR_INFO, info);
}

void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	WITH_VMCS(v, queue_exception(vector, error));
}

/* ---------------------------------------------------------- MSRs */

/* The VMCS field that holds an MSR, or 0 (no MSR field has encoding 0). */
static uint32_t msr_field(uint32_t msr)
{
	switch (msr) {
	case MSR_EFER: return GUEST_IA32_EFER;
	case MSR_FS_BASE: return GUEST_FS_BASE;
	case MSR_GS_BASE: return GUEST_GS_BASE;
	case MSR_SYSENTER_CS: return GUEST_SYSENTER_CS;
	case MSR_SYSENTER_ESP: return GUEST_SYSENTER_ESP;
	case MSR_SYSENTER_EIP: return GUEST_SYSENTER_EIP;
	case MSR_PAT: return ctl.pat ? GUEST_IA32_PAT : 0;
	default: return 0;
	}
}

/* The vCPU block's copy of an MSR the VMCS has no field for, or NULL. */
static uint64_t *msr_slot(struct vmx_vcpu *x, uint32_t msr)
{
	switch (msr) {
	case MSR_STAR: return &x->star;
	case MSR_LSTAR: return &x->lstar;
	case MSR_CSTAR: return &x->cstar;
	case MSR_SFMASK: return &x->sfmask;
	case MSR_KERNEL_GS_BASE: return &x->kernel_gs_base;
	default: return NULL;
	}
}

/* SCE, LME, NXE may change; LMA follows CR0.PG; LME not while paging is
 * on (SDM Vol. 3A, 9.8.5). */
static int write_efer(uint64_t val)
{
	const uint64_t settable = EFER_SCE | EFER_LME | EFER_NXE;
	uint64_t old = vmread(GUEST_IA32_EFER);

	if (val & ~(settable | EFER_LMA))
		return -EINVAL;
	if ((vmread(GUEST_CR0) & CR0_PG) && ((val ^ old) & EFER_LME))
		return -EINVAL;
	set_guest_efer((old & EFER_LMA) | (val & settable));
	return 0;
}

int vmx_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	const uint64_t *slot = msr_slot(v->block, msr);
	uint32_t field = msr_field(msr);

	*val = 0;
	if (slot) {
		*val = *slot;
		return 0;
	}
	if (!field)
		return -ENOENT;
	WITH_VMCS(v, *val = vmread(field));
	return 0;
}

int vmx_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	uint64_t *slot = msr_slot(v->block, msr);
	uint32_t field = msr_field(msr);
	int r = 0;

	if (!slot && !field)
		return -ENOENT;
	if (slot)
		*slot = val;
	else if (msr == MSR_EFER)
		WITH_VMCS(v, r = write_efer(val));
	else
		WITH_VMCS(v, vmwrite(field, val));
	return r;
}

/* ---------------------------------------------------------- CR accesses */

static bool in_64bit_code(void)
{
	return (vmread(GUEST_IA32_EFER) & EFER_LMA) && (vmread(GUEST_CS_AR) & AR_L);
}

/* A general register of an exit qualification, numbered RAX, RCX, RDX,
 * RBX, RSP, RBP, RSI, RDI, R8-R15 (27.2.1, Table 27-3), in struct hv_regs;
 * RSP lives in the VMCS. Outside 64-bit code only the low 32 bits count. */
static uint64_t *gpr_slot(struct vcpu *v, unsigned int n)
{
	static const uint8_t slot[16] = { 0, 2, 3, 1, 6, 7, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15 };

	return (uint64_t *)&v->regs + slot[n];
}

static uint64_t gpr_read(struct vcpu *v, unsigned int n)
{
	uint64_t val = n == 4 ? vmread(GUEST_RSP) : *gpr_slot(v, n);

	return in_64bit_code() ? val : (uint32_t)val;
}

static void gpr_write(struct vcpu *v, unsigned int n, uint64_t val)
{
	if (!in_64bit_code())
		val = (uint32_t)val;
	if (n == 4)
		vmwrite(GUEST_RSP, val);
	else
		*gpr_slot(v, n) = val;
}

/* MOV to CR0 that changed a bit we own (CR0.NE): what the instruction
 * does, with its #GP cases (SDM Vol. 3A 2.5, 9.8.5), including entering
 * and leaving IA-32e mode. false: #GP. */
static bool mov_to_cr0(uint64_t val)
{
	uint64_t old = vmread(GUEST_CR0), efer = vmread(GUEST_IA32_EFER);

	if (val >> 32 || ((val & CR0_PG) && !(val & CR0_PE)) ||
	    ((val & CR0_NW) && !(val & CR0_CD)))
		return false;
	if ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME)) {
		if (!(vmread(GUEST_CR4) & CR4_PAE))
			return false;
		efer |= EFER_LMA;
	} else if (!(val & CR0_PG) && (efer & EFER_LMA)) {
		if (vmread(GUEST_CS_AR) & AR_L)
			return false;           /* paging off from 64-bit code */
		efer &= ~EFER_LMA;
	}
	set_guest_cr0(val);
	set_guest_efer(efer);
	return true;
}

/* MOV to CR4 that set VMXE (the guest was told there is no VMX: #GP),
 * or a fixed bit (kept set underneath). */
static bool mov_to_cr4(uint64_t val)
{
	if (val & (CR4_VMXE | ~vmx_cr4_fixed1()))
		return false;
	if (!(val & CR4_PAE) && (vmread(GUEST_IA32_EFER) & EFER_LMA))
		return false;
	set_guest_cr4(val);
	return true;
}

/* Only without TRUE controls, where CR3-load exiting cannot be off. */
static bool mov_to_cr3(uint64_t val)
{
	val &= ~(1ULL << 63);                   /* PCID no-flush hint */
	if (val >> 52)
		return false;
	vmwrite(GUEST_CR3, val);
	return true;
}

static void skip_instruction(uint32_t len)
{
	clear_blocking();
	vmwrite(GUEST_RIP, vmread(GUEST_RIP) + len);
}

/* Control-register access exit (qualification: Table 27-3), emulated
 * here: the guest goes on, nothing for the generic handlers. */
static enum exit_kind cr_access(struct vcpu *v, uint64_t q, uint32_t len)
{
	unsigned int cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
	bool ok;

	if (type == 1 && cr == 3) {             /* MOV from CR3 */
		gpr_write(v, reg, vmread(GUEST_CR3));
		skip_instruction(len);
		return EXIT_KIND_NONE;
	}
	/* CR8 without a TPR shadow: it is TPR[7:4] of the local APIC page
	 * (SDM Vol. 3A, 10.8.6.1); bits above 3 are reserved (#GP). */
	if (cr == 8 && type == 1) {
		gpr_write(v, reg, v->apic_page[0x80 / 4] >> 4 & 0xf);
		skip_instruction(len);
		return EXIT_KIND_NONE;
	}
	if (cr == 8 && type == 0) {
		uint64_t val = gpr_read(v, reg);

		if (val >> 4) {
			queue_exception(13, 0);
			return EXIT_KIND_NONE;
		}
		v->apic_page[0x80 / 4] = (uint32_t)val << 4;
		skip_instruction(len);
		return EXIT_KIND_WINDOW;        /* a lower TPR may let an interrupt in */
	}
	if (type != 0)                          /* CLTS, LMSW: never trapped */
		return EXIT_KIND_UNKNOWN;
	if (cr == 0)
		ok = mov_to_cr0(gpr_read(v, reg));
	else if (cr == 3)
		ok = mov_to_cr3(gpr_read(v, reg));
	else if (cr == 4)
		ok = mov_to_cr4(gpr_read(v, reg));
	else
		return EXIT_KIND_UNKNOWN;
	if (!ok) {
		queue_exception(13, 0);
		return EXIT_KIND_NONE;
	}
	load_pdptes(v);
	skip_instruction(len);
	return EXIT_KIND_NONE;
}

/* ---------------------------------------------------------- running */

/* An exit in the middle of delivering an event to the guest (an EPT
 * violation on its IDT or stack): deliver it again at the next entry
 * (27.2.3, 26.6). The generic handler may still replace it. */
static void requeue_event(void)
{
	uint32_t info = (uint32_t)vmread(IDT_VECTORING_INFO);

	if (!(info & INTR_INFO_VALID))
		return;
	if (info & INTR_INFO_ERROR_CODE)
		vmwrite(ENTRY_EXCEPTION_ERROR, vmread(IDT_VECTORING_ERROR));
	vmwrite(ENTRY_INSTRUCTION_LEN, vmread(EXIT_INSTRUCTION_LEN));
	vmwrite(ENTRY_INTR_INFO, info & ~(1u << 12));   /* bit 12 is undefined there */
}

static bool is_vmx_instruction(uint32_t reason)
{
	switch (reason) {
	case VMX_EXIT_VMCLEAR: case VMX_EXIT_VMLAUNCH: case VMX_EXIT_VMPTRLD:
	case VMX_EXIT_VMPTRST: case VMX_EXIT_VMREAD: case VMX_EXIT_VMRESUME:
	case VMX_EXIT_VMWRITE: case VMX_EXIT_VMXOFF: case VMX_EXIT_VMXON:
	case VMX_EXIT_INVEPT: case VMX_EXIT_INVVPID: case VMX_EXIT_VMFUNC:
		return true;
	default:
		return false;
	}
}

/* The exits of one instruction that the generic handlers complete. */
static enum exit_kind instruction_kind(uint32_t reason)
{
	switch (reason) {
	case VMX_EXIT_HLT: return EXIT_KIND_HLT;
	case VMX_EXIT_VMCALL: return EXIT_KIND_HYPERCALL;
	case VMX_EXIT_CPUID: return EXIT_KIND_CPUID;
	case VMX_EXIT_RDMSR: return EXIT_KIND_RDMSR;
	case VMX_EXIT_WRMSR: return EXIT_KIND_WRMSR;
	case VMX_EXIT_IO: return EXIT_KIND_IO;
	case VMX_EXIT_XSETBV: return EXIT_KIND_XSETBV;
	case VMX_EXIT_INVD: case VMX_EXIT_WBINVD: return EXIT_KIND_NOP;
	case VMX_EXIT_PAUSE: return EXIT_KIND_PAUSE;
	default: return EXIT_KIND_UNKNOWN;
	}
}

/* I/O qualification (Table 27-5): size - 1 in 2:0, IN in 3, string in 4,
 * port in 31:16. */
static void decode_io(struct vm_exit_info *e, uint64_t q)
{
	e->io.size = (uint8_t)((q & 7) + 1);
	e->io.in = q & (1 << 3);
	e->io.string = q & (1 << 4);
	e->io.port = (uint16_t)(q >> 16);
}

static void decode_exit(struct vcpu *v, struct vm_exit_info *e)
{
	uint32_t reason = (uint32_t)vmread(EXIT_REASON), basic = reason & 0xffff;
	uint64_t q = vmread(EXIT_QUALIFICATION);
	uint32_t len = (uint32_t)vmread(EXIT_INSTRUCTION_LEN);

	e->hw_reason = reason;
	e->info1 = q;
	e->info2 = 0;
	e->rip = vmread(GUEST_RIP);
	e->next_rip = 0;
	if (reason & EXIT_REASON_ENTRY_FAILED) {        /* bad guest state (26.7) */
		e->kind = EXIT_KIND_INVALID;
		return;
	}
	e->kind = instruction_kind(basic);
	if (e->kind != EXIT_KIND_UNKNOWN) {
		e->next_rip = e->rip + len;
		if (e->kind == EXIT_KIND_IO)
			decode_io(e, q);
		if (e->kind == EXIT_KIND_RDMSR || e->kind == EXIT_KIND_WRMSR)
			e->msr = (uint32_t)v->regs.rcx;
		return;
	}
	switch (basic) {
	case VMX_EXIT_EXCEPTION_NMI:
		/* An NMI that arrived in the guest was taken by the exit, not
		 * delivered (27.1): give it to the host's own handler. */
		if (((vmread(EXIT_INTR_INFO) >> 8) & 7) == INTR_TYPE_NMI)
			__asm__ __volatile__("int $2");
		e->kind = EXIT_KIND_NONE;
		break;
	case VMX_EXIT_EXTINT:
	case VMX_EXIT_INIT:
	case VMX_EXIT_SIPI:
	case VMX_EXIT_PREEMPTION_TIMER:
		e->kind = EXIT_KIND_NONE;       /* served by the host right after */
		break;
	case VMX_EXIT_INTR_WINDOW:
	case VMX_EXIT_NMI_WINDOW:
	case VMX_EXIT_TPR_BELOW_THRESHOLD:
		e->kind = EXIT_KIND_WINDOW;
		break;
	case VMX_EXIT_DR:
		e->kind = EXIT_KIND_DR;
		break;
	case VMX_EXIT_RDPMC:
		e->kind = EXIT_KIND_GP;
		break;
	case VMX_EXIT_MONITOR:
	case VMX_EXIT_MWAIT:
	case VMX_EXIT_GETSEC:
		e->kind = EXIT_KIND_UD;
		break;
	case VMX_EXIT_TRIPLE_FAULT:
		e->kind = EXIT_KIND_SHUTDOWN;
		break;
	case VMX_EXIT_EPT_VIOLATION:            /* qualification: Table 27-7 */
		e->kind = EXIT_KIND_NPF;
		e->npf.gpa = vmread(GUEST_PHYS_ADDR);
		e->npf.write = q & (1 << 1);
		e->npf.fetch = q & (1 << 2);
		e->npf.delivering = (uint32_t)vmread(IDT_VECTORING_INFO);
		if (!(e->npf.delivering & INTR_INFO_VALID))
			e->npf.delivering = 0;
		e->info2 = e->npf.gpa;
		break;
	case VMX_EXIT_CR:
		e->kind = cr_access(v, q, len);
		break;
	case VMX_EXIT_INVALID_STATE:
		e->kind = EXIT_KIND_INVALID;
		break;
	default:
		e->kind = is_vmx_instruction(basic) ? EXIT_KIND_VIRT_INSN : EXIT_KIND_UNKNOWN;
		break;
	}
}

static void vmx_msrs_read(void)
{
	struct vmx_percpu *vc = &this_cpu()->vendor.vmx;

	vc->msrs.star = rdmsr(MSR_STAR);
	vc->msrs.lstar = rdmsr(MSR_LSTAR);
	vc->msrs.cstar = rdmsr(MSR_CSTAR);
	vc->msrs.sfmask = rdmsr(MSR_SFMASK);
	vc->msrs.kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
}

/*
 * A new VMX-on period of this CPU (after VMXON): what the CPU holds is
 * unknown again, and every VMCS's host state is stale here. Nothing the
 * host-state fields hold (CR0/CR3/CR4, EFER, GS base, TSS, GDT, IDT)
 * changes while VMX is on, so within one period a VMCS loaded again on
 * the CPU where it last ran keeps them: KVM writes them only when a vCPU
 * moves to another CPU, too.
 */
void vmx_cpu_state_reset(void)
{
	static uint64_t epochs;

	vmx_msrs_read();
	this_cpu()->vendor.vmx.host_epoch = __atomic_add_fetch(&epochs, 1, __ATOMIC_RELAXED);
}

/* WRMSR only when the CPU holds another value: a WRMSR to these costs
 * far more than the comparison, and most entries re-enter the vCPU that
 * left them (KVM's user-return MSRs do the same). */
static inline void msr_load(uint32_t msr, uint64_t *cpu_val, uint64_t val)
{
	if (*cpu_val != val) {
		wrmsr(msr, val);
		*cpu_val = val;
	}
}

/* Guest state with no VMCS field, in the CPU only while the guest runs.
 * The host never uses SYSCALL, SWAPGS or CR2 outside a page fault, so
 * their host values need no restoring. */
static void load_guest_extra(const struct vmx_vcpu *x)
{
	struct vmx_percpu *vc = &this_cpu()->vendor.vmx;

	msr_load(MSR_STAR, &vc->msrs.star, x->star);
	msr_load(MSR_LSTAR, &vc->msrs.lstar, x->lstar);
	msr_load(MSR_CSTAR, &vc->msrs.cstar, x->cstar);
	msr_load(MSR_SFMASK, &vc->msrs.sfmask, x->sfmask);
	msr_load(MSR_KERNEL_GS_BASE, &vc->msrs.kernel_gs_base, x->kernel_gs_base);
	if (read_cr2() != x->cr2)
		write_cr2(x->cr2);
}

/* The guest changes these without an exit (SWAPGS, page faults); every
 * other MSR of load_guest_extra only through an intercepted WRMSR. */
static void save_guest_extra(struct vmx_vcpu *x)
{
	x->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
	this_cpu()->vendor.vmx.msrs.kernel_gs_base = x->kernel_gs_base;
	x->cr2 = read_cr2();
}

/*
 * TLB policy (docs/cpu-state.md): guest-physical and combined mappings
 * tagged with this VM's EPTP and VPID stay valid across entries unless the
 * VM's nested mappings changed (a newer generation), the vCPU moved here
 * from another CPU, or another vCPU of the VM (same VPID, other address
 * space) entered on this CPU since. INVEPT single-context then drops the
 * EPTP's mappings for every VPID (28.3.3.1).
 */
static void tlb_policy(struct vcpu *v, unsigned int cpu)
{
	uint64_t gen = __atomic_load_n(&v->vm->tlb_gen, __ATOMIC_ACQUIRE);
	struct vcpu **owner = &this_cpu()->vendor.vmx.vpid_owner[v->vm->asid];

	if (v->last_cpu == (int)cpu && v->tlb_gen == gen && *owner == v)
		return;
	v->last_cpu = (int)cpu;
	v->tlb_gen = gen;
	*owner = v;
	invept(eptp(v));
}

/* The VMX-preemption timer: the guest leaves by the deadline (its local
 * APIC timer, the run budget) and at least every ~10 ms (timer_value()). */
static void arm_preemption_timer(uint64_t deadline)
{
	uint64_t ticks = ctl.timer;

	if (!ctl.timer)
		return;
	if (deadline) {
		uint64_t now = rdtsc();

		ticks = deadline > now ? (deadline - now) >> ctl.timer_shift : 0;
		ticks = MIN(ticks, (uint64_t)ctl.timer);
	}
	vmwrite(GUEST_PREEMPTION_TIMER, ticks);
}

/*
 * A VMCALL that hypercall_fast() completes resumes the guest from here,
 * interrupts still off: none of vmx_vcpu_enter's set-up needs doing again
 * (an interrupt pending meanwhile ends the next entry at once, through
 * external-interrupt exiting, and the ordinary path takes it).
 */
static bool fast_hypercall(struct vcpu *v)
{
	if ((uint32_t)vmread(EXIT_REASON) != VMX_EXIT_VMCALL || !hypercall_fast(v, v->regs.rax))
		return false;
	clear_blocking();
	vmwrite(GUEST_RIP, vmread(GUEST_RIP) + vmread(EXIT_INSTRUCTION_LEN));
	return true;
}

/* Debug-register and PAUSE exiting for this entry (the guest's DR7, the
 * run's sharing decide). */
static void entry_controls(struct vcpu *v)
{
	struct vmx_vcpu *x = v->block;
	uint32_t proc = x->proc & ~(CPU_MOV_DR_EXITING | CPU_PAUSE_EXITING);

	if (debugreg_enter(v, vmread(GUEST_DR7), true))
		proc |= CPU_MOV_DR_EXITING;
	/* PAUSE exits while the run shares the CPU (vcpu->yield_on_pause). */
	if (v->yield_on_pause && ctl.pause_exiting)
		proc |= CPU_PAUSE_EXITING;
	if (proc != x->proc) {
		x->proc = proc;
		vmwrite(PROC_CONTROLS, proc);
	}
}

/* Everything an entry needs but VMLAUNCH/VMRESUME, interrupts off, the
 * vCPU's VMCS current: CR2/KERNEL_GS_BASE and the debug registers hold the
 * guest's values from here to the exit. */
static void enter_prepare(struct vcpu *v, uint64_t deadline)
{
	tlb_policy(v, this_cpu_id());
	entry_controls(v);
	arm_preemption_timer(deadline);
	load_guest_extra(v->block);
	guest_switch_in(v);
}

static void exit_finish(struct vcpu *v, bool failed, struct vm_exit_info *exit)
{
	struct vmx_vcpu *x = v->block;

	guest_switch_out(v, true);
	save_guest_extra(x);
	if (failed) {
		/* VMfail (30.2): nothing of the guest ran. */
		memset(exit, 0, sizeof(*exit));
		exit->kind = EXIT_KIND_INVALID;
		exit->hw_reason = ~0ULL;
		exit->info2 = vmread(VM_INSTRUCTION_ERROR);
	} else {
		x->launched = true;
		requeue_event();
		decode_exit(v, exit);
	}
}

void vmx_vcpu_enter(struct vcpu *v, struct vm_exit_info *exit, uint64_t deadline)
{
	struct vmx_vcpu *x = v->block;
	bool failed;

	__asm__ __volatile__("cli" ::: "memory");
	if (this_cpu()->vendor.vmx.current != v)        /* virtualization was off and on again */
		vmx_vcpu_load(v);
	enter_prepare(v, deadline);
	while (!(failed = vmx_launch(&v->regs, x->launched)) && fast_hypercall(v))
		x->launched = true;
	exit_finish(v, failed, exit);
	/* A VM exit clears RFLAGS.IF (27.5.3): take the interrupt that ended
	 * the run, as svm_vcpu_enter does after STGI. */
	__asm__ __volatile__("sti; nop; cli" ::: "memory");
}

/*
 * HC_RUN on the fast path (hv/vcpu_run.c), as svm_run_child_fast: the root
 * has just exited, interrupts off; the caller made the child's VMCS current
 * (vmx_vcpu_load: VMPTRLD, this CPU's host state) to set up its entry. The
 * root's guest-side state goes out, the child is entered once, its exit
 * goes to exit_child_fast while its VMCS is still current (the record's
 * next RIP is a VMWRITE, not a reload), its VMCS is cleared again
 * (VMCLEAR: the child may run elsewhere next), and the root's
 * VMCS is current again, still launched (VMPTRLD does not change a VMCS's
 * launch state, SDM 24.11.3), with its guest-side state back. An external
 * interrupt that arrives ends the child's run (external-interrupt exiting)
 * and stays pending.
 */
bool vmx_run_child_fast(struct vcpu *root, struct vcpu *v, struct vm_exit_info *exit,
			uint64_t deadline)
{
	struct vmx_vcpu *x = v->block;
	bool done;

	guest_switch_out(root, true);
	save_guest_extra(root->block);
	fpu_switch(root->fpu, v->fpu);
	enter_prepare(v, deadline);     /* v's VMCS current: the core loaded it */
	exit_finish(v, vmx_launch(&v->regs, x->launched), exit);
	done = exit_child_fast(v, exit);
	vmx_vcpu_put(v);
	fpu_switch(v->fpu, root->fpu);
	entry_controls(root);
	load_guest_extra(root->block);
	guest_switch_in(root);
	return done;
}
