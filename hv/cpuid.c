/* CPUID tables of VMs (hv/cpuid.h). */
#include "hv/cpuid.h"
#include "hv/errno.h"
#include "hv/string.h"

enum { EAX, EBX, ECX, EDX };

struct cpuid_table default_cpuid;

#define BIT(n) (1u << (n))

/*
 * Registers that are feature flags, and the bits of them a guest may see:
 * the CPU's bits AND these. Every bit left out is something the hypervisor
 * does not virtualize (VMX/SVM themselves, MONITOR, PCID/INVPCID, PKU,
 * LA57, TSX, MPX, SGX, PT, performance monitoring, machine checks,
 * speculation-control MSRs, thermal/power management).
 */
static const struct flag_mask {
	uint32_t leaf, sub;
	uint8_t reg;
	uint32_t keep;
} flag_masks[] = {
	{ 1, 0, ECX, BIT(0) | BIT(1) | BIT(9) | BIT(12) | BIT(13) | BIT(19) | BIT(20) |
		     BIT(21) | BIT(22) | BIT(23) | BIT(24) | BIT(25) | BIT(26) | BIT(27) |
		     BIT(28) | BIT(29) | BIT(30) | BIT(31) },
	{ 1, 0, EDX, 0x1f << 0 | BIT(5) | BIT(6) | BIT(8) | BIT(9) | BIT(11) | BIT(12) |
		     BIT(13) | BIT(15) | BIT(16) | BIT(17) | BIT(19) | BIT(23) | BIT(24) |
		     BIT(25) | BIT(26) | BIT(28) },
	{ 6, 0, EAX, BIT(2) },                          /* ARAT: the APIC timer never stops */
	{ 7, 0, EAX, 0 },                               /* no sub-leaves beyond 0 */
	{ 7, 0, EBX, BIT(0) | BIT(3) | BIT(5) | BIT(7) | BIT(8) | BIT(9) | BIT(13) |
		     BIT(16) | BIT(17) | BIT(18) | BIT(19) | BIT(20) | BIT(21) | BIT(23) |
		     BIT(24) | BIT(26) | BIT(27) | BIT(28) | BIT(29) | BIT(30) | BIT(31) },
	{ 7, 0, ECX, BIT(1) | BIT(2) | BIT(6) | BIT(8) | BIT(9) | BIT(10) | BIT(11) |
		     BIT(12) | BIT(14) | BIT(22) },
	{ 7, 0, EDX, BIT(2) | BIT(3) | BIT(4) },
	{ 0xd, 1, EAX, BIT(0) },                        /* XSAVEOPT; no XSAVEC/XSAVES */
	{ 0x80000001, 0, ECX, BIT(0) | BIT(1) | BIT(5) | BIT(6) | BIT(7) | BIT(8) |
			      BIT(11) | BIT(16) | BIT(21) | BIT(22) },
	{ 0x80000001, 0, EDX, 0x1f << 0 | BIT(5) | BIT(6) | BIT(8) | BIT(9) | BIT(11) |
			      BIT(12) | BIT(13) | BIT(15) | BIT(16) | BIT(17) | BIT(20) |
			      BIT(22) | BIT(23) | BIT(24) | BIT(25) | BIT(26) | BIT(27) |
			      BIT(29) | BIT(30) | BIT(31) },
	{ 0x80000007, 0, EDX, BIT(8) },                 /* invariant TSC */
	{ 0x80000008, 0, EBX, 0 },
};

/* Leaves whose sub-leaf (ECX) selects the answer. */
static bool indexed_leaf(uint32_t leaf)
{
	return leaf == 4 || leaf == 7 || leaf == 0xb || leaf == 0xd || leaf == 0x1f ||
	       leaf == 0x8000001d;
}

static struct hv_cpuid_entry *find(struct cpuid_table *t, uint32_t leaf, uint32_t sub)
{
	for (uint32_t i = 0; i < t->nent; i++) {
		struct hv_cpuid_entry *e = &t->e[i];

		if (e->function == leaf && (!(e->flags & HV_CPUID_INDEXED) || e->index == sub))
			return e;
	}
	return NULL;
}

static const struct hv_cpuid_entry *cfind(const struct cpuid_table *t, uint32_t leaf, uint32_t sub)
{
	return find((struct cpuid_table *)t, leaf, sub);
}

static uint32_t *reg(struct hv_cpuid_entry *e, int r)
{
	return r == EAX ? &e->eax : r == EBX ? &e->ebx : r == ECX ? &e->ecx : &e->edx;
}

static const uint32_t *creg(const struct hv_cpuid_entry *e, int r)
{
	return reg((struct hv_cpuid_entry *)e, r);
}

static struct hv_cpuid_entry *add(struct cpuid_table *t, cpuid_host_fn host, uint32_t leaf,
				  uint32_t sub)
{
	struct hv_cpuid_entry *e;
	uint32_t r[4];

	if (t->nent == HV_CPUID_MAX_ENTRIES)
		return NULL;
	e = &t->e[t->nent++];
	host(leaf, sub, r);
	*e = (struct hv_cpuid_entry){ .function = leaf, .index = sub,
				      .flags = indexed_leaf(leaf) ? HV_CPUID_INDEXED : 0,
				      .eax = r[0], .ebx = r[1], .ecx = r[2], .edx = r[3] };
	return e;
}

static void zero(struct hv_cpuid_entry *e)
{
	if (e)
		e->eax = e->ebx = e->ecx = e->edx = 0;
}

static void apply_masks(struct cpuid_table *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_masks); i++) {
		struct hv_cpuid_entry *e = find(t, flag_masks[i].leaf, flag_masks[i].sub);

		if (e)
			*reg(e, flag_masks[i].reg) &= flag_masks[i].keep;
	}
}

void cpuid_build_default(struct cpuid_table *t, cpuid_host_fn host,
			 const struct cpuid_host_facts *f)
{
	uint32_t r[4], max_basic, max_ext;
	struct hv_cpuid_entry *e;

	memset(t, 0, sizeof(*t));
	host(0, 0, r);
	max_basic = r[0];
	host(0x80000000, 0, r);
	max_ext = MIN(r[0], 0x80000021u);

	/* Leaf 0: the topology leaves 0xB and 0x1F are always answered. */
	e = add(t, host, 0, 0);
	e->eax = 0x1f;
	e = add(t, host, 1, 0);
	e->ebx &= 0xff00;                       /* CLFLUSH size; IDs per vCPU */
	if (!f->xsave)
		e->ecx &= ~(BIT(26) | BIT(27) | BIT(28));
	if (!(f->xcr0_mask & 4))
		e->ecx &= ~BIT(28);                     /* AVX */
	e->ecx |= BIT(21) | BIT(24);            /* x2APIC, TSC-deadline: emulated */
	e->edx |= BIT(9) | BIT(12);             /* APIC (emulated), MTRR (default type only) */
	if (max_basic >= 2)
		add(t, host, 2, 0);
	if (max_basic >= 4) {
		for (uint32_t sub = 0; sub < 8; sub++) {
			host(4, sub, r);
			if (!(r[0] & 0x1f))
				break;
			add(t, host, 4, sub);
		}
	}
	e = add(t, host, 6, 0);
	if (max_basic < 6)
		zero(e);
	e->eax |= BIT(2);                       /* ARAT: the model's timer never stops */
	e->ebx = e->ecx = e->edx = 0;
	e = add(t, host, 7, 0);
	if (max_basic < 7)
		zero(e);
	if (!(f->xcr0_mask & 4))
		e->ebx &= ~BIT(5);                      /* AVX2 */
	if (!(f->xcr0_mask & 0xe0)) {
		e->ebx &= ~0xdc230000u;                 /* AVX-512 F/DQ/IFMA/PF/ER/CD/BW/VL */
		e->ecx &= ~(BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14));
		e->edx &= ~(BIT(2) | BIT(3));
	}
	add(t, host, 0xb, 0);
	add(t, host, 0xb, 1);
	if (f->xsave && max_basic >= 0xd) {
		e = add(t, host, 0xd, 0);
		e->eax = (uint32_t)f->xcr0_mask;
		e->edx = (uint32_t)(f->xcr0_mask >> 32);
		e->ecx = f->xsave_max_size;
		add(t, host, 0xd, 1)->ebx = 0;
		for (uint32_t i = 2; i < 64; i++)
			if (f->xcr0_mask >> i & 1) {
				e = add(t, host, 0xd, i);
				e->ecx = e->edx = 0;
			}
	}
	add(t, host, 0x1f, 0);
	add(t, host, 0x1f, 1);

	e = add(t, host, HV_CPUID_SIGNATURE, 0);
	*e = (struct hv_cpuid_entry){ .function = HV_CPUID_SIGNATURE, .eax = HV_CPUID_FEATURES,
				      .ebx = HV_SIGNATURE_EBX, .ecx = HV_SIGNATURE_ECX,
				      .edx = HV_SIGNATURE_EDX };
	e = add(t, host, HV_CPUID_FEATURES, 0);
	*e = (struct hv_cpuid_entry){ .function = HV_CPUID_FEATURES, .eax = HV_API_VERSION };

	e = add(t, host, 0x80000000, 0);
	e->eax = max_ext;
	for (uint32_t leaf = 0x80000001; leaf <= max_ext; leaf++) {
		if (leaf == 0x8000001d) {
			for (uint32_t sub = 0; sub < 8; sub++) {
				host(leaf, sub, r);
				if (!(r[0] & 0x1f))
					break;
				e = add(t, host, leaf, sub);
				e->eax &= ~(0xfffu << 14);      /* sharing: per vCPU */
			}
			continue;
		}
		e = add(t, host, leaf, 0);
		if (!e)
			break;
		switch (leaf) {
		case 0x80000001: case 0x80000002: case 0x80000003: case 0x80000004:
		case 0x80000005: case 0x80000006: case 0x80000007: case 0x80000008:
		case 0x8000001e:
			break;
		default:
			zero(e);                /* SVM, SEV, IBS, ...: not offered */
			break;
		}
		if (leaf == 0x80000008) {
			e->ecx = 0;             /* core count: per VM */
			e->edx = 0;
		}
	}
	apply_masks(t);
	e = find(t, 1, 0);
	e->ecx |= BIT(31);                      /* running under a hypervisor */
}

static bool owned(uint32_t leaf)
{
	return leaf >= CPUID_HV_OWN_BASE && leaf < CPUID_HV_OWN_END;
}

int cpuid_table_set(struct cpuid_table *out, const struct hv_cpuid *in,
		    const struct cpuid_table *supported)
{
	static struct cpuid_table t;    /* callers serialise (the management lock) */

	if (in->nent > HV_CPUID_MAX_ENTRIES)
		return -EINVAL;
	memset(&t, 0, sizeof(t));
	for (uint32_t i = 0; i < in->nent; i++) {
		const struct hv_cpuid_entry *e = &in->entries[i];

		if ((e->flags & ~HV_CPUID_INDEXED) || owned(e->function) ||
		    find(&t, e->function, e->index))
			return -EINVAL;
		t.e[t.nent] = *e;
		t.e[t.nent].pad = 0;
		if (!(e->flags & HV_CPUID_INDEXED))
			t.e[t.nent].index = 0;
		t.nent++;
	}
	/* Feature flags: at most what the hypervisor offers. */
	for (size_t i = 0; i < ARRAY_SIZE(flag_masks); i++) {
		struct hv_cpuid_entry *e = find(&t, flag_masks[i].leaf, flag_masks[i].sub);
		const struct hv_cpuid_entry *s = cfind(supported, flag_masks[i].leaf,
						       flag_masks[i].sub);

		if (e)
			*reg(e, flag_masks[i].reg) &= s ? *creg(s, flag_masks[i].reg) : 0;
	}
	struct hv_cpuid_entry *e = find(&t, 1, 0);
	const struct hv_cpuid_entry *s = cfind(supported, 1, 0);

	if (e)
		e->ecx = (e->ecx & (s ? s->ecx : 0)) | BIT(31);
	if ((e = find(&t, 0xd, 0))) {           /* XCR0 bits: at most ours */
		s = cfind(supported, 0xd, 0);
		e->eax &= s ? s->eax : 0;
		e->edx &= s ? s->edx : 0;
		e->ecx = s ? s->ecx : 0;
	}
	zero(find(&t, 0x8000000a, 0));          /* SVM is never offered */
	zero(find(&t, 5, 0));                   /* nor MONITOR/MWAIT */
	*out = t;
	return 0;
}

void cpuid_table_get(const struct cpuid_table *t, struct hv_cpuid *out)
{
	memset(out, 0, sizeof(*out));
	out->nent = t->nent;
	memcpy(out->entries, t->e, t->nent * sizeof(t->e[0]));
}

static uint32_t order(uint32_t n)       /* bits to number n IDs */
{
	uint32_t b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

void cpuid_lookup(const struct cpuid_table *t, uint32_t leaf, uint32_t sub,
		  const struct cpuid_dyn *d, uint32_t out[4])
{
	const struct hv_cpuid_entry *e;
	uint32_t n = MAX(d->nr_vcpus, 1u);

	if (owned(leaf)) {
		out[0] = out[1] = out[2] = out[3] = 0;
		if (leaf == CPUID_HV_OWN_BASE) {
			out[0] = CPUID_HV_OWN_BASE + 1;
			out[1] = HV_SIGNATURE_EBX;
			out[2] = HV_SIGNATURE_ECX;
			out[3] = HV_SIGNATURE_EDX;
		} else if (leaf == CPUID_HV_OWN_BASE + 1) {
			out[0] = HV_API_VERSION;
		}
		return;
	}
	e = cfind(t, leaf, sub);
	if (!e) {
		out[0] = out[1] = out[2] = out[3] = 0;
		/* Topology leaves past their last level still name the ID. */
		if ((leaf == 0xb || leaf == 0x1f) && cfind(t, leaf, 0)) {
			out[2] = sub & 0xff;
			out[3] = d->apic_id;
		}
		return;
	}
	out[0] = e->eax;
	out[1] = e->ebx;
	out[2] = e->ecx;
	out[3] = e->edx;
	switch (leaf) {
	case 1:
		out[1] = (out[1] & 0xffff) | (1u << order(n)) << 16 | d->apic_id << 24;
		if (n > 1)
			out[3] |= BIT(28);      /* HTT: EBX[23:16] is valid */
		else
			out[3] &= ~BIT(28);
		out[2] &= ~BIT(27);
		if (d->osxsave && (out[2] & BIT(26)))
			out[2] |= BIT(27);
		if (!d->irqchip)
			out[2] &= ~(BIT(21) | BIT(24));
		if (!d->irqchip || !d->apic_enabled)
			out[3] &= ~BIT(9);      /* CPUs clear it while the APIC is off */
		break;
	case 4:
		out[0] = (out[0] & 0x3fff) | ((1u << order(n)) - 1) << 26;
		break;
	case 0xb:
	case 0x1f:
		/* One thread per core, n cores in one package. */
		if (sub == 0) {
			out[0] = 0;
			out[1] = 1;
			out[2] = 1u << 8;
		} else if (sub == 1) {
			out[0] = order(n);
			out[1] = n;
			out[2] = 1 | 2u << 8;
		} else {
			out[0] = out[1] = 0;
			out[2] = sub & 0xff;
		}
		out[3] = d->apic_id;
		break;
	case 0xd:
		if (sub == 0)
			out[1] = d->xsave_size;
		break;
	case 0x80000008:
		out[2] = (n - 1) | order(n) << 12;
		break;
	case 0x8000001e:
		out[0] = d->apic_id;
		out[1] = d->apic_id & 0xff;     /* core ID; one thread per core */
		out[2] = 0;                     /* node 0 of 1 */
		out[3] = 0;
		break;
	}
}

uint64_t cpuid_xcr0_mask(const struct cpuid_table *t)
{
	const struct hv_cpuid_entry *e = cfind(t, 0xd, 0);

	return e ? ((uint64_t)e->edx << 32 | e->eax) : 1;
}
