/*
 * The interrupt platform of a VM (hv/irqchip.h): the local APIC and
 * IOAPIC models (arch/x86/vlapic.c, vioapic.c) wired to vCPUs. Everything
 * another CPU does to a vCPU is lock-free and ends with a kick: an IRR bit
 * (vlapic_accept), a request bit (INIT, SIPI, NMI). The vCPU's own CPU
 * turns them into state changes and injections before each entry.
 */
#include "hv/irqchip.h"
#include "hv/devops.h"
#include "hv/errno.h"
#include "hv/irqflags.h"
#include "hv/kmalloc.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/string.h"
#include "hv/virt_init.h"
#include "hv/vm.h"
#include <x86/fpu.h>
#include <x86/vlapic.h>

/* ---------------------------------------------------------- device models */

#define DEV_TYPE_LAPIC          0x10
#define DEV_TYPE_IOAPIC         0x11

static struct dev_ops lapic_devops = { .name = "local-apic", .type = DEV_TYPE_LAPIC };
static struct dev_ops ioapic_devops = { .name = "ioapic", .type = DEV_TYPE_IOAPIC };

int irqchip_devops_register(void)
{
	int r = devops_register(&lapic_devops);

	if (r)
		return r;
	if ((r = devops_register(&ioapic_devops)))
		devops_unregister(&lapic_devops);
	return r;
}

void irqchip_devops_unregister(void)
{
	devops_unregister(&ioapic_devops);
	devops_unregister(&lapic_devops);
}

/* ---------------------------------------------------------- kicks, requests */

void vcpu_kick(struct vcpu *v)
{
	int on = __atomic_load_n(&v->running_on, __ATOMIC_ACQUIRE);

	if (on > 0)
		smp_kick((unsigned int)(on - 1));
}

static struct vcpu *vcpu_at(struct vm *vm, uint32_t i)
{
	struct vcpu *v = __atomic_load_n(&vm->vcpus[i], __ATOMIC_ACQUIRE);

	return (uintptr_t)v > 1 ? v : NULL;     /* 1: a slot being set up */
}

/* ---------------------------------------------------------- routing */

/*
 * One interrupt message (an IPI, an IOAPIC entry) to one local APIC:
 * fixed and lowest-priority set IRR; NMI, INIT and SIPI become requests
 * the vCPU acts on (SDM Vol. 3A, 10.6.1). SMI and ExtINT have nothing
 * behind them here (no SMM, no 8259) and are dropped.
 */
static bool deliver_one(struct vcpu *v, unsigned int mode, uint8_t vector, bool level,
			bool assert)
{
	bool ok = true;

	switch (mode) {
	case VLAPIC_DM_FIXED:
	case VLAPIC_DM_LOWPRI:
		ok = vlapic_accept(v->lapic, vector, level);
		break;
	case VLAPIC_DM_NMI:
		vcpu_request(v, VCPU_REQ_NMI);
		break;
	case VLAPIC_DM_INIT:
		if (level && !assert)
			return true;            /* INIT level de-assert: nothing (10.6.1) */
		vcpu_request(v, VCPU_REQ_INIT);
		break;
	case VLAPIC_DM_SIPI:
		__atomic_store_n(&v->sipi_vector, vector, __ATOMIC_RELEASE);
		vcpu_request(v, VCPU_REQ_SIPI);
		break;
	default:
		return false;
	}
	vcpu_kick(v);
	return ok;
}

/* Which APICs of the VM a message reaches: a bitmap of vCPU indexes. An
 * 8-bit destination (xAPIC ICR, IOAPIC) aimed at an x2APIC-mode APIC is
 * read in x2APIC terms: 0xff broadcasts, logical bits name cluster 0. */
static uint32_t match(struct vm *vm, struct vcpu *src, uint32_t dest, bool logical,
		      unsigned int shorthand, bool short_dest)
{
	uint32_t set = 0;

	for (uint32_t i = 0; i < VM_MAX_VCPUS; i++) {
		struct vcpu *v = vcpu_at(vm, i);
		uint32_t d = dest;

		if (!v || !v->lapic)
			continue;
		switch (shorthand) {
		case VLAPIC_SH_SELF:
			if (v == src)
				set |= 1u << i;
			continue;
		case VLAPIC_SH_ALL:
			set |= 1u << i;
			continue;
		case VLAPIC_SH_OTHERS:
			if (v != src)
				set |= 1u << i;
			continue;
		}
		if (short_dest && vlapic_x2apic_mode(v->lapic) && dest == 0xff)
			d = 0xffffffff;
		if (vlapic_match_dest(v->lapic, d, logical))
			set |= 1u << i;
	}
	return set;
}

/* Lowest priority (10.6.2.4): the APIC with the lowest TPR among those
 * addressed; ties go to the lowest index. */
static uint32_t lowest_priority(struct vm *vm, uint32_t set)
{
	uint32_t best = 0;
	int best_tpr = 256;

	for (uint32_t i = 0; i < VM_MAX_VCPUS; i++) {
		struct vcpu *v = vcpu_at(vm, i);

		if ((set >> i & 1) && v && (int)vlapic_get_tpr(v->lapic) < best_tpr) {
			best_tpr = vlapic_get_tpr(v->lapic);
			best = 1u << i;
		}
	}
	return best;
}

static bool route(struct vm *vm, struct vcpu *src, uint32_t dest, bool logical,
		  unsigned int shorthand, bool short_dest, unsigned int mode, uint8_t vector,
		  bool level, bool assert)
{
	uint32_t set = match(vm, src, dest, logical, shorthand, short_dest);
	bool ok = false;

	if (mode == VLAPIC_DM_LOWPRI)
		set = lowest_priority(vm, set);
	for (uint32_t i = 0; i < VM_MAX_VCPUS; i++)
		if (set >> i & 1) {
			struct vcpu *v = vcpu_at(vm, i);

			if (v)
				ok |= deliver_one(v, mode, vector, level, assert);
		}
	return ok;
}

static void lapic_send_ipi(struct vlapic *src, uint32_t icr_lo, uint32_t dest)
{
	struct vcpu *v = src->owner;

	route(v->vm, v, dest, icr_lo & VLAPIC_ICR_LOGICAL, (icr_lo >> VLAPIC_ICR_SH_SHIFT) & 3,
	      !vlapic_x2apic_mode(src), (icr_lo >> VLAPIC_ICR_DM_SHIFT) & 7, (uint8_t)icr_lo,
	      icr_lo & VLAPIC_ICR_LEVEL, icr_lo & VLAPIC_ICR_ASSERT);
}

static void lapic_eoi_level(struct vlapic *l, uint8_t vector)
{
	struct vm *vm = ((struct vcpu *)l->owner)->vm;
	unsigned long f = local_irq_save();

	spin_lock(&vm->irqchip->lock);
	vioapic_eoi(&vm->irqchip->ioapic, vector);
	spin_unlock(&vm->irqchip->lock);
	local_irq_restore(f);
}

static uint64_t lapic_now(struct vlapic *l)
{
	return __builtin_ia32_rdtsc() + virt_ops->get_tsc_offset(l->owner);
}

static const struct vlapic_ops lapic_ops = {
	.send_ipi = lapic_send_ipi, .eoi_level = lapic_eoi_level, .now = lapic_now,
};

static bool ioapic_deliver(void *ctx, uint32_t dest, bool logical, uint8_t mode, uint8_t vector,
			   bool level)
{
	return route(ctx, NULL, dest, logical, VLAPIC_SH_NONE, true, mode, vector, level, true);
}

static const struct vioapic_ops ioapic_ops = { .deliver = ioapic_deliver };

/* ---------------------------------------------------------- VMs and vCPUs */

int irqchip_create(struct vm *vm)
{
	struct irqchip *ic;

	if (!devops_find(DEV_TYPE_LAPIC) || !devops_find(DEV_TYPE_IOAPIC))
		return -ENODEV;
	if (vm->irqchip)
		return -EEXIST;
	if (vm->nr_vcpus)
		return -EBUSY;
	ic = kzalloc(sizeof(*ic));
	if (!ic)
		return -ENOMEM;
	vioapic_init(&ic->ioapic, 0, &ioapic_ops, vm);
	vm->irqchip = ic;
	return 0;
}

void irqchip_destroy(struct vm *vm)
{
	kfree(vm->irqchip);
	vm->irqchip = NULL;
}

int irqchip_vcpu_init(struct vcpu *v)
{
	v->apic_page = page_zalloc(0);
	if (!v->apic_page)
		return -ENOMEM;
	if (!v->vm->irqchip)
		return 0;
	v->lapic = kzalloc(sizeof(*v->lapic));
	if (!v->lapic) {
		page_free(v->apic_page, 0);
		v->apic_page = NULL;
		return -ENOMEM;
	}
	vlapic_init(v->lapic, v->apic_page, v->index, v->index == 0, &lapic_ops, v);
	return 0;
}

void irqchip_vcpu_fini(struct vcpu *v)
{
	kfree(v->lapic);
	v->lapic = NULL;
	page_free(v->apic_page, 0);
	v->apic_page = NULL;
}

int irqchip_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	return v->lapic ? vlapic_msr_read(v->lapic, msr, val) : -ENOENT;
}

int irqchip_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	return v->lapic ? vlapic_msr_write(v->lapic, msr, val) : -ENOENT;
}

bool irqchip_owns(struct vcpu *v, uint64_t gpa)
{
	if (!v->vm->irqchip)
		return false;
	return (gpa & PAGE_MASK) == IRQCHIP_IOAPIC_BASE ||
	       (vlapic_mmio_enabled(v->lapic) && (gpa & PAGE_MASK) == vlapic_mmio_base(v->lapic));
}

int irqchip_mmio(struct vcpu *v, uint64_t gpa, bool write, unsigned int size, uint64_t *val)
{
	struct irqchip *ic = v->vm->irqchip;
	int r;

	if (!ic)
		return -ENOENT;
	if (vlapic_mmio_enabled(v->lapic) && (gpa & PAGE_MASK) == vlapic_mmio_base(v->lapic)) {
		uint32_t off = gpa & ~PAGE_MASK;

		return write ? vlapic_mmio_write(v->lapic, off, size, *val) :
			       vlapic_mmio_read(v->lapic, off, size, val);
	}
	if ((gpa & PAGE_MASK) != IRQCHIP_IOAPIC_BASE)
		return -ENOENT;
	unsigned long f = local_irq_save();

	spin_lock(&ic->lock);
	r = write ? vioapic_mmio_write(&ic->ioapic, gpa & ~PAGE_MASK, size, *val) :
		    vioapic_mmio_read(&ic->ioapic, gpa & ~PAGE_MASK, size, val);
	spin_unlock(&ic->lock);
	local_irq_restore(f);
	return r;
}

int irqchip_set_line(struct vm *vm, unsigned int pin, bool level)
{
	unsigned long f;
	int r;

	if (!vm->irqchip)
		return -ENODEV;
	f = local_irq_save();
	spin_lock(&vm->irqchip->lock);
	r = vioapic_set_irq(&vm->irqchip->ioapic, pin, level);
	spin_unlock(&vm->irqchip->lock);
	local_irq_restore(f);
	return r;
}

void irqchip_interrupt(struct vcpu *v, uint8_t vector)
{
	if (v->lapic) {
		vlapic_accept(v->lapic, vector, false);
	} else {
		__atomic_store_n(&v->extint_vector, vector, __ATOMIC_RELEASE);
		vcpu_request(v, VCPU_REQ_EXTINT);
	}
	vcpu_kick(v);
}

/* ---------------------------------------------------------- the vCPU's side */

static uint32_t take(struct vcpu *v, uint32_t req)
{
	return __atomic_fetch_and(&v->requests, ~req, __ATOMIC_ACQ_REL) & req;
}

/* INIT: the state a CPU waits for a SIPI in (SDM Vol. 3A, 9.1.1, 10.4.7.3). */
static void do_init(struct vcpu *v)
{
	if (v->lapic)
		vlapic_init_signal(v->lapic);
	v->mp_state = HV_MP_INIT_RECEIVED;
	v->nmi_blocked = false;
}

/* SIPI: real mode at vector * 4096 (CS = vector << 8, IP = 0; 10.4.4.1),
 * everything else as INIT left it. */
static void do_sipi(struct vcpu *v, uint8_t vector)
{
	struct hv_sregs s;
	struct hv_regs r;

	memset(&s, 0, sizeof(s));
	s.cs = (struct hv_segment){ (uint64_t)vector << 12, 0xffff, (uint16_t)(vector << 8), 0x9b };
	s.ds = s.es = s.fs = s.gs = s.ss = (struct hv_segment){ 0, 0xffff, 0, 0x93 };
	s.tr = (struct hv_segment){ 0, 0xffff, 0, 0x8b };
	s.ldtr = (struct hv_segment){ 0, 0xffff, 0, 0x82 };
	s.gdt.limit = s.idt.limit = 0xffff;
	s.cr0 = 0x10;                           /* ET */
	virt_ops->set_sregs(v, &s);
	memset(&r, 0, sizeof(r));
	r.rflags = 0x2;
	virt_ops->set_regs(v, &r);
	virt_ops->set_dr67(v, 0xffff0ff0, 0x400);
	memset(v->db, 0, sizeof(v->db));
	fpu_reset(v->fpu);
	v->pending = PENDING_NONE;
	v->mp_state = HV_MP_RUNNABLE;
}

void irqchip_process_requests(struct vcpu *v)
{
	uint32_t req;

	if (!(__atomic_load_n(&v->requests, __ATOMIC_ACQUIRE) & (VCPU_REQ_INIT | VCPU_REQ_SIPI)))
		return;
	req = take(v, VCPU_REQ_INIT | VCPU_REQ_SIPI);
	if (req & VCPU_REQ_INIT)
		do_init(v);
	/* A SIPI counts only in wait-for-SIPI (10.4.4.1): the second of the
	 * usual two finds the CPU running and is dropped. */
	if ((req & VCPU_REQ_SIPI) && v->mp_state == HV_MP_INIT_RECEIVED)
		do_sipi(v, __atomic_load_n(&v->sipi_vector, __ATOMIC_ACQUIRE));
}

uint64_t irqchip_next_event(struct vcpu *v)
{
	uint64_t t;

	if (!v->lapic)
		return 0;
	t = vlapic_next_event(v->lapic);
	return t ? t - virt_ops->get_tsc_offset(v) : 0;    /* guest TSC -> host TSC */
}

static void fire_timers(struct vcpu *v)
{
	uint64_t next = irqchip_next_event(v);

	if (next && __builtin_ia32_rdtsc() >= next)
		vlapic_timer_check(v->lapic, lapic_now(v->lapic));
}

bool irqchip_wakeup_pending(struct vcpu *v)
{
	uint32_t req = __atomic_load_n(&v->requests, __ATOMIC_ACQUIRE);

	if (req & (VCPU_REQ_NMI | VCPU_REQ_INIT | VCPU_REQ_SIPI))
		return true;
	if (v->mp_state != HV_MP_HALTED)
		return false;                   /* wait-for-SIPI: only INIT/SIPI count */
	if (v->lapic)
		fire_timers(v);
	if ((v->lapic && vlapic_pending_vector(v->lapic) >= 0) || (req & VCPU_REQ_EXTINT))
		return virt_ops->irq_window_open(v);    /* HLT with IF=0 sleeps on */
	return false;
}

static void request_window(struct vcpu *v, bool irq, bool nmi, int tpr_class)
{
	virt_ops->request_window(v, irq, nmi, tpr_class);
	v->window_asked = irq || nmi || tpr_class > 0;
}

/*
 * Before an entry: at most one event goes in (an NMI before an external
 * interrupt, SDM Vol. 3A, 6.9); whatever else is pending asks for an exit
 * as soon as the guest can take it (a window). An event the last exit cut
 * off is already queued for re-delivery and goes first.
 */
void irqchip_inject_pending(struct vcpu *v)
{
	uint32_t req = __atomic_load_n(&v->requests, __ATOMIC_ACQUIRE);
	bool nmi = req & VCPU_REQ_NMI, ext = req & VCPU_REQ_EXTINT;
	int vec = -1, tpr_class = -1;

	if (v->lapic) {
		fire_timers(v);
		vec = vlapic_pending_vector(v->lapic);
		if (vec < 0) {
			int irr = vlapic_highest_irr(v->lapic);

			/* Held back by the TPR (not by a vector in service, whose
			 * EOI exits anyway): exit when the guest lowers it. VMX
			 * requires the threshold not above TPR's class (26.2.1.1). */
			if (irr >= 0 && irr >> 4 <= vlapic_get_tpr(v->lapic) >> 4)
				tpr_class = irr >> 4;
		}
	} else if (ext) {
		vec = __atomic_load_n(&v->extint_vector, __ATOMIC_ACQUIRE);
	}
	if (!nmi && vec < 0) {
		request_window(v, false, false, tpr_class);
		return;
	}
	if (!virt_ops->event_queued(v)) {
		if (nmi && virt_ops->nmi_window_open(v)) {
			take(v, VCPU_REQ_NMI);
			virt_ops->inject_nmi(v);
			nmi = false;
			v->vm->stat[HV_STAT_INJECTED]++;
		} else if (vec >= 0 && virt_ops->irq_window_open(v)) {
			if (v->lapic)
				vlapic_ack(v->lapic, (uint8_t)vec);
			else
				take(v, VCPU_REQ_EXTINT);
			virt_ops->inject_irq(v, (uint8_t)vec);
			vec = -1;
			v->vm->stat[HV_STAT_INJECTED]++;
		}
	}
	if (v->lapic && vec < 0)
		vec = vlapic_pending_vector(v->lapic);  /* the next one waits its turn */
	request_window(v, vec >= 0, nmi, tpr_class);
}
