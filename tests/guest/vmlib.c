/* Helpers for root programs that build child VMs (tests/guest/vmlib.h). */
#include "vmlib.h"

static uint64_t next, limit;

void ralloc_init(struct hv_root_info *info)
{
	next = (info->free_start + 4095) & ~4095ULL;
	limit = info->free_end;
}

/* Root vCPUs on several CPUs allocate at once: take the range atomically. */
void *ralloc(size_t size)
{
	uint64_t p;

	size = (size + 4095) & ~(size_t)4095;
	p = __atomic_fetch_add(&next, size, __ATOMIC_RELAXED);
	if (p + size > limit)
		return NULL;
	gmemset((void *)p, 0, size);
	return (void *)p;
}

int64_t child_create(struct child *c, const void *payload, size_t len)
{
	struct hv_sregs s = { 0 };
	struct hv_regs r = { 0 };
	struct hv_sregs *sp;
	struct hv_regs *rp;
	int64_t h;

	c->mem = ralloc(CHILD_MEM_SIZE);
	c->exit = ralloc(4096);
	sp = ralloc(4096);
	rp = (struct hv_regs *)((uint8_t *)sp + 2048);
	if (!c->mem || !c->exit || !sp)
		return -HV_ENOMEM;
	gmemcpy(c->mem + CHILD_LOAD, payload, len);
	if ((h = hcall(HC_VM_CREATE, 0, 0, 0, 0)) < 0)
		return h;
	c->vm = h;
	if ((h = hcall(HC_SET_MEMORY_REGION, c->vm, 0, (uint64_t)c->mem, CHILD_MEM_SIZE)) < 0)
		return h;
	if ((h = hcall(HC_VCPU_CREATE, c->vm, (uint64_t)c->exit, 0, 0)) < 0)
		return h;
	c->vcpu = h;
	s.cs = (struct hv_segment){ 0, 0xffffffff, 0x08, 0xc9b };
	s.ds = s.es = s.fs = s.gs = s.ss = (struct hv_segment){ 0, 0xffffffff, 0x10, 0xc93 };
	s.tr = (struct hv_segment){ 0, 0x67, 0, 0x8b };
	s.ldtr = (struct hv_segment){ 0, 0xffff, 0, 0x82 };
	s.gdt = (struct hv_dtable){ 0, 0xffff, 0 };
	s.idt = (struct hv_dtable){ 0, 0xffff, 0 };
	s.cr0 = 0x31;                   /* PE ET NE */
	gmemcpy(sp, &s, sizeof(s));
	if ((h = hcall(HC_SET_SREGS, c->vcpu, (uint64_t)sp, 0, 0)) < 0)
		return h;
	r.rip = CHILD_LOAD;
	r.rsp = CHILD_MEM_SIZE - 16;
	r.rflags = 0x2;
	gmemcpy(rp, &r, sizeof(r));
	return hcall(HC_SET_REGS, c->vcpu, (uint64_t)rp, 0, 0);
}

int64_t child_destroy(struct child *c)
{
	int64_t r = hcall(HC_VCPU_DESTROY, c->vcpu, 0, 0, 0);

	if (r < 0)
		return r;
	return hcall(HC_VM_DESTROY, c->vm, 0, 0, 0);
}

int64_t child_run(struct child *c)
{
	return hcall(HC_RUN, c->vcpu, 0, 0, 0);
}

const char *exit_name(uint32_t reason)
{
	static const char *const names[] = {
		"none", "io", "mmio", "hlt", "hypercall", "shutdown", "internal",
	};

	return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}
