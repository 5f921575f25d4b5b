/*
 * The interrupt platform of a VM (docs/interrupts.md): a local APIC per
 * vCPU and one IOAPIC, in the hypervisor (KVM's split irqchip); routing of
 * IRQ lines and IPIs to vCPUs; what a vCPU may take at its next entry.
 * A VM without one (HC_CREATE_IRQCHIP never called) behaves as in API
 * version 1: HLT and its I/O go to the root, and only HC_INTERRUPT and
 * HC_NMI bring it interrupts.
 */
#ifndef HV_IRQCHIP_H
#define HV_IRQCHIP_H

#include "hv/spinlock.h"
#include "hv/types.h"
#include "hv/virt_init.h"
#include "hv/vm.h"
#include <x86/vioapic.h>

struct vm;
struct vcpu;

#define IRQCHIP_IOAPIC_BASE     VIOAPIC_DEFAULT_BASE

struct irqchip {
	spinlock_t lock;                /* the IOAPIC */
	struct vioapic ioapic;
};

/* The in-hypervisor device models a VM can be given (KVM_CREATE_DEVICE's
 * registry, the devops stage): registered by the staged init. */
int irqchip_devops_register(void);
void irqchip_devops_unregister(void);

/* HC_CREATE_IRQCHIP: -EBUSY (the VM has vCPUs), -EEXIST, -ENODEV (the
 * device models are not registered), -ENOMEM. */
int irqchip_create(struct vm *vm);
void irqchip_destroy(struct vm *vm);
/* Every vCPU gets the page VMX uses as its virtual-APIC page; in a VM with
 * an irqchip it holds the vCPU's local APIC registers. */
int irqchip_vcpu_init(struct vcpu *v);
void irqchip_vcpu_fini(struct vcpu *v);
/* APIC_BASE, TSC_DEADLINE, x2APIC MSRs: -ENOENT when not the local
 * APIC's (or the VM has none); -EINVAL: #GP. */
int irqchip_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int irqchip_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
/* An access to the xAPIC page or the IOAPIC page at gpa: 0 done (*val
 * for reads), -ENOENT when gpa is neither. */
int irqchip_mmio(struct vcpu *v, uint64_t gpa, bool write, unsigned int size, uint64_t *val);
/* Is gpa the vCPU's xAPIC page or the IOAPIC's? */
bool irqchip_owns(struct vcpu *v, uint64_t gpa);
/* HC_IRQ_LINE: -EINVAL for a pin past the IOAPIC's. */
int irqchip_set_line(struct vm *vm, unsigned int pin, bool level);
/* HC_INTERRUPT: an external interrupt for the vCPU (its local APIC's IRR
 * with an irqchip, the CPU's INTR line without one). */
void irqchip_interrupt(struct vcpu *v, uint8_t vector);

/* Make a vCPU look at its requests soon: an IPI to the CPU running it. */
void vcpu_kick(struct vcpu *v);

/* The run loop, on the vCPU's CPU: INIT/SIPI requests; expired timers;
 * may the halted vCPU wake; host TSC of its next timer event; inject. */
void irqchip_process_requests(struct vcpu *v);
bool irqchip_wakeup_pending(struct vcpu *v);
uint64_t irqchip_next_event(struct vcpu *v);
void irqchip_inject_pending(struct vcpu *v);

static inline void irqchip_inject(struct vcpu *v)
{
	/* Without a local APIC, nothing asked: no event, no window wanted
	 * (every HC_RUN of an API-1 child pays this test only). */
	if (!v->lapic && !(__atomic_load_n(&v->requests, __ATOMIC_ACQUIRE) &
			   (VCPU_REQ_NMI | VCPU_REQ_EXTINT))) {
		if (v->window_asked) {
			virt_ops->request_window(v, false, false, -1);
			v->window_asked = false;
		}
		return;
	}
	irqchip_inject_pending(v);
}

#endif
