/*
 * What happens on each kind of VM exit, for root and child VMs alike; one
 * handler per kind, chosen by table. The default dumps the exit and stops
 * the guest, never the hypervisor.
 */
#include "hv/vm.h"
#include "hv/errno.h"
#include "hv/exits.h"
#include "hv/guest_mem.h"
#include "hv/hypercall.h"
#include "hv/printk.h"
#include "hv/string.h"
#include "hv/virt_init.h"

#define X86_CPUID_VMX   (1U << 5)       /* leaf 1 ECX */
#define X86_CPUID_HV    (1U << 31)      /* leaf 1 ECX: running under a hypervisor */
#define X86_CPUID_SVM   (1U << 2)       /* leaf 0x80000001 ECX */

static struct hv_exit *exit_record(struct vcpu *v)
{
	return (struct hv_exit *)v->exit_page;  /* root memory, identity-mapped */
}

static void advance(struct vcpu *v, const struct vm_exit_info *e)
{
	virt_ops->set_rip(v, e->next_rip);
}

static enum exit_action to_root(struct vcpu *v, const struct vm_exit_info *e, uint32_t reason)
{
	struct hv_exit *rec = exit_record(v);

	memset(rec, 0, sizeof(*rec));
	rec->reason = reason;
	rec->rip = e->rip;
	return EXIT_TO_ROOT;
}

static enum exit_action handle_none(struct vcpu *v, const struct vm_exit_info *e)
{
	return EXIT_RESUME;
}

static enum exit_action handle_io(struct vcpu *v, const struct vm_exit_info *e)
{
	struct hv_exit *rec;

	if (v->vm->is_root || e->io.string) {
		/* The root owns its ports (no intercept); string I/O in a child is
		 * not emulated: say so rather than guess. */
		pr_err("vm: %s I/O exit at RIP 0x%lx (port 0x%x) not handled\n",
		       e->io.string ? "string" : "root", e->rip, e->io.port);
		return handle_unknown(v, e);
	}
	to_root(v, e, HV_EXIT_IO);
	rec = exit_record(v);
	rec->io.port = e->io.port;
	rec->io.size = e->io.size;
	rec->io.out = !e->io.in;
	if (!e->io.in) {
		struct hv_regs r;

		virt_ops->get_regs(v, &r);
		rec->io.data = r.rax & (e->io.size == 4 ? 0xffffffffULL : (1ULL << (8 * e->io.size)) - 1);
		advance(v, e);
	} else {
		v->pending = PENDING_IN;        /* the root supplies the data */
		v->pending_size = e->io.size;
		v->pending_next_rip = e->next_rip;
	}
	return EXIT_TO_ROOT;
}

static enum exit_action handle_npf(struct vcpu *v, const struct vm_exit_info *e)
{
	if (v->vm->is_root) {
		pr_err("vm: root touched guest-physical 0x%lx (%s) outside its memory at RIP 0x%lx\n",
		       e->npf.gpa, e->npf.write ? "write" : "read", e->rip);
		return EXIT_STOP;
	}
	to_root(v, e, HV_EXIT_MMIO);
	exit_record(v)->mmio.gpa = e->npf.gpa;
	exit_record(v)->mmio.write = e->npf.write;
	return EXIT_TO_ROOT;
}

static enum exit_action handle_hlt(struct vcpu *v, const struct vm_exit_info *e)
{
	advance(v, e);
	if (v->vm->is_root) {
		root_idle();                    /* until the next interrupt */
		return EXIT_RESUME;
	}
	return to_root(v, e, HV_EXIT_HLT);
}

static enum exit_action handle_hypercall(struct vcpu *v, const struct vm_exit_info *e)
{
	struct hv_regs r;
	struct hypercall_regs h;

	virt_ops->get_regs(v, &r);
	h = (struct hypercall_regs){ r.rax, { r.rbx, r.rcx, r.rdx, r.rsi }, v };
	advance(v, e);
	__atomic_fetch_add(&hypercall_count, 1, __ATOMIC_RELAXED);
	if (!v->vm->is_root && h.nr >= HC_USER_BASE) {
		struct hv_exit *rec;

		to_root(v, e, HV_EXIT_HYPERCALL);
		rec = exit_record(v);
		rec->hypercall.nr = h.nr;
		memcpy(rec->hypercall.args, h.arg, sizeof(h.arg));
		v->pending = PENDING_HYPERCALL;
		return EXIT_TO_ROOT;
	}
	virt_ops->get_regs(v, &r);              /* HC_RUN may have run other vCPUs */
	r.rax = (uint64_t)hypercall_dispatch(&h);
	virt_ops->set_regs(v, &r);
	return EXIT_RESUME;
}

static enum exit_action handle_cpuid(struct vcpu *v, const struct vm_exit_info *e)
{
	struct hv_regs r;
	uint32_t leaf, a, b, c, d;

	virt_ops->get_regs(v, &r);
	leaf = (uint32_t)r.rax;
	if (leaf == HV_CPUID_SIGNATURE) {
		a = HV_CPUID_FEATURES;
		b = HV_SIGNATURE_EBX;
		c = HV_SIGNATURE_ECX;
		d = HV_SIGNATURE_EDX;
	} else if (leaf == HV_CPUID_FEATURES) {
		a = HV_API_VERSION;
		b = c = d = 0;
	} else if (leaf > HV_CPUID_SIGNATURE && leaf < 0x40000100) {
		a = b = c = d = 0;
	} else {
		__asm__ __volatile__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
				     : "a"(leaf), "c"((uint32_t)r.rcx));
		if (leaf == 1)
			c = (c & ~X86_CPUID_VMX) | X86_CPUID_HV;
		if (leaf == 0x80000001)
			c &= ~X86_CPUID_SVM;
		if (leaf == 0x8000000a)
			a = b = c = d = 0;
	}
	r.rax = a;
	r.rbx = b;
	r.rcx = c;
	r.rdx = d;
	virt_ops->set_regs(v, &r);
	advance(v, e);
	return EXIT_RESUME;
}

/* MSRs a guest may read; everything else not kept in the control block
 * raises #GP in the guest. */
static bool msr_allowed_read(uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case 0x10:                              /* TSC */
		*val = __builtin_ia32_rdtsc();
		return true;
	case 0x1b:                              /* APIC base: no local APIC offered */
	case 0x8b:                              /* microcode revision */
	case 0xfe:                              /* MTRR capabilities: none */
	case 0x2ff:                             /* MTRR default type */
		*val = msr == 0x2ff ? 0x806 : 0;
		return true;
	default:
		return false;
	}
}

static enum exit_action handle_msr(struct vcpu *v, const struct vm_exit_info *e)
{
	struct hv_regs r;
	uint64_t val = 0;

	virt_ops->get_regs(v, &r);
	if (e->kind == EXIT_KIND_RDMSR) {
		if (virt_ops->msr_read(v, e->msr, &val) && !msr_allowed_read(e->msr, &val))
			goto gp;
		r.rax = (uint32_t)val;
		r.rdx = val >> 32;
		virt_ops->set_regs(v, &r);
	} else {
		val = (r.rdx << 32) | (uint32_t)r.rax;
		if (virt_ops->msr_write(v, e->msr, val))
			goto gp;
	}
	advance(v, e);
	return EXIT_RESUME;
gp:
	virt_ops->inject_exception(v, 13, true, 0);
	return EXIT_RESUME;
}

static enum exit_action handle_shutdown(struct vcpu *v, const struct vm_exit_info *e)
{
	v->vm->dead = true;
	if (v->vm->is_root) {
		pr_err("vm: the root partition triple-faulted at RIP 0x%lx; it is stopped\n", e->rip);
		return EXIT_STOP;
	}
	return to_root(v, e, HV_EXIT_SHUTDOWN);
}

/* VMX and SVM instructions in a guest: nested virtualization is not offered. */
static enum exit_action handle_virt_insn(struct vcpu *v, const struct vm_exit_info *e)
{
	virt_ops->inject_exception(v, 6, false, 0);
	return EXIT_RESUME;
}

enum exit_action handle_unknown(struct vcpu *v, const struct vm_exit_info *e)
{
	pr_err("vm: unhandled exit 0x%lx (info 0x%lx 0x%lx) at RIP 0x%lx in %s VM\n",
	       e->hw_reason, e->info1, e->info2, e->rip, v->vm->is_root ? "the root" : "a child");
	if (v->vm->is_root)
		return EXIT_STOP;
	to_root(v, e, HV_EXIT_INTERNAL);
	exit_record(v)->internal.hw_reason = e->hw_reason;
	exit_record(v)->internal.info1 = e->info1;
	exit_record(v)->internal.info2 = e->info2;
	v->vm->dead = true;
	return EXIT_TO_ROOT;
}

static enum exit_action (*const handlers[EXIT_KIND_COUNT])(struct vcpu *,
							   const struct vm_exit_info *) = {
	[EXIT_KIND_NONE] = handle_none,
	[EXIT_KIND_IO] = handle_io,
	[EXIT_KIND_NPF] = handle_npf,
	[EXIT_KIND_HLT] = handle_hlt,
	[EXIT_KIND_HYPERCALL] = handle_hypercall,
	[EXIT_KIND_CPUID] = handle_cpuid,
	[EXIT_KIND_RDMSR] = handle_msr,
	[EXIT_KIND_WRMSR] = handle_msr,
	[EXIT_KIND_SHUTDOWN] = handle_shutdown,
	[EXIT_KIND_VIRT_INSN] = handle_virt_insn,
	[EXIT_KIND_INVALID] = handle_unknown,
	[EXIT_KIND_UNKNOWN] = handle_unknown,
};

enum exit_action exit_dispatch(struct vcpu *v, const struct vm_exit_info *e)
{
	v->exits++;
	v->vm->exits++;
	__atomic_fetch_add(&exit_count, 1, __ATOMIC_RELAXED);
	if ((unsigned int)e->kind >= EXIT_KIND_COUNT || !handlers[e->kind])
		return handle_unknown(v, e);
	return handlers[e->kind](v, e);
}
