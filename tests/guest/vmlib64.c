/* 64-bit child VMs running C payloads (tests/guest/vmlib64.h, crt/child.h). */
#include "vmlib64.h"

#define PTE_P   0x1ULL
#define PTE_W   0x2ULL
#define PTE_PS  0x80ULL

/* Page tables, GDT, TSS and boot page of crt/child.h in the child's RAM. */
static void build_layout(struct child64 *c)
{
	uint64_t *pml4 = child_gpa64(c, CRT_PML4), *pdpt = child_gpa64(c, CRT_PDPT);
	uint64_t *pd = child_gpa64(c, CRT_PD), *gdt = child_gpa64(c, CRT_GDT);
	struct crt_boot *b = child_gpa64(c, CRT_BOOT);
	uint8_t *tss = child_gpa64(c, CRT_TSS);
	uint64_t tb = CRT_TSS;

	pml4[0] = CRT_PDPT | PTE_P | PTE_W;
	pdpt[0] = CRT_PD | PTE_P | PTE_W;
	for (uint64_t j = 0; j < 512; j++)
		pd[j] = (j << 21) | PTE_P | PTE_W | PTE_PS;
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffULL;         /* 0x08: 64-bit code */
	gdt[2] = 0x00cf93000000ffffULL;         /* 0x10: data */
	/* 0x18: the 64-bit TSS (16 bytes; busy, as TR holds it). */
	gdt[3] = 0x67 | (tb & 0xffffff) << 16 | 0x8bULL << 40 | ((tb >> 24) & 0xff) << 56;
	gdt[4] = tb >> 32;
	tss[102] = 104;                         /* no I/O bitmap */
	b->magic = CRT_MAGIC;
	b->ram = c->ram;
	b->nvcpus = c->nvcpus;
}

static int64_t set_state(struct child64 *c, unsigned int i)
{
	struct hv_sregs *s = c->scratch;
	struct hv_regs *r = (struct hv_regs *)((uint8_t *)c->scratch + 2048);
	int64_t e;

	gmemset(s, 0, sizeof(*s));
	s->cs = (struct hv_segment){ 0, 0xffffffff, CRT_SEL_CODE, 0xa9b };     /* G L P S code */
	s->ds = s->es = s->fs = s->gs = s->ss =
		(struct hv_segment){ 0, 0xffffffff, CRT_SEL_DATA, 0xc93 };
	s->tr = (struct hv_segment){ CRT_TSS, 0x67, CRT_SEL_TSS, 0x8b };
	s->ldtr = (struct hv_segment){ 0, 0, 0, 0x82 };
	s->gdt = (struct hv_dtable){ CRT_GDT, 5 * 8 - 1, 0 };
	s->idt = (struct hv_dtable){ 0, 0, 0 };
	s->cr0 = 0x80050033;                    /* PG AM WP NE ET MP PE */
	s->cr3 = CRT_PML4;
	s->cr4 = 0x620;                         /* OSXMMEXCPT OSFXSR PAE */
	s->efer = 0xd00;                        /* NXE LMA LME */
	e = hcall(HC_SET_SREGS, (uint64_t)c->vcpu[i], (uint64_t)s, 0, 0);
	if (e == -HV_EINVAL) {
		/* A hypervisor that refuses CR4.OSXMMEXCPT: the runtime sets
		 * it itself at entry (start.S). */
		s->cr4 = 0x220;
		e = hcall(HC_SET_SREGS, (uint64_t)c->vcpu[i], (uint64_t)s, 0, 0);
	}
	if (e < 0)
		return e;
	gmemset(r, 0, sizeof(*r));
	r->rip = CRT_LOAD;
	r->rsp = c->ram - (uint64_t)i * CRT_STACK_SIZE;
	r->rdi = i;
	r->rsi = c->ram;
	r->rdx = c->nvcpus;
	r->rflags = 0x2;
	return hcall(HC_SET_REGS, (uint64_t)c->vcpu[i], (uint64_t)r, 0, 0);
}

int64_t child_create64(struct child64 *c, const void *bin, size_t len, size_t ram,
		       unsigned int nvcpus)
{
	const struct crt_header *h = bin;
	const char *name = c->name;
	uint32_t flags = c->flags;
	int64_t e;

	gmemset(c, 0, sizeof(*c));
	c->name = name ? name : "child";
	c->flags = flags;
	if (!nvcpus || nvcpus > CRT_MAX_VCPUS || ram % 0x200000 || ram > CRT_IDENTITY_MAP ||
	    len < sizeof(*h) || h->magic != CRT_MAGIC ||
	    h->image_end + (uint64_t)nvcpus * CRT_STACK_SIZE > ram)
		return -HV_EINVAL;
	c->ram = ram;
	c->nvcpus = nvcpus;
	c->mem = ralloc(ram);
	c->scratch = ralloc(4096);
	if (!c->mem || !c->scratch)
		return -HV_ENOMEM;
	gmemcpy(c->mem + CRT_LOAD, bin, len);
	build_layout(c);
	if ((e = hcall(HC_VM_CREATE, 0, 0, 0, 0)) < 0)
		return e;
	c->vm = e;
	if ((e = hcall(HC_SET_MEMORY_REGION, (uint64_t)c->vm, 0, (uint64_t)c->mem, ram)) < 0)
		goto fail;
	if ((flags & CHILD64_IRQCHIP) && (e = hcall(HC_CREATE_IRQCHIP, (uint64_t)c->vm, 0, 0, 0)) < 0)
		goto fail;
	for (unsigned int i = 0; i < nvcpus; i++) {
		c->exit[i] = ralloc(4096);
		if (!c->exit[i]) {
			e = -HV_ENOMEM;
			goto fail;
		}
		if ((e = hcall(HC_VCPU_CREATE, (uint64_t)c->vm, (uint64_t)c->exit[i], 0, 0)) < 0)
			goto fail;
		c->vcpu[i] = e;
		if ((e = set_state(c, i)) < 0)
			goto fail;
	}
	return 0;
fail:
	child_destroy64(c);
	return e;
}

int64_t child_destroy64(struct child64 *c)
{
	int64_t r = 0, e;

	for (unsigned int i = 0; i < CRT_MAX_VCPUS; i++)
		if (c->vcpu[i] > 0) {
			if ((e = hcall(HC_VCPU_DESTROY, (uint64_t)c->vcpu[i], 0, 0, 0)) < 0 && !r)
				r = e;
			else
				c->vcpu[i] = 0;
		}
	if (c->vm > 0) {
		if ((e = hcall(HC_VM_DESTROY, (uint64_t)c->vm, 0, 0, 0)) < 0 && !r)
			r = e;
		else
			c->vm = 0;
	}
	return r;
}

static void console(struct child64 *c, unsigned int i, char ch)
{
	struct child64_cpu *p = &c->cpu[i];

	if (ch != '\n' && p->len + 1 < CHILD64_LINE) {
		p->line[p->len++] = ch;
		return;
	}
	p->line[p->len] = '\0';
	gprintf("  [%s.%u] %s\n", c->name, i, p->line);
	gmemcpy(p->last, p->line, p->len + 1);
	p->len = 0;
	if (ch != '\n')
		console(c, i, ch);
}

enum child64_event child_run64(struct child64 *c, unsigned int i)
{
	struct child64_cpu *p = &c->cpu[i];
	struct hv_exit *e = c->exit[i];

	p->prompt = false;
	for (;;) {
		int64_t r = hcall(HC_RUN, (uint64_t)c->vcpu[i], c->budget_us, c->run_flags, 0);

		if (r < 0) {
			p->err = r;
			return C64_ERROR;
		}
		if (e->reason != HV_EXIT_IO)
			return C64_OTHER;
		if (e->io.out && e->io.port == CRT_PORT_CONSOLE) {
			console(c, i, (char)e->io.data);
			continue;
		}
		if (e->io.out && e->io.port == CRT_PORT_REPORT) {
			if (p->nvalues < CHILD64_VALUES)
				p->values[p->nvalues] = (uint32_t)e->io.data;
			p->nvalues++;
			continue;
		}
		if (e->io.out && e->io.port == CRT_PORT_EXIT) {
			if (p->len)
				console(c, i, '\n');
			p->exited = true;
			p->status = (uint32_t)e->io.data;
			return C64_EXIT;
		}
		if (!e->io.out && e->io.port == CRT_PORT_CMD) {
			p->prompt = true;
			return C64_PROMPT;
		}
		return C64_OTHER;
	}
}

enum child64_event child_cmd64(struct child64 *c, unsigned int i, uint32_t cmd)
{
	enum child64_event ev;

	if (c->cpu[i].exited)
		return C64_EXIT;
	if (!c->cpu[i].prompt && (ev = child_run64(c, i)) != C64_PROMPT)
		return ev;
	c->exit[i]->io.data = cmd;
	return child_run64(c, i);
}

static const char *const reasons[] = {
	"none", "io", "mmio", "hlt", "hypercall", "shutdown", "internal", "timeout", "kicked",
	"yield",
};

void child_describe64(const struct child64 *c, unsigned int i, char *buf, size_t size)
{
	const struct child64_cpu *p = &c->cpu[i];
	const struct hv_exit *e = c->exit[i];
	const char *r = e->reason < sizeof(reasons) / sizeof(reasons[0]) ? reasons[e->reason] : "?";

	if (p->err)
		snprintf(buf, size, "HC_RUN failed (%ld)", p->err);
	else if (p->exited && p->status >= CRT_EXIT_TRAP && p->status < CRT_EXIT_TRAP + 32)
		snprintf(buf, size, "the child died of exception %u", p->status - CRT_EXIT_TRAP);
	else if (p->exited)
		snprintf(buf, size, "the child exited with status 0x%x", p->status);
	else if (e->reason == HV_EXIT_MMIO)
		snprintf(buf, size, "mmio exit at gpa 0x%lx (%s), rip 0x%lx", e->mmio.gpa,
			  e->mmio.write ? "write" : "read", e->rip);
	else if (e->reason == HV_EXIT_INTERNAL)
		snprintf(buf, size, "internal exit: hw reason 0x%lx, info 0x%lx 0x%lx, rip 0x%lx",
			  e->internal.hw_reason, e->internal.info1, e->internal.info2, e->rip);
	else if (e->reason == HV_EXIT_IO)
		snprintf(buf, size, "io exit: port 0x%x %s, rip 0x%lx", e->io.port,
			  e->io.out ? "out" : "in", e->rip);
	else
		snprintf(buf, size, "%s exit at rip 0x%lx", r, e->rip);
}
