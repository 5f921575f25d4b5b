/*
 * Instructions the hypervisor completes for a child (hv/emulate.h): MMIO
 * accesses (the local APIC and IOAPIC pages here, any other address for
 * the root) and string port I/O. The instruction is fetched through the
 * guest's own page tables and decoded (x86/insn.h, x86/gwalk.h): neither
 * QEMU's SVM (no decode assists) nor VMX (no length for EPT violations)
 * says what the access was. docs/emulation.md has the details.
 */
#include "hv/emulate.h"
#include "hv/errno.h"
#include "hv/exits.h"
#include "hv/irqchip.h"
#include "hv/printk.h"
#include "hv/string.h"
#include "hv/virt_init.h"
#include "hv/vm.h"
#include <x86/gwalk.h>
#include <x86/insn.h>

#define CR0_PE          (1ULL << 0)
#define EFER_LMA        (1ULL << 10)
#define RFLAGS_DF       (1ULL << 10)
#define RFLAGS_VM       (1ULL << 17)
#define ATTR_L          (1u << 9)
#define ATTR_DB         (1u << 10)

/* struct hv_regs as an array, in the hardware numbering of registers
 * (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8-R15). */
static const uint8_t hv_slot[16] = { 0, 2, 3, 1, 6, 7, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15 };

static void regs_to_gpr(const struct hv_regs *r, uint64_t gpr[16])
{
	const uint64_t *a = (const uint64_t *)r;

	for (int i = 0; i < 16; i++)
		gpr[i] = a[hv_slot[i]];
}

static void gpr_to_regs(const uint64_t gpr[16], struct hv_regs *r)
{
	uint64_t *a = (uint64_t *)r;

	for (int i = 0; i < 16; i++)
		a[hv_slot[i]] = gpr[i];
}

/* ---------------------------------------------------------- guest memory */

static int read_phys(void *ctx, uint64_t gpa, void *buf, unsigned int size)
{
	const void *h = vm_gpa_to_hva(ctx, gpa, size);

	if (!h)
		return -EFAULT;
	memcpy(buf, h, size);
	return 0;
}

static int write_phys(void *ctx, uint64_t gpa, const void *buf, unsigned int size)
{
	void *h = vm_gpa_to_hva(ctx, gpa, size);

	if (!h)
		return -EFAULT;
	memcpy(h, buf, size);
	return 0;
}

static void walk_regs(const struct guest_mode *m, struct gwalk_regs *w)
{
	*w = (struct gwalk_regs){ .cr0 = m->cr0, .cr3 = m->cr3, .cr4 = m->cr4,
				  .efer = m->efer, .cpl = m->cpl };
}

static enum insn_mode decode_mode(const struct guest_mode *m)
{
	if (!(m->cr0 & CR0_PE) || (m->rflags & RFLAGS_VM))
		return INSN_MODE_16;
	if ((m->efer & EFER_LMA) && (m->cs_attrib & ATTR_L))
		return INSN_MODE_64;
	return m->cs_attrib & ATTR_DB ? INSN_MODE_32 : INSN_MODE_16;
}

/* Up to 15 bytes at CS:RIP; fewer where the next page is not mapped (the
 * instruction may still end before it). 0 bytes: not even the first. */
static size_t fetch(struct vcpu *v, const struct guest_mode *m, uint64_t rip, uint8_t *buf)
{
	struct gwalk_regs w;
	uint64_t la = m->cs_base + rip, fault_la;
	uint32_t pf;
	size_t n = INSN_MAX_LEN;

	if (decode_mode(m) != INSN_MODE_64)
		la = (uint32_t)la;
	walk_regs(m, &w);
	if (!gwalk_read(&w, la, buf, n, GWALK_FETCH | (m->cpl == 3 ? GWALK_USER : 0),
			read_phys, v->vm, &pf, &fault_la))
		return n;
	/* Take the bytes before the first that failed. */
	n = fault_la > la && fault_la - la < n ? fault_la - la : 0;
	if (n && gwalk_read(&w, la, buf, n, GWALK_FETCH, read_phys, v->vm, &pf, &fault_la))
		n = 0;
	return n;
}

/* ---------------------------------------------------------- MMIO */

struct mmio_ctx {
	struct vcpu *v;
	uint64_t gpa;
	bool device_here;               /* the irqchip's, else the root's */
	bool have_data;                 /* the root's answer to a read */
	uint64_t data;
	bool wrote;                     /* a write for the root to see */
	uint64_t write_val;
	unsigned int write_size;
};

static int mmio_read(void *p, uint64_t *val, unsigned int size)
{
	struct mmio_ctx *c = p;

	if (c->device_here)
		return irqchip_mmio(c->v, c->gpa, false, size, val);
	if (!c->have_data)
		return -EAGAIN;                 /* the root answers, next run */
	*val = c->data;
	return 0;
}

static int mmio_write(void *p, uint64_t val, unsigned int size)
{
	struct mmio_ctx *c = p;

	if (c->device_here)
		return irqchip_mmio(c->v, c->gpa, true, size, &val);
	c->wrote = true;
	c->write_val = val;
	c->write_size = size;
	return 0;
}

static const struct insn_emul_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

static void record_insn(uint8_t *dst, uint8_t *dst_len, const uint8_t *bytes, size_t n)
{
	n = MIN(n, (size_t)16);
	memcpy(dst, bytes, n);
	*dst_len = (uint8_t)n;
}

/* Emulate the instruction at RIP against the device at gpa. EXIT_RESUME:
 * done; EXIT_TO_ROOT: a record for the root (a read it must answer, a
 * write it must see, an instruction that was not understood). */
static enum exit_action mmio_run(struct vcpu *v, uint64_t gpa, bool have_data, uint64_t data)
{
	struct guest_mode m;
	struct hv_regs r;
	struct insn in;
	uint8_t bytes[16];
	uint64_t gpr[16];
	struct mmio_ctx c = { .v = v, .gpa = gpa, .have_data = have_data, .data = data };
	struct hv_exit *rec;
	size_t n;
	int err;

	virt_ops->get_mode(v, &m);
	virt_ops->get_regs(v, &r);
	n = fetch(v, &m, r.rip, bytes);
	if (!n) {
		rec = exit_to_root(v, HV_EXIT_INTERNAL, r.rip);
		rec->internal.suberror = HV_INTERNAL_FETCH;
		rec->internal.info1 = m.cs_base + r.rip;
		rec->internal.info2 = gpa;
		v->vm->dead = true;
		return EXIT_TO_ROOT;
	}
	err = insn_decode(&in, bytes, n, decode_mode(&m));
	c.device_here = irqchip_owns(v, gpa);
	if (err) {
		/* Not one this emulator does: the root sees the bytes and
		 * decides (it may emulate and move RIP itself). */
		rec = exit_to_root(v, HV_EXIT_MMIO, r.rip);
		rec->mmio.gpa = gpa;
		record_insn(rec->mmio.insn, &rec->mmio.insn_len, bytes, n);
		return EXIT_TO_ROOT;
	}
	regs_to_gpr(&r, gpr);
	err = insn_emulate(&in, gpr, &r.rflags, &mmio_ops, &c);
	if (err == -EAGAIN) {
		rec = exit_to_root(v, HV_EXIT_MMIO, r.rip);
		rec->mmio.gpa = gpa;
		rec->mmio.size = in.memsize;
		record_insn(rec->mmio.insn, &rec->mmio.insn_len, bytes, in.len);
		v->pending = PENDING_MMIO;
		v->pending_gpa = gpa;
		return EXIT_TO_ROOT;
	}
	if (err) {
		rec = exit_to_root(v, HV_EXIT_INTERNAL, r.rip);
		rec->internal.suberror = HV_INTERNAL_EMULATION;
		record_insn(rec->internal.insn, &rec->internal.insn_len, bytes, in.len);
		v->vm->dead = true;
		return EXIT_TO_ROOT;
	}
	gpr_to_regs(gpr, &r);
	r.rip += in.len;
	virt_ops->set_regs(v, &r);
	v->vm->stat[HV_STAT_MMIO]++;
	if (!c.wrote)
		return EXIT_RESUME;
	rec = exit_to_root(v, HV_EXIT_MMIO, r.rip - in.len);
	rec->mmio.gpa = gpa;
	rec->mmio.write = 1;
	rec->mmio.size = (uint8_t)c.write_size;
	rec->mmio.data = c.write_val;
	record_insn(rec->mmio.insn, &rec->mmio.insn_len, bytes, in.len);
	return EXIT_TO_ROOT;
}

enum exit_action emulate_mmio(struct vcpu *v, const struct vm_exit_info *e)
{
	return mmio_run(v, e->npf.gpa, false, 0);
}

bool emulate_mmio_complete(struct vcpu *v)
{
	const struct hv_exit *rec = (const struct hv_exit *)v->exit_page;

	v->pending = PENDING_NONE;
	return mmio_run(v, v->pending_gpa, true, rec->mmio.data) == EXIT_TO_ROOT;
}

/* ---------------------------------------------------------- string I/O */

/* What the prefixes of an INS/OUTS say (SDM Vol. 2, INS/OUTS): REP, the
 * address size, a segment override (OUTS only: INS always uses ES). */
struct string_io {
	bool rep;
	unsigned int addr_size;         /* bytes */
	int seg;                        /* enum insn_seg */
	unsigned int len;
};

static int parse_string_io(const uint8_t *b, size_t n, enum insn_mode mode, struct string_io *s)
{
	bool addr_override = false;

	s->rep = false;
	s->seg = SEG_DS;
	for (s->len = 0; s->len < n; s->len++) {
		uint8_t p = b[s->len];

		if (p == 0xf3 || p == 0xf2)
			s->rep = true;
		else if (p == 0x67)
			addr_override = true;
		else if (p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e)
			s->seg = (p >> 3) & 3;
		else if (p == 0x64 || p == 0x65)
			s->seg = p - 0x60;
		else if (p == 0x66 || p == 0xf0 || (mode == INSN_MODE_64 && (p & 0xf0) == 0x40))
			continue;
		else
			break;
	}
	if (s->len >= n || (b[s->len] & 0xfc) != 0x6c)
		return -EINVAL;
	s->len++;
	s->addr_size = mode == INSN_MODE_64 ? (addr_override ? 4 : 8) :
		       (mode == INSN_MODE_32) != addr_override ? 4 : 2;
	return 0;
}

static uint64_t seg_base(const struct hv_sregs *s, int seg)
{
	const struct hv_segment *segs[6] = { &s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs };

	return segs[seg]->base;
}

static uint64_t addr_mask(unsigned int size)
{
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* Inject a page fault the guest's own walk produced. */
static void page_fault(struct vcpu *v, uint64_t la, uint32_t err)
{
	struct hv_sregs s;

	virt_ops->get_sregs(v, &s);
	s.cr2 = la;
	virt_ops->set_sregs(v, &s);
	virt_ops->inject_exception(v, 14, true, err);
}

/*
 * One element per exit (docs/hypercalls.md): OUTS reads it from guest
 * memory and the root sees an ordinary OUT; INS gets an ordinary IN and
 * the element goes to guest memory when the root answers. RSI/RDI and
 * (with REP) RCX step as the CPU does; RIP moves on only when REP is done,
 * so the instruction runs again for the next element.
 */
enum exit_action emulate_string_io(struct vcpu *v, const struct vm_exit_info *e)
{
	struct guest_mode m;
	struct hv_sregs sr;
	struct hv_regs r;
	struct string_io s;
	struct gwalk_regs w;
	uint8_t bytes[16];
	uint64_t mask, la, data = 0, fault_la;
	uint32_t pf;
	struct hv_exit *rec;
	size_t n;

	virt_ops->get_mode(v, &m);
	virt_ops->get_regs(v, &r);
	n = fetch(v, &m, r.rip, bytes);
	if (!n || parse_string_io(bytes, n, decode_mode(&m), &s)) {
		rec = exit_to_root(v, HV_EXIT_INTERNAL, r.rip);
		rec->internal.suberror = n ? HV_INTERNAL_EMULATION : HV_INTERNAL_FETCH;
		rec->internal.hw_reason = e->hw_reason;
		record_insn(rec->internal.insn, &rec->internal.insn_len, bytes, n);
		v->vm->dead = true;
		return EXIT_TO_ROOT;
	}
	mask = addr_mask(s.addr_size);
	if (s.rep && !(r.rcx & mask)) {         /* REP with a zero count: nothing */
		virt_ops->set_rip(v, r.rip + s.len);
		return EXIT_RESUME;
	}
	virt_ops->get_sregs(v, &sr);
	walk_regs(&m, &w);
	la = e->io.in ? sr.es.base + (r.rdi & mask) : seg_base(&sr, s.seg) + (r.rsi & mask);
	if (!e->io.in && gwalk_read(&w, la, &data, e->io.size, m.cpl == 3 ? GWALK_USER : 0,
				    read_phys, v->vm, &pf, &fault_la)) {
		page_fault(v, fault_la, pf);
		return EXIT_RESUME;
	}
	rec = exit_to_root(v, HV_EXIT_IO, r.rip);
	rec->io.port = e->io.port;
	rec->io.size = e->io.size;
	rec->io.out = !e->io.in;
	rec->io.data = data;
	v->string_la = la;
	v->string_len = s.len;
	v->string_rep = s.rep;
	v->string_mask = mask;
	v->pending_size = e->io.size;
	if (e->io.in) {
		v->pending = PENDING_INS;
		return EXIT_TO_ROOT;
	}
	emulate_string_step(v, false);
	return EXIT_TO_ROOT;
}

/* After an element: RSI or RDI by the size (down with DF), RCX by one
 * with REP, RIP on when done. */
void emulate_string_step(struct vcpu *v, bool in)
{
	struct hv_regs r;
	uint64_t *idx, step, mask = v->string_mask;

	virt_ops->get_regs(v, &r);
	idx = in ? &r.rdi : &r.rsi;
	step = r.rflags & RFLAGS_DF ? -(uint64_t)v->pending_size : v->pending_size;
	*idx = (*idx & ~mask) | ((*idx + step) & mask);
	if (v->string_rep)
		r.rcx = (r.rcx & ~mask) | ((r.rcx - 1) & mask);
	if (!v->string_rep || !(r.rcx & mask))
		r.rip += v->string_len;
	virt_ops->set_regs(v, &r);
}

void emulate_ins_complete(struct vcpu *v)
{
	const struct hv_exit *rec = (const struct hv_exit *)v->exit_page;
	struct guest_mode m;
	struct gwalk_regs w;
	uint64_t fault_la;
	uint32_t pf;

	v->pending = PENDING_NONE;
	virt_ops->get_mode(v, &m);
	walk_regs(&m, &w);
	if (gwalk_write(&w, v->string_la, &rec->io.data, v->pending_size,
			GWALK_WRITE | (m.cpl == 3 ? GWALK_USER : 0), read_phys, write_phys,
			v->vm, &pf, &fault_la)) {
		page_fault(v, fault_la, pf);
		return;
	}
	emulate_string_step(v, true);
}
