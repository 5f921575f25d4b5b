/* The run loops of root and child vCPUs. */
#include "hv/debugcon.h"
#include "hv/emulate.h"
#include "hv/exits.h"
#include "hv/irqchip.h"
#include "hv/cmdline.h"
#include "hv/errno.h"
#include "hv/options.h"
#include "hv/preempt.h"
#include "hv/panic.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/virt_cpu.h"
#include "hv/virt_init.h"
#include "hv/vm.h"
#include <x86/fpu.h>
#include <x86/hosttimer.h>
#include <x86/percpu.h>

/*
 * entry_reload (for make bench): every entry as before the load/put and TLB
 * policy existed: the vCPU put and loaded again (VMCLEAR and VMPTRLD on
 * VMX, nothing on SVM) and its TLB flushed, so one run can print the
 * round trips both ways.
 */
static bool entry_reload;

static int parse_entry_reload(const char *value, void *arg)
{
	return cmdline_parse_bool(value, &entry_reload);
}
CMDLINE_OPTION(entry_reload, "entry_reload", parse_entry_reload, NULL,
	       "bench: put, load and flush the TLB around every guest entry (the old way)");

static inline void before_entry(struct vcpu *v)
{
	if (__builtin_expect(entry_reload, 0)) {
		virt_ops->vcpu_put(v);
		virt_ops->vcpu_load(v);
		v->last_cpu = -1;       /* the TLB policy flushes */
	}
}

/* While virtualization is off here (suspend, reboot), guests wait. */
static inline void wait_until_wanted(void)
{
	const struct virt_cpu *vc = &this_cpu()->virt;

	while (!virt_cpu_wanted(vc) || vc->state != VIRT_CPU_ON)
		arch_idle();
}

/* Complete what the root was asked to do at the last exit. true: that
 * produced another record for the root (the run ends at once). */
static bool finish_pending(struct vcpu *v)
{
	const struct hv_exit *rec = (const struct hv_exit *)v->exit_page;

	switch (v->pending) {
	case PENDING_IN: {
		uint64_t mask = v->pending_size == 4 ? 0xffffffffULL :
				(1ULL << (8 * v->pending_size)) - 1;

		/* IN writes AL/AX and leaves the rest; a 32-bit IN zero-extends. */
		v->regs.rax = v->pending_size == 4 ? (rec->io.data & mask) :
			      (v->regs.rax & ~mask) | (rec->io.data & mask);
		virt_ops->set_rip(v, v->pending_next_rip);
		break;
	}
	case PENDING_HYPERCALL:
		v->regs.rax = (uint64_t)rec->hypercall.ret;
		break;
	case PENDING_MMIO:
		return emulate_mmio_complete(v);
	case PENDING_INS:
		emulate_ins_complete(v);
		return false;
	default:
		break;
	}
	v->pending = PENDING_NONE;
	return false;
}

static uint64_t now(void)
{
	return __builtin_ia32_rdtsc();
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : MIN(a, b);
}

/*
 * A vCPU that is not runnable (halted, waiting for SIPI) waits here, in
 * the hypervisor, not in its root: HLT with interrupts on until an
 * interrupt it would take, a request, its timer or the run's end (budget,
 * kick). The host timer is armed for the nearer of the deadlines; a kick
 * from another CPU is an IPI and ends the HLT too.
 */
static enum { WAIT_WOKE, WAIT_BUDGET, WAIT_KICK } wait_for_event(struct vcpu *v, uint64_t deadline)
{
	for (;;) {
		uint64_t event;

		__asm__ __volatile__("cli" ::: "memory");
		if (__atomic_load_n(&v->requests, __ATOMIC_ACQUIRE) & VCPU_REQ_KICK)
			return WAIT_KICK;
		irqchip_process_requests(v);
		if (v->mp_state == HV_MP_RUNNABLE)
			return WAIT_WOKE;
		if (irqchip_wakeup_pending(v)) {
			if (v->mp_state == HV_MP_HALTED)
				v->mp_state = HV_MP_RUNNABLE;
			v->vm->stat[HV_STAT_HALT_WAKEUPS]++;
			return WAIT_WOKE;
		}
		if (deadline && now() >= deadline)
			return WAIT_BUDGET;
		event = earliest(deadline, irqchip_next_event(v));
		hosttimer_set_deadline(event);
		/* STI's shadow makes STI; HLT atomic: an interrupt that
		 * arrives after the checks above still ends the HLT. */
		__asm__ __volatile__("sti; hlt; cli" ::: "memory");
	}
}

int vcpu_run_child(struct vcpu *v, struct vcpu *caller, uint64_t budget, uint32_t flags)
{
	struct vm_exit_info e;
	uint64_t deadline = budget ? now() + budget : 0;

	/* The caller's x87/SSE/AVX state and XCR0 out, the child's in: the
	 * hypervisor itself never uses them, so this is the only switch. */
	fpu_switch(caller ? caller->fpu : NULL, v->fpu);
	preempt_sched_in(v, this_cpu_id());
	v->yield_on_pause = flags & HV_RUN_NO_BLOCK;
	for (bool first = true;; first = false) {
		enum exit_action a;

		if (first && v->deferred) {
			/* Where HC_RUN's fast path stopped: its exit first, under
			 * its deadline (vcpu_run_child_fast). */
			e = v->deferred_exit;
			v->deferred = false;
			if (deadline && v->deferred_deadline)
				deadline = MIN(deadline, v->deferred_deadline);
			goto dispatch;
		}
		if (first && finish_pending(v))
			break;
		wait_until_wanted();
		irqchip_process_requests(v);
		if (v->mp_state == HV_MP_HALTED && irqchip_wakeup_pending(v)) {
			v->mp_state = HV_MP_RUNNABLE;   /* it has something to take */
			v->vm->stat[HV_STAT_HALT_WAKEUPS]++;
		}
		if (v->mp_state != HV_MP_RUNNABLE) {
			if (flags & HV_RUN_NO_BLOCK) {
				exit_to_root_hlt(v, virt_ops->get_rip(v));
				break;
			}
			int w = wait_for_event(v, deadline);

			if (w == WAIT_BUDGET) {
				exit_to_root(v, HV_EXIT_TIMEOUT, virt_ops->get_rip(v));
				break;
			}
			/* WAIT_KICK: reported right below. */
		}
		if (__atomic_load_n(&v->requests, __ATOMIC_ACQUIRE) & VCPU_REQ_KICK) {
			__atomic_fetch_and(&v->requests, ~VCPU_REQ_KICK, __ATOMIC_ACQ_REL);
			exit_to_root(v, HV_EXIT_KICKED, virt_ops->get_rip(v));
			break;
		}
		if (deadline && now() >= deadline) {
			exit_to_root(v, HV_EXIT_TIMEOUT, virt_ops->get_rip(v));
			break;
		}
		irqchip_inject(v);
		before_entry(v);
		virt_ops->vcpu_enter(v, &e, earliest(deadline, irqchip_next_event(v)));
dispatch:
		a = exit_dispatch(v, &e);
		if (a == EXIT_RESUME)
			continue;
		if (a == EXIT_STOP) {
			struct hv_exit *rec = exit_to_root(v, HV_EXIT_INTERNAL, e.rip);

			rec->internal.hw_reason = e.hw_reason;
			rec->internal.info1 = e.info1;
			rec->internal.info2 = e.info2;
			rec->internal.suberror = e.kind == EXIT_KIND_INVALID ? HV_INTERNAL_ENTRY :
						 HV_INTERNAL_HW;
			v->vm->dead = true;
		}
		break;
	}
	hosttimer_set_deadline(0);
	preempt_sched_out(v);
	fpu_switch(v->fpu, caller ? caller->fpu : NULL);
	return 0;
}

/*
 * HC_RUN's fast path (KVM's fastpath exits, applied to the run itself),
 * from hypercall.c with the root's VMCALL/VMMCALL exit not yet left,
 * interrupts (SVM: GIF) off and v claimed. A child vcpu_run_child would
 * enter at once — virtualization on here, runnable, no request of any
 * kind, nothing to complete but an IN or a hypercall result — is entered
 * once through the backend, as vcpu_run_child would enter it. Its port
 * I/O exit ends in a record with nothing to wait for (hv/exits.c:
 * handle_io), so exit_child_fast handles it — called by the backend
 * (VMX: while the child's VMCS is still current) — and the root is
 * re-entered at once: true. Any other exit — an interrupt, a kick, the
 * budget's timer among them — is kept in v->deferred_exit and false
 * returned: the root's call then takes the ordinary path, whose
 * vcpu_run_child handles that exit first. false without v->deferred:
 * nothing ran.
 */
bool vcpu_run_child_fast(struct vcpu *v, struct vcpu *caller, uint64_t budget, uint32_t flags)
{
	const struct virt_cpu *vc = &this_cpu()->virt;
	struct vm_exit_info e;
	uint64_t deadline;

	if (v->deferred || __atomic_load_n(&v->requests, __ATOMIC_ACQUIRE) ||
	    v->mp_state != HV_MP_RUNNABLE || (v->pending != PENDING_NONE &&
	    v->pending != PENDING_IN && v->pending != PENDING_HYPERCALL) ||
	    !virt_cpu_wanted(vc) || vc->state != VIRT_CPU_ON)
		return false;
	deadline = budget ? now() + budget : 0;
	/* Loaded for the accessors below (VMX: they act on the current VMCS);
	 * run_child_fast puts it back after its exit. */
	virt_ops->vcpu_load(v);
	if (v->pending != PENDING_NONE)
		finish_pending(v);      /* an IN's data, a hypercall's result: no new record */
	v->yield_on_pause = flags & HV_RUN_NO_BLOCK;
	irqchip_inject(v);
	if (__builtin_expect(entry_reload, 0))
		v->last_cpu = -1;       /* the TLB flush before_entry() would ask for */
	if (virt_ops->run_child_fast(caller, v, &e, v->lapic ? earliest(deadline, irqchip_next_event(v)) :
					      deadline))
		return true;
	v->deferred_exit = e;
	v->deferred_deadline = deadline;
	v->deferred = true;
	return false;
}

void vcpu_run_root(struct vcpu *v)
{
	struct vm_exit_info e;

	fpu_switch(NULL, v->fpu);
	preempt_sched_in(v, this_cpu_id());
	/* A root that halts idles this CPU until an interrupt: the tick makes
	 * sure one comes, so the root can look around again. */
	arch_idle_tick_start();
	for (;;) {
		wait_until_wanted();
		before_entry(v);
		virt_ops->vcpu_enter(v, &e, 0);
		if (exit_dispatch(v, &e) == EXIT_STOP)
			break;
	}
	pr_err("root: the root vCPU on CPU %u stopped\n", smp_processor_id());
	preempt_sched_out(v);
	if (smp_processor_id() == 0)
		debugcon_loop();
	for (;;)
		arch_idle();
}
