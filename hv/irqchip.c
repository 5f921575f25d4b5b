/* The interrupt platform of a VM (hv/irqchip.h). */
#include "hv/irqchip.h"
#include "hv/errno.h"
#include "hv/page_alloc.h"
#include "hv/vm.h"

int irqchip_create(struct vm *vm)
{
	return -EOPNOTSUPP;
}

void irqchip_destroy(struct vm *vm)
{
}

int irqchip_vcpu_init(struct vcpu *v)
{
	v->apic_page = page_zalloc(0);
	return v->apic_page ? 0 : -ENOMEM;
}

void irqchip_vcpu_fini(struct vcpu *v)
{
	page_free(v->apic_page, 0);
	v->apic_page = NULL;
}

int irqchip_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	return -ENOENT;
}

int irqchip_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	return -ENOENT;
}
