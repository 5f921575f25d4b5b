/*
 * The interrupt platform of a VM (docs/interrupts.md): a local APIC per
 * vCPU and one IOAPIC, in the hypervisor (KVM's split irqchip); routing of
 * IRQ lines and IPIs to vCPUs; what a vCPU may take at its next entry.
 * A VM without one (HC_CREATE_IRQCHIP never called) behaves as in API
 * version 1: HLT and its I/O go to the root.
 */
#ifndef HV_IRQCHIP_H
#define HV_IRQCHIP_H

#include "hv/types.h"

struct vm;
struct vcpu;

int irqchip_create(struct vm *vm);
void irqchip_destroy(struct vm *vm);
/* A vCPU of a VM with an irqchip gets its local APIC (and the page VMX
 * uses as its virtual-APIC page in any case). */
int irqchip_vcpu_init(struct vcpu *v);
void irqchip_vcpu_fini(struct vcpu *v);
/* APIC_BASE, TSC_DEADLINE, x2APIC MSRs: -ENOENT when not the local
 * APIC's (or the VM has none); -EINVAL: #GP. */
int irqchip_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int irqchip_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);

#endif
