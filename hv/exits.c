/*
 * What happens on each kind of VM exit, for root and child VMs alike; one
 * handler per kind, chosen by table. The default dumps the exit and stops
 * the guest, never the hypervisor. docs/cpu-state.md lists what each
 * instruction a guest may execute does here.
 */
#include "hv/vm.h"
#include "hv/cpuid.h"
#include "hv/emulate.h"
#include "hv/errno.h"
#include "hv/events.h"
#include "hv/exits.h"
#include "hv/guest_mem.h"
#include "hv/hypercall.h"
#include "hv/msr.h"
#include "hv/printk.h"
#include "hv/string.h"
#include "hv/virt_init.h"
#include <x86/debugreg.h>
#include <x86/fpu.h>
#include <x86/percpu.h>

#define CR4_OSXSAVE     (1ULL << 18)

struct hv_exit *exit_to_root(struct vcpu *v, uint32_t reason, uint64_t rip)
{
	struct hv_exit *rec = (struct hv_exit *)v->exit_page;  /* root memory, identity-mapped */
	typedef uint64_t __attribute__((may_alias)) word;
	word *w = (word *)rec;

	/* Eight eight-byte stores, not a string instruction (GCC makes the
	 * struct assignment a REP STOS): every child exit the root sees
	 * writes one. */
	BUILD_BUG_ON(sizeof(*rec) != 8 * sizeof(word));
	w[0] = reason;                  /* flags 0 */
	w[1] = rip;
	w[2] = w[3] = w[4] = w[5] = w[6] = w[7] = 0;
	v->vm->stat[HV_STAT_TO_ROOT]++;
	return rec;
}

static void advance(struct vcpu *v, const struct vm_exit_info *e)
{
	virt_ops->set_rip(v, e->next_rip);
}

static enum exit_action handle_none(struct vcpu *v, const struct vm_exit_info *e)
{
	return EXIT_RESUME;
}

/* A child's port I/O exit with nothing to emulate: the root gets the
 * record; an OUT's data is in it (the child moves on), an IN's waits for
 * the root's answer (finish_pending in vcpu_run.c). */
static __always_inline void io_to_root(struct vcpu *v, const struct vm_exit_info *e)
{
	struct hv_exit *rec = exit_to_root(v, HV_EXIT_IO, e->rip);

	rec->io.port = e->io.port;
	rec->io.size = e->io.size;
	rec->io.out = !e->io.in;
	if (!e->io.in) {
		rec->io.data = v->regs.rax &
			       (e->io.size == 4 ? 0xffffffffULL : (1ULL << (8 * e->io.size)) - 1);
		advance(v, e);
	} else {
		v->pending = PENDING_IN;        /* the root supplies the data */
		v->pending_size = e->io.size;
		v->pending_next_rip = e->next_rip;
	}
}

static enum exit_action handle_io(struct vcpu *v, const struct vm_exit_info *e)
{
	if (v->vm->is_root) {
		/* The root owns its ports: no intercept, no exit. */
		pr_err("vm: root I/O exit at RIP 0x%lx (port 0x%x) not handled\n", e->rip, e->io.port);
		return handle_unknown(v, e);
	}
	if (e->io.string)
		return emulate_string_io(v, e);
	io_to_root(v, e);
	return EXIT_TO_ROOT;
}

static enum exit_action handle_npf(struct vcpu *v, const struct vm_exit_info *e)
{
	struct hv_exit *rec;

	if (v->vm->is_root) {
		pr_err("vm: root touched guest-physical 0x%lx (%s) outside its memory at RIP 0x%lx\n",
		       e->npf.gpa, e->npf.write ? "write" : "read", e->rip);
		return EXIT_STOP;
	}
	/*
	 * The CPU's own access while delivering an event (reading the IDT,
	 * pushing the frame) hit no memory: there is no instruction to
	 * emulate, and the root cannot supply what the CPU wanted. The VM
	 * ends with the event and the address (KVM's internal error
	 * KVM_INTERNAL_ERROR_DELIVERY_EV for the same case), rather than
	 * the instruction at RIP being emulated as if it had made the access.
	 */
	if (e->npf.delivering) {
		pr_warn("vm %u: delivering event 0x%x the CPU touched guest-physical 0x%lx outside the VM's memory: the VM is stopped\n",
			v->vm->id, e->npf.delivering, e->npf.gpa);
		rec = exit_to_root(v, HV_EXIT_INTERNAL, e->rip);
		rec->internal.suberror = HV_INTERNAL_DELIVERY;
		rec->internal.hw_reason = e->hw_reason;
		rec->internal.info1 = e->npf.delivering;
		rec->internal.info2 = e->npf.gpa;
		v->vm->dead = true;
		return EXIT_TO_ROOT;
	}
	if (e->npf.fetch) {                     /* executing from a hole: nothing to emulate */
		rec = exit_to_root(v, HV_EXIT_MMIO, e->rip);
		rec->mmio.gpa = e->npf.gpa;
		return EXIT_TO_ROOT;
	}
	return emulate_mmio(v, e);
}

struct hv_exit *exit_to_root_hlt(struct vcpu *v, uint64_t rip)
{
	struct guest_mode m;
	struct hv_exit *rec = exit_to_root(v, HV_EXIT_HLT, rip);

	virt_ops->get_mode(v, &m);
	if (m.rflags & (1 << 9))
		rec->flags |= HV_EXIT_F_IF;
	return rec;
}

/*
 * HLT: the root idles the CPU; a vCPU with a local APIC sleeps in the
 * hypervisor until something wakes it (vcpu_run.c) — unless interrupts
 * are off: then only an NMI, INIT or SIPI could, and the root hears of it
 * (a guest that halts every CPU so has stopped for good: Linux's poweroff
 * without ACPI). Without a local APIC the root decides (API version 1).
 */
static enum exit_action handle_hlt(struct vcpu *v, const struct vm_exit_info *e)
{
	advance(v, e);
	if (v->vm->is_root) {
		root_idle();                    /* until the next interrupt */
		events_run();                   /* deferred work waits for an idle root */
		return EXIT_RESUME;
	}
	if (v->lapic) {
		v->mp_state = HV_MP_HALTED;
		if (virt_ops->irq_window_open(v))
			return EXIT_RESUME;
	}
	exit_to_root_hlt(v, e->rip);
	return EXIT_TO_ROOT;
}

static enum exit_action handle_hypercall(struct vcpu *v, const struct vm_exit_info *e)
{
	struct hypercall_regs h = { v->regs.rax, { v->regs.rbx, v->regs.rcx, v->regs.rdx,
						   v->regs.rsi }, v };

	advance(v, e);
	this_cpu()->hypercalls++;
	if (!v->vm->is_root && h.nr >= HC_USER_BASE) {
		struct hv_exit *rec = exit_to_root(v, HV_EXIT_HYPERCALL, e->rip);

		rec->hypercall.nr = h.nr;
		memcpy(rec->hypercall.args, h.arg, sizeof(h.arg));
		v->pending = PENDING_HYPERCALL;
		return EXIT_TO_ROOT;
	}
	v->regs.rax = (uint64_t)hypercall_dispatch(&h);
	return EXIT_RESUME;
}

static enum exit_action handle_cpuid(struct vcpu *v, const struct vm_exit_info *e)
{
	uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
	struct cpuid_dyn d = {
		.apic_id = v->index,
		.nr_vcpus = v->vm->nr_vcpus,
		.irqchip = v->lapic != NULL,
		.apic_enabled = v->lapic != NULL,
	};
	uint32_t out[4];

	/* The guest's CR4 and its XSAVE size only for the leaves that read
	 * them: most CPUID exits (Linux asks leaf 0 and the like) need neither. */
	if (cpuid_reads_cr4(leaf, sub)) {
		struct guest_mode m;

		virt_ops->get_mode(v, &m);
		d.osxsave = m.cr4 & CR4_OSXSAVE;
	}
	if (cpuid_reads_xcr0(leaf, sub))
		d.xsave_size = fpu_area_bytes(v->fpu->xcr0);
	cpuid_lookup(v->vm->cpuid, leaf, sub, &d, out);
	v->regs.rax = out[0];
	v->regs.rbx = out[1];
	v->regs.rcx = out[2];
	v->regs.rdx = out[3];
	advance(v, e);
	return EXIT_RESUME;
}

static enum exit_action handle_msr(struct vcpu *v, const struct vm_exit_info *e)
{
	uint64_t val;

	if (e->kind == EXIT_KIND_RDMSR) {
		if (msr_read(v, e->msr, &val))
			goto gp;
		v->regs.rax = (uint32_t)val;
		v->regs.rdx = val >> 32;
	} else {
		val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
		if (msr_write(v, e->msr, val))
			goto gp;
	}
	advance(v, e);
	return EXIT_RESUME;
gp:
	virt_ops->inject_exception(v, 13, true, 0);
	return EXIT_RESUME;
}

/* XSETBV (SDM Vol. 2, XSETBV): XCR0 only, a value the VM's CPUID offers
 * and the hardware rules allow; #GP otherwise. The vCPU's state is in the
 * registers while it runs, so XCR0 is set here and now. */
static enum exit_action handle_xsetbv(struct vcpu *v, const struct vm_exit_info *e)
{
	uint64_t xcr0 = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	uint64_t allowed = cpuid_xcr0_mask(v->vm->cpuid) & fpu_guest_xcr0_mask();

	if ((uint32_t)v->regs.rcx != 0 || !fpu_has_xsave() || !fpu_xcr0_valid(xcr0, allowed)) {
		virt_ops->inject_exception(v, 13, true, 0);
		return EXIT_RESUME;
	}
	fpu_set_xcr0(v->fpu, xcr0);
	advance(v, e);
	return EXIT_RESUME;
}

/* MOV DR: load the vCPU's debug registers and let the instruction run
 * again, now without an exit (x86/debugreg.h). */
static enum exit_action handle_dr(struct vcpu *v, const struct vm_exit_info *e)
{
	debugreg_make_live(v, virt_ops->vendor == HV_VENDOR_INTEL);
	return EXIT_RESUME;
}

static enum exit_action handle_ud(struct vcpu *v, const struct vm_exit_info *e)
{
	virt_ops->inject_exception(v, 6, false, 0);
	return EXIT_RESUME;
}

static enum exit_action handle_gp(struct vcpu *v, const struct vm_exit_info *e)
{
	virt_ops->inject_exception(v, 13, true, 0);
	return EXIT_RESUME;
}

/* INVD, WBINVD: guest memory is write-back and coherent (no device does
 * DMA into it), so there is nothing to write back; INVD must never drop
 * the host's dirty lines. Both complete as no-ops. */
static enum exit_action handle_nop(struct vcpu *v, const struct vm_exit_info *e)
{
	advance(v, e);
	return EXIT_RESUME;
}

/* A spin-wait loop's PAUSE while other vCPUs wait for this CPU: the lock
 * holder may be one of them, so give the CPU back (KVM's directed yield
 * in its simplest form). */
static enum exit_action handle_pause(struct vcpu *v, const struct vm_exit_info *e)
{
	advance(v, e);
	if (!v->yield_on_pause)
		return EXIT_RESUME;     /* the intercept was still on from a shared run */
	exit_to_root(v, HV_EXIT_YIELD, e->next_rip);
	return EXIT_TO_ROOT;
}

static enum exit_action handle_shutdown(struct vcpu *v, const struct vm_exit_info *e)
{
	v->vm->dead = true;
	if (v->vm->is_root) {
		pr_err("vm: the root partition triple-faulted at RIP 0x%lx; it is stopped\n", e->rip);
		return EXIT_STOP;
	}
	exit_to_root(v, HV_EXIT_SHUTDOWN, e->rip);
	return EXIT_TO_ROOT;
}

enum exit_action handle_unknown(struct vcpu *v, const struct vm_exit_info *e)
{
	struct hv_exit *rec;

	pr_err("vm: unhandled exit 0x%lx (info 0x%lx 0x%lx) at RIP 0x%lx in %s VM\n",
	       e->hw_reason, e->info1, e->info2, e->rip, v->vm->is_root ? "the root" : "a child");
	if (v->vm->is_root)
		return EXIT_STOP;
	rec = exit_to_root(v, HV_EXIT_INTERNAL, e->rip);
	rec->internal.hw_reason = e->hw_reason;
	rec->internal.info1 = e->info1;
	rec->internal.info2 = e->info2;
	rec->internal.suberror = e->kind == EXIT_KIND_INVALID ? HV_INTERNAL_ENTRY : HV_INTERNAL_HW;
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
	[EXIT_KIND_VIRT_INSN] = handle_ud,     /* nested virtualization is not offered */
	[EXIT_KIND_XSETBV] = handle_xsetbv,
	[EXIT_KIND_DR] = handle_dr,
	[EXIT_KIND_UD] = handle_ud,
	[EXIT_KIND_GP] = handle_gp,
	[EXIT_KIND_NOP] = handle_nop,
	[EXIT_KIND_WINDOW] = handle_none,
	[EXIT_KIND_PAUSE] = handle_pause,
	[EXIT_KIND_INVALID] = handle_unknown,
	[EXIT_KIND_UNKNOWN] = handle_unknown,
};

/* HC_VM_STATS' view of an exit kind. */
static const uint8_t stat_of[EXIT_KIND_COUNT] = {
	[EXIT_KIND_NONE] = HV_STAT_INTERRUPT, [EXIT_KIND_IO] = HV_STAT_IO,
	[EXIT_KIND_NPF] = HV_STAT_NPF, [EXIT_KIND_HLT] = HV_STAT_HLT,
	[EXIT_KIND_HYPERCALL] = HV_STAT_HYPERCALL, [EXIT_KIND_CPUID] = HV_STAT_CPUID,
	[EXIT_KIND_RDMSR] = HV_STAT_MSR, [EXIT_KIND_WRMSR] = HV_STAT_MSR,
	[EXIT_KIND_SHUTDOWN] = HV_STAT_OTHER, [EXIT_KIND_VIRT_INSN] = HV_STAT_EXCEPTION,
	[EXIT_KIND_XSETBV] = HV_STAT_XSETBV, [EXIT_KIND_DR] = HV_STAT_DR,
	[EXIT_KIND_UD] = HV_STAT_EXCEPTION, [EXIT_KIND_GP] = HV_STAT_EXCEPTION,
	[EXIT_KIND_NOP] = HV_STAT_OTHER, [EXIT_KIND_WINDOW] = HV_STAT_WINDOW,
	[EXIT_KIND_PAUSE] = HV_STAT_PAUSE,
	[EXIT_KIND_INVALID] = HV_STAT_OTHER, [EXIT_KIND_UNKNOWN] = HV_STAT_OTHER,
};

static __always_inline void count_exit(struct vcpu *v)
{
	v->vm->exits++;
	this_cpu()->exits++;
}

enum exit_action exit_dispatch(struct vcpu *v, const struct vm_exit_info *e)
{
	count_exit(v);
	if ((unsigned int)e->kind >= EXIT_KIND_COUNT || !handlers[e->kind])
		return handle_unknown(v, e);
	v->vm->stat[stat_of[e->kind]]++;
	return handlers[e->kind](v, e);
}

bool exit_child_fast(struct vcpu *v, const struct vm_exit_info *e)
{
	if (e->kind != EXIT_KIND_IO || e->io.string)
		return false;
	count_exit(v);
	v->vm->stat[HV_STAT_IO]++;
	v->vm->stat[HV_STAT_FAST_RUN]++;
	io_to_root(v, e);
	return true;
}

/* Per-CPU counts: no cache line shared by every CPU's exit path. A CPU's
 * area outlives its going offline, so nothing counted is lost. */
void exit_totals(uint64_t *exits, uint64_t *hypercalls)
{
	*exits = *hypercalls = 0;
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		const struct percpu *p = per_cpu(cpu);

		if (p) {
			*exits += __atomic_load_n(&p->exits, __ATOMIC_RELAXED);
			*hypercalls += __atomic_load_n(&p->hypercalls, __ATOMIC_RELAXED);
		}
	}
}
