/*
 * VMX guests: the VMCS of each vCPU, EPT, VMLAUNCH and the translation of
 * exit reasons into generic exits (SDM Vol. 3C, ch. 24-28).
 *
 * A VMCS is current on a CPU only inside one operation (an entry, a
 * register access): it is loaded with VMPTRLD and flushed with VMCLEAR
 * each time, so a vCPU can run on whichever CPU its caller is on, and
 * every entry is a VMLAUNCH.
 */
#include <x86/cpu.h>
#include <x86/desc.h>
#include <x86/extable.h>
#include <x86/percpu.h>
#include "hv/errno.h"
#include "hv/gpt.h"
#include "hv/irqflags.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"
#include "hv/string.h"
#include "hv/virt.h"
#include "hv/vm.h"
#include "vmcs.h"
#include "vmx.h"

int vmx_launch(struct hv_regs *regs);
extern const char vmx_exit[];

static uint8_t *msr_bitmap;             /* all ones: every MSR access exits */
static uint32_t pin_ctl, proc_ctl, proc2_ctl, exit_ctl, entry_ctl;

/* ---------------------------------------------------------- VMX instructions */

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

static int vmcs_load(struct vcpu *v)
{
	uint64_t pa = (uint64_t)v->block;
	uint8_t fail;

	__asm__ __volatile__("vmptrld %1; setbe %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return fail ? -EIO : 0;
}

static void vmcs_clear(struct vcpu *v)
{
	uint64_t pa = (uint64_t)v->block;

	__asm__ __volatile__("vmclear %0" :: "m"(pa) : "cc", "memory");
}

/* ---------------------------------------------------------- EPT */

#define EPT_R   (1ULL << 0)
#define EPT_W   (1ULL << 1)
#define EPT_X   (1ULL << 2)
#define EPT_WB  (6ULL << 3)
#define EPT_LARGE (1ULL << 7)

static uint64_t ept_leaf(uint64_t hpa, unsigned int level, unsigned int flags)
{
	return hpa | EPT_R | (flags & GPT_WRITE ? EPT_W : 0) | (flags & GPT_EXEC ? EPT_X : 0) |
	       EPT_WB | (level ? EPT_LARGE : 0);
}

static uint64_t ept_table(uint64_t hpa)
{
	return hpa | EPT_R | EPT_W | EPT_X;
}

static bool ept_present(uint64_t e) { return e & (EPT_R | EPT_W | EPT_X); }
static bool ept_large(uint64_t e) { return e & EPT_LARGE; }

struct gpt_format ept_format = {
	.leaf = ept_leaf, .table = ept_table, .present = ept_present, .large = ept_large,
	.max_leaf_level = 1,
};

static void invept_all(void)
{
	struct { uint64_t eptp, zero; } desc = { 0, 0 };

	__asm__ __volatile__("invept %0, %1" :: "m"(desc), "r"(2ULL) : "cc", "memory");
}

/* ---------------------------------------------------------- setup */

/* Controls: what we want, within what the CPU allows (allowed-0 bits must
 * be 1, allowed-1 bits may be 1: SDM Vol. 3D, A.3-A.5). */
static uint32_t adjust(uint32_t want, uint64_t cap)
{
	return (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

int vmx_guest_setup(const uint64_t *caps, bool true_ctls)
{
	uint64_t ept_cap = caps[11];

	msr_bitmap = page_alloc(0);
	if (!msr_bitmap)
		return ERR(-ENOMEM);
	memset(msr_bitmap, 0xff, PAGE_SIZE);
	/* External interrupts and NMIs end the guest's run (the host serves
	 * them); HLT exits; MSR accesses through the bitmap; secondary set. */
	pin_ctl = adjust((1u << 0) | (1u << 3), caps[true_ctls ? 12 : 1]);
	proc_ctl = adjust((1u << 7) | (1u << 28) | (1u << 31), caps[true_ctls ? 13 : 2]);
	/* CR3 load/store exiting are default-1 without TRUE controls. */
	proc2_ctl = adjust((1u << 1) | (1u << 7), caps[10]);          /* EPT, unrestricted */
	exit_ctl = adjust((1u << 9) | (1u << 20) | (1u << 21), caps[true_ctls ? 14 : 3]);
	entry_ctl = adjust(1u << 15, caps[true_ctls ? 15 : 4]);
	if (ept_cap & (1ULL << 16))
		ept_format.max_leaf_level = (ept_cap & (1ULL << 17)) ? 2 : 1;
	else
		ept_format.max_leaf_level = 0;
	return 0;
}

void vmx_guest_unsetup(void)
{
	page_free(msr_bitmap, 0);
	msr_bitmap = NULL;
}

/* The VMCB-style attribute word of the ABI -> VMX access rights. */
static uint32_t ar_from_attrib(uint16_t a)
{
	if (!(a & 0x80))
		return 1u << 16;                        /* not present: unusable */
	return (a & 0xffu) | ((uint32_t)(a & 0xf00) << 4);
}

static uint16_t attrib_from_ar(uint32_t ar)
{
	if (ar & (1u << 16))
		return 0;
	return (uint16_t)((ar & 0xff) | ((ar >> 4) & 0xf00));
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

/* Write the whole segment and control register state (VMCS current). */
static void write_sregs(const struct hv_sregs *s)
{
	const struct hv_segment *segs[8] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldtr,
	};

	for (int i = 0; i < 8; i++) {
		vmwrite(seg_fields[i].sel, segs[i]->selector);
		vmwrite(seg_fields[i].limit, segs[i]->limit);
		vmwrite(seg_fields[i].ar, ar_from_attrib(segs[i]->attrib));
		vmwrite(seg_fields[i].base, segs[i]->base);
	}
	vmwrite(GUEST_GDTR_BASE, s->gdt.base);
	vmwrite(GUEST_GDTR_LIMIT, s->gdt.limit);
	vmwrite(GUEST_IDTR_BASE, s->idt.base);
	vmwrite(GUEST_IDTR_LIMIT, s->idt.limit);
	/*
	 * The guest owns CR0/CR4 (no masks), but VMX operation fixes some bits
	 * (SDM 23.8): CR0.NE and CR4.VMXE must be 1. Unrestricted guest lets
	 * PE and PG be 0. CR4's read shadow hides VMXE from the guest.
	 */
	vmwrite(GUEST_CR0, (s->cr0 | vmx_cr0_fixed0()) & vmx_cr0_fixed1());
	vmwrite(GUEST_CR3, s->cr3);
	vmwrite(GUEST_CR4, (s->cr4 | vmx_cr4_fixed0()) & vmx_cr4_fixed1());
	vmwrite(CR4_MASK, CR4_VMXE);
	vmwrite(CR4_SHADOW, s->cr4);
	vmwrite(GUEST_IA32_EFER, s->efer);
	/* IA-32e mode guest must match EFER.LMA (SDM 26.3.1.1). */
	vmwrite(ENTRY_CONTROLS, s->efer & EFER_LMA ? entry_ctl | (1u << 9) : entry_ctl & ~(1u << 9));
}

static void read_sregs(struct hv_sregs *s)
{
	struct hv_segment *segs[8] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldtr,
	};

	for (int i = 0; i < 8; i++) {
		segs[i]->selector = (uint16_t)vmread(seg_fields[i].sel);
		segs[i]->limit = (uint32_t)vmread(seg_fields[i].limit);
		segs[i]->attrib = attrib_from_ar((uint32_t)vmread(seg_fields[i].ar));
		segs[i]->base = vmread(seg_fields[i].base);
	}
	s->gdt = (struct hv_dtable){ vmread(GUEST_GDTR_BASE), (uint32_t)vmread(GUEST_GDTR_LIMIT), 0 };
	s->idt = (struct hv_dtable){ vmread(GUEST_IDTR_BASE), (uint32_t)vmread(GUEST_IDTR_LIMIT), 0 };
	s->cr0 = vmread(GUEST_CR0);
	s->cr2 = 0;                     /* not in the VMCS; not tracked */
	s->cr3 = vmread(GUEST_CR3);
	s->cr4 = vmread(CR4_SHADOW);
	s->efer = vmread(GUEST_IA32_EFER);
}

int vmx_vcpu_setup(struct vcpu *v)
{
	struct hv_sregs s = { 0 };
	unsigned long flags = local_irq_save();
	uint32_t revision = (uint32_t)vmx_revision();
	int r;

	memset(v->block, 0, PAGE_SIZE);
	memcpy(v->block, &revision, sizeof(revision));
	vmcs_clear(v);
	if ((r = vmcs_load(v))) {
		local_irq_restore(flags);
		return r;
	}
	vmwrite(PIN_CONTROLS, pin_ctl);
	/* A child's I/O goes to the root (unconditional I/O exiting); the root
	 * keeps its own ports. */
	vmwrite(PROC_CONTROLS, v->vm->is_root ? proc_ctl : proc_ctl | (1u << 24));
	vmwrite(PROC2_CONTROLS, proc2_ctl);
	vmwrite(EXIT_CONTROLS, exit_ctl);
	vmwrite(ENTRY_CONTROLS, entry_ctl);
	vmwrite(EXCEPTION_BITMAP, 0);
	vmwrite(CR3_TARGET_COUNT, 0);
	vmwrite(EXIT_MSR_STORE_COUNT, 0);
	vmwrite(EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(ENTRY_INTR_INFO, 0);
	vmwrite(MSR_BITMAP, (uint64_t)msr_bitmap);
	vmwrite(EPT_POINTER, (uint64_t)v->vm->gpt.root | (3 << 3) | 6);
	vmwrite(CR0_MASK, 0);
	vmwrite(CR0_SHADOW, 0);
	vmwrite(VMCS_LINK_POINTER, ~0ULL);

	/* Host state that is the same on every CPU (the rest is per entry). */
	vmwrite(HOST_CR0, read_cr0());
	vmwrite(HOST_CR3, read_cr3());
	vmwrite(HOST_CR4, read_cr4());
	vmwrite(HOST_CS_SEL, GDT_KCODE);
	vmwrite(HOST_SS_SEL, GDT_KDATA);
	vmwrite(HOST_DS_SEL, GDT_KDATA);
	vmwrite(HOST_ES_SEL, GDT_KDATA);
	vmwrite(HOST_FS_SEL, 0);
	vmwrite(HOST_GS_SEL, 0);
	vmwrite(HOST_TR_SEL, GDT_TSS);
	vmwrite(HOST_FS_BASE, 0);
	vmwrite(HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmwrite(HOST_SYSENTER_CS, 0);
	vmwrite(HOST_SYSENTER_ESP, 0);
	vmwrite(HOST_SYSENTER_EIP, 0);
	vmwrite(HOST_RIP, (uint64_t)vmx_exit);

	/* Reset state: real mode at 0, like a CPU after INIT, until set_sregs. */
	s.cs = (struct hv_segment){ 0, 0xffff, 0, 0x9b };
	s.ds = s.es = s.fs = s.gs = s.ss = (struct hv_segment){ 0, 0xffff, 0, 0x93 };
	s.tr = (struct hv_segment){ 0, 0xffff, 0, 0x8b };
	s.ldtr = (struct hv_segment){ 0, 0xffff, 0, 0x82 };
	s.gdt.limit = s.idt.limit = 0xffff;
	s.cr0 = 0x10;
	write_sregs(&s);
	vmwrite(GUEST_DR7, 0x400);
	vmwrite(GUEST_RFLAGS, 0x2);
	vmwrite(GUEST_RSP, 0);
	vmwrite(GUEST_RIP, 0);
	vmwrite(GUEST_INTERRUPTIBILITY, 0);
	vmwrite(GUEST_ACTIVITY, 0);
	vmwrite(GUEST_PENDING_DBG, 0);
	vmwrite(GUEST_SYSENTER_CS, 0);
	vmwrite(GUEST_SYSENTER_ESP, 0);
	vmwrite(GUEST_SYSENTER_EIP, 0);
	vmcs_clear(v);
	local_irq_restore(flags);
	return 0;
}

void vmx_vcpu_teardown(struct vcpu *v)
{
}

/* ---------------------------------------------------------- accessors */

/* Run body with v's VMCS current on this CPU, then flush it again. */
#define WITH_VMCS(v, body)                                      \
	do {                                                    \
		unsigned long f_ = local_irq_save();            \
		if (!vmcs_load(v)) {                            \
			body;                                   \
			vmcs_clear(v);                          \
		}                                               \
		local_irq_restore(f_);                          \
	} while (0)

void vmx_get_regs(struct vcpu *v, struct hv_regs *r)
{
	*r = v->regs;
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
		vmwrite(GUEST_RSP, r->rsp);
		vmwrite(GUEST_RIP, r->rip);
		vmwrite(GUEST_RFLAGS, r->rflags | 0x2);
	});
}

void vmx_get_sregs(struct vcpu *v, struct hv_sregs *s)
{
	WITH_VMCS(v, read_sregs(s));
}

void vmx_set_sregs(struct vcpu *v, const struct hv_sregs *s)
{
	WITH_VMCS(v, write_sregs(s));
}

void vmx_set_rip(struct vcpu *v, uint64_t rip)
{
	WITH_VMCS(v, vmwrite(GUEST_RIP, rip));
}

void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	/* VM-entry interruption information: vector, type 3 (hardware
	 * exception), deliver error code, valid (SDM 24.8.3). */
	WITH_VMCS(v, {
		vmwrite(ENTRY_INTR_INFO, vector | (3u << 8) | (has_error ? 1u << 11 : 0) | (1u << 31));
		vmwrite(ENTRY_EXCEPTION_ERROR, error);
	});
}

static const struct { uint32_t msr, field; } vmcs_msrs[] = {
	{ MSR_FS_BASE, GUEST_FS_BASE }, { MSR_GS_BASE, GUEST_GS_BASE },
	{ 0x174, GUEST_SYSENTER_CS }, { 0x175, GUEST_SYSENTER_ESP }, { 0x176, GUEST_SYSENTER_EIP },
};

int vmx_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	int r = -ENOENT;

	if (msr == MSR_EFER) {
		WITH_VMCS(v, *val = vmread(GUEST_IA32_EFER));
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(vmcs_msrs); i++)
		if (vmcs_msrs[i].msr == msr) {
			WITH_VMCS(v, *val = vmread(vmcs_msrs[i].field));
			r = 0;
		}
	return r;
}

int vmx_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	int r = -ENOENT;

	if (msr == MSR_EFER) {
		uint64_t allowed = EFER_SCE | EFER_LME | EFER_NXE;

		if (val & ~(allowed | EFER_LMA))
			return -EINVAL;
		WITH_VMCS(v, vmwrite(GUEST_IA32_EFER,
				     (vmread(GUEST_IA32_EFER) & EFER_LMA) | (val & allowed)));
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(vmcs_msrs); i++)
		if (vmcs_msrs[i].msr == msr) {
			WITH_VMCS(v, vmwrite(vmcs_msrs[i].field, val));
			r = 0;
		}
	return r;
}

/* ---------------------------------------------------------- running */

static void decode_exit(struct vcpu *v, struct vm_exit_info *e)
{
	uint32_t reason = (uint32_t)vmread(EXIT_REASON);
	uint64_t q = vmread(EXIT_QUALIFICATION);
	uint32_t len = (uint32_t)vmread(EXIT_INSTRUCTION_LEN);

	memset(e, 0, sizeof(*e));
	e->hw_reason = reason;
	e->info1 = q;
	e->rip = vmread(GUEST_RIP);
	e->next_rip = e->rip + len;
	if (reason & (1u << 31)) {              /* VM entry failed */
		e->kind = EXIT_KIND_INVALID;
		e->info2 = vmread(VM_INSTRUCTION_ERROR);
		return;
	}
	switch (reason & 0xffff) {
	case VMX_EXIT_EXCEPTION_NMI:
		/* An NMI that arrived in the guest was taken by the exit, not
		 * delivered: give it to the host's own handler (panic stop). */
		if (((vmread(EXIT_INTR_INFO) >> 8) & 7) == 2)
			__asm__ __volatile__("int $2");
		e->kind = EXIT_KIND_NONE;
		break;
	case VMX_EXIT_EXTINT:
	case VMX_EXIT_INIT:
	case VMX_EXIT_SIPI:
		e->kind = EXIT_KIND_NONE;
		break;
	case VMX_EXIT_TRIPLE_FAULT:
		e->kind = EXIT_KIND_SHUTDOWN;
		break;
	case VMX_EXIT_HLT:
		e->kind = EXIT_KIND_HLT;
		break;
	case VMX_EXIT_VMCALL:
		e->kind = EXIT_KIND_HYPERCALL;
		break;
	case VMX_EXIT_CPUID:
		e->kind = EXIT_KIND_CPUID;
		break;
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
		e->kind = (reason & 0xffff) == VMX_EXIT_RDMSR ? EXIT_KIND_RDMSR : EXIT_KIND_WRMSR;
		e->msr = (uint32_t)v->regs.rcx;
		break;
	case VMX_EXIT_IO:
		/* Qualification (SDM Table 27-5): size-1 in 2:0, IN in 3, string
		 * in 4, port in 31:16. */
		e->kind = EXIT_KIND_IO;
		e->io.size = (uint8_t)((q & 7) + 1);
		e->io.in = q & (1 << 3);
		e->io.string = q & (1 << 4);
		e->io.port = (uint16_t)(q >> 16);
		break;
	case VMX_EXIT_EPT_VIOLATION:
		e->kind = EXIT_KIND_NPF;
		e->npf.gpa = vmread(GUEST_PHYS_ADDR);
		e->npf.write = q & (1 << 1);
		e->npf.fetch = q & (1 << 2);
		e->info2 = e->npf.gpa;
		break;
	case VMX_EXIT_VMCLEAR: case VMX_EXIT_VMLAUNCH: case VMX_EXIT_VMPTRLD:
	case VMX_EXIT_VMPTRST: case VMX_EXIT_VMREAD: case VMX_EXIT_VMRESUME:
	case VMX_EXIT_VMWRITE: case VMX_EXIT_VMXOFF: case VMX_EXIT_VMXON:
	case VMX_EXIT_INVEPT: case VMX_EXIT_INVVPID: case VMX_EXIT_VMFUNC:
		e->kind = EXIT_KIND_VIRT_INSN;
		break;
	case VMX_EXIT_INVALID_STATE:
		e->kind = EXIT_KIND_INVALID;
		break;
	default:
		e->kind = EXIT_KIND_UNKNOWN;
		break;
	}
}

void vmx_vcpu_enter(struct vcpu *v, struct vm_exit_info *exit)
{
	struct percpu *pc = this_cpu();
	struct desc_ptr gdtr, idtr;
	int failed;

	__asm__ __volatile__("cli" ::: "memory");
	if (vmcs_load(v)) {
		memset(exit, 0, sizeof(*exit));
		exit->kind = EXIT_KIND_INVALID;
		__asm__ __volatile__("sti; nop; cli" ::: "memory");
		return;
	}
	__asm__ __volatile__("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	vmwrite(HOST_GS_BASE, (uint64_t)pc);
	vmwrite(HOST_TR_BASE, (uint64_t)&pc->tss);
	vmwrite(HOST_GDTR_BASE, gdtr.base);
	vmwrite(HOST_IDTR_BASE, idtr.base);
	invept_all();                   /* regions may have changed since */
	failed = vmx_launch(&v->regs);
	if (failed) {
		memset(exit, 0, sizeof(*exit));
		exit->kind = EXIT_KIND_INVALID;
		exit->hw_reason = ~0ULL;
		exit->info2 = vmread(VM_INSTRUCTION_ERROR);
	} else {
		decode_exit(v, exit);
	}
	vmcs_clear(v);
	/* A VM exit clears RFLAGS.IF: take the interrupt that ended the run. */
	__asm__ __volatile__("sti; nop; cli" ::: "memory");
}
