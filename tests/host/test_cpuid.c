/* CPUID tables (hv/cpuid.c): the default table built from a host CPU with
 * what cannot be virtualized masked, a root's table masked the same way
 * (HC_SET_CPUID) and its refusals, and the per-vCPU fields of an answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "hv/cpuid.h"
#include "hv/errno.h"

enum { EAX, EBX, ECX, EDX };

/* A host that claims every feature bit there is (all ones in the flag
 * registers), so what the tables keep is exactly what the masks let
 * through; max basic leaf 0xd, extended 0x8000001e, XSAVE with AVX. */
static void loud_host(uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	out[0] = out[1] = out[2] = out[3] = ~0u;
	switch (leaf) {
	case 0:
		out[0] = 0xd;
		break;
	case 1:
		out[0] = 0x00a50f00;
		out[1] = 0x12345678;            /* APIC ID 0x12, 0x34 logical CPUs, CLFLUSH 0x56 */
		break;
	case 4:
	case 0x8000001d:
		out[0] = sub < 3 ? (~0u & ~0x1fu) | (sub + 1) : 0;  /* three cache levels */
		break;
	case 0xd:
		out[0] = sub == 0 ? 0x7 : sub == 1 ? ~0u : 0x100;
		out[1] = sub == 2 ? 576 : 0x340;
		break;
	case 0x80000000:
		out[0] = 0x8000001e;
		break;
	}
}

static const struct cpuid_host_facts avx_host = {
	.xcr0_mask = 7, .xsave_max_size = 832, .xsave = true,
};

static struct cpuid_table def, t;

static const struct hv_cpuid_entry *entry(const struct cpuid_table *tab, uint32_t leaf,
					  uint32_t sub)
{
	for (uint32_t i = 0; i < tab->nent; i++)
		if (tab->e[i].function == leaf &&
		    (!(tab->e[i].flags & HV_CPUID_INDEXED) || tab->e[i].index == sub))
			return &tab->e[i];
	return NULL;
}

static uint32_t reg(const struct cpuid_table *tab, uint32_t leaf, uint32_t sub, int r)
{
	const struct hv_cpuid_entry *e = entry(tab, leaf, sub);

	assert_non_null(e);
	return r == EAX ? e->eax : r == EBX ? e->ebx : r == ECX ? e->ecx : e->edx;
}

static int setup(void **state)
{
	cpuid_build_default(&def, loud_host, &avx_host);
	return 0;
}

static void default_masks_what_is_not_virtualized(void **state)
{
	uint32_t ecx1 = reg(&def, 1, 0, ECX), edx1 = reg(&def, 1, 0, EDX);

	assert_false(ecx1 & 1u << 5);                   /* VMX */
	assert_false(ecx1 & 1u << 3);                   /* MONITOR */
	assert_false(ecx1 & 1u << 17);                  /* PCID */
	assert_true(ecx1 & 1u << 31);                   /* hypervisor present */
	assert_true(ecx1 & 1u << 21);                   /* x2APIC: emulated */
	assert_true(ecx1 & 1u << 24);                   /* TSC-deadline: emulated */
	assert_true(ecx1 & 1u << 26);                   /* XSAVE */
	assert_true(ecx1 & 1u << 28);                   /* AVX (XCR0 has it) */
	assert_false(edx1 & 1u << 7);                   /* MCE */
	assert_false(edx1 & 1u << 14);                  /* MCA */
	assert_true(edx1 & 1u << 9);                    /* APIC */
	assert_int_equal(reg(&def, 1, 0, EBX), 0x5600); /* IDs per vCPU, CLFLUSH kept */
	assert_false(reg(&def, 7, 0, EBX) & 1u << 2);   /* SGX */
	assert_false(reg(&def, 7, 0, EBX) & 1u << 11);  /* RTM */
	assert_false(reg(&def, 7, 0, ECX) & 1u << 3);   /* PKU */
	assert_false(reg(&def, 7, 0, ECX) & 1u << 16);  /* LA57 */
	assert_false(reg(&def, 7, 0, EDX) & 1u << 26);  /* IBRS/IBPB: no SPEC_CTRL MSR */
	assert_int_equal(reg(&def, 7, 0, EAX), 0);      /* no sub-leaves past 0 */
	assert_int_equal(reg(&def, 6, 0, EAX), 1u << 2); /* only ARAT */
	assert_false(reg(&def, 0x80000001, 0, ECX) & 1u << 2);  /* SVM */
	assert_int_equal(reg(&def, 0x8000000a, 0, EAX) | reg(&def, 0x8000000a, 0, EBX) |
			 reg(&def, 0x8000000a, 0, EDX), 0);
	assert_null(entry(&def, 0x8000001f, 0));        /* SEV: past the last leaf offered */
	assert_int_equal(reg(&def, 0, 0, EAX), 0x1f);   /* topology leaves answered */
	assert_int_equal(reg(&def, 0x80000000, 0, EAX), 0x8000001e);
	/* XSAVE: the XCR0 bits offered and the size for all of them. */
	assert_int_equal(reg(&def, 0xd, 0, EAX), 7);
	assert_int_equal(reg(&def, 0xd, 0, ECX), 832);
	assert_int_equal(reg(&def, 0xd, 1, EAX), 1);    /* XSAVEOPT only */
	assert_int_equal(reg(&def, 0xd, 2, EBX), 576);
	assert_null(entry(&def, 0xd, 5));
	/* Cache leaves: sharing is per vCPU, filled at lookup. */
	assert_int_equal(reg(&def, 0x8000001d, 0, EAX) >> 14 & 0xfff, 0);
	assert_null(entry(&def, 4, 3));
}

static void default_without_xsave_or_avx(void **state)
{
	struct cpuid_host_facts f = { .xcr0_mask = 3, .xsave_max_size = 576, .xsave = false };

	cpuid_build_default(&t, loud_host, &f);
	assert_false(reg(&t, 1, 0, ECX) & (1u << 26 | 1u << 27 | 1u << 28));
	assert_false(reg(&t, 7, 0, EBX) & 1u << 5);     /* AVX2 */
	assert_false(reg(&t, 7, 0, EBX) & 1u << 16);    /* AVX-512F */
	assert_null(entry(&t, 0xd, 0));
}

static struct hv_cpuid in;

static void add(uint32_t leaf, uint32_t sub, uint32_t flags, uint32_t a, uint32_t b, uint32_t c,
		uint32_t d)
{
	in.entries[in.nent++] = (struct hv_cpuid_entry){ leaf, sub, flags, a, b, c, d, 0 };
}

static void set_masks_to_what_is_offered(void **state)
{
	memset(&in, 0, sizeof(in));
	add(0, 0, 0, 0xd, 1, 2, 3);
	add(1, 7, 0, 0x600, ~0u, ~0u, ~0u);             /* index ignored: not indexed */
	add(5, 0, 0, 0x40, 0x40, 3, 0x1120);
	add(7, 0, HV_CPUID_INDEXED, 0, ~0u, ~0u, ~0u);
	add(0xd, 0, HV_CPUID_INDEXED, 0xff, 0, 4096, 0xffffffff);
	add(0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);   /* KVM's */
	add(0x80000001, 0, 0, 0, 0, ~0u, ~0u);
	add(0x8000000a, 0, 0, 1, 2, 3, 4);
	assert_int_equal(cpuid_table_set(&t, &in, &def), 0);
	assert_int_equal(t.nent, in.nent);
	assert_int_equal(reg(&t, 0, 0, EBX), 1);        /* non-flag leaves as given */
	assert_int_equal(reg(&t, 1, 0, EAX), 0x600);
	assert_int_equal(reg(&t, 1, 0, ECX), reg(&def, 1, 0, ECX));
	assert_int_equal(reg(&t, 1, 0, EDX), reg(&def, 1, 0, EDX));
	assert_int_equal(entry(&t, 1, 0)->index, 0);
	assert_int_equal(reg(&t, 5, 0, ECX), 0);        /* MONITOR/MWAIT never */
	assert_int_equal(reg(&t, 7, 0, EBX), reg(&def, 7, 0, EBX));
	assert_int_equal(reg(&t, 0xd, 0, EAX), 7);      /* XCR0: at most ours */
	assert_int_equal(reg(&t, 0xd, 0, EDX), 0);
	assert_int_equal(reg(&t, 0xd, 0, ECX), 832);    /* the size is ours */
	assert_int_equal(reg(&t, 0x40000000, 0, EBX), 0x4b4d564b);  /* another signature */
	assert_false(reg(&t, 0x80000001, 0, ECX) & 1u << 2);
	assert_int_equal(reg(&t, 0x8000000a, 0, EAX) | reg(&t, 0x8000000a, 0, EDX), 0);

	/* Set one VM's table, read it back: the same entries. */
	struct hv_cpuid out;

	cpuid_table_get(&t, &out);
	assert_int_equal(out.nent, t.nent);
	assert_memory_equal(out.entries, t.e, t.nent * sizeof(t.e[0]));
}

static void set_refuses_and_changes_nothing(void **state)
{
	struct cpuid_table before;

	memset(&in, 0, sizeof(in));
	add(1, 0, 0, 0x600, 0, 0, 0);
	assert_int_equal(cpuid_table_set(&t, &in, &def), 0);
	before = t;

	in.nent = HV_CPUID_MAX_ENTRIES + 1;             /* too many */
	assert_int_equal(cpuid_table_set(&t, &in, &def), -EINVAL);
	memset(&in, 0, sizeof(in));
	add(0x40000100, 0, 0, 0, 0, 0, 0);             /* the hypervisor's own leaf */
	assert_int_equal(cpuid_table_set(&t, &in, &def), -EINVAL);
	memset(&in, 0, sizeof(in));
	add(0x400001ff, 0, 0, 0, 0, 0, 0);
	assert_int_equal(cpuid_table_set(&t, &in, &def), -EINVAL);
	memset(&in, 0, sizeof(in));
	add(1, 0, 2, 0, 0, 0, 0);                       /* unknown flag */
	assert_int_equal(cpuid_table_set(&t, &in, &def), -EINVAL);
	memset(&in, 0, sizeof(in));
	add(7, 0, HV_CPUID_INDEXED, 0, 0, 0, 0);
	add(7, 0, HV_CPUID_INDEXED, 0, 1, 0, 0);        /* twice */
	assert_int_equal(cpuid_table_set(&t, &in, &def), -EINVAL);
	memset(&in, 0, sizeof(in));
	add(7, 0, HV_CPUID_INDEXED, 0, 0, 0, 0);
	add(7, 1, HV_CPUID_INDEXED, 0, 1, 0, 0);        /* another sub-leaf: fine */
	assert_int_equal(cpuid_table_set(&before, &in, &def), 0);
	assert_int_equal(before.nent, 2);
	assert_memory_not_equal(&before, &t, sizeof(t));
	assert_int_equal(t.nent, 1);                    /* the refused calls left t alone */
	assert_int_equal(reg(&t, 1, 0, EAX), 0x600);
}

static const struct cpuid_dyn dyn = {
	.apic_id = 3, .nr_vcpus = 5, .xsave_size = 832, .osxsave = true,
	.irqchip = true, .apic_enabled = true,
};

static void lookup_fills_the_vcpus_fields(void **state)
{
	uint32_t o[4];
	struct cpuid_dyn d = dyn;

	cpuid_lookup(&def, 1, 0, &d, o);
	assert_int_equal(o[EBX] >> 24, 3);              /* its APIC ID */
	assert_int_equal(o[EBX] >> 16 & 0xff, 8);       /* 5 vCPUs -> 8 IDs */
	assert_int_equal(o[EBX] & 0xffff, 0x5600);
	assert_true(o[EDX] & 1u << 28);                 /* HTT */
	assert_true(o[ECX] & 1u << 27);                 /* OSXSAVE follows CR4 */
	assert_true(o[EDX] & 1u << 9);
	d.osxsave = false;
	d.nr_vcpus = 1;
	d.apic_enabled = false;
	cpuid_lookup(&def, 1, 0, &d, o);
	assert_false(o[ECX] & 1u << 27);
	assert_false(o[EDX] & 1u << 28);
	assert_false(o[EDX] & 1u << 9);                 /* APIC off: bit clear */
	d.irqchip = false;
	cpuid_lookup(&def, 1, 0, &d, o);
	assert_false(o[ECX] & (1u << 21 | 1u << 24));  /* no x2APIC/TSC-deadline model */

	d = dyn;
	cpuid_lookup(&def, 0xb, 0, &d, o);
	assert_int_equal(o[EDX], 3);
	assert_int_equal(o[EBX], 1);
	cpuid_lookup(&def, 0xb, 1, &d, o);
	assert_int_equal(o[EAX], 3);                    /* order(5) */
	assert_int_equal(o[EBX], 5);
	assert_int_equal(o[ECX], 1 | 2u << 8);
	cpuid_lookup(&def, 0xb, 2, &d, o);              /* past the last level */
	assert_int_equal(o[EAX] | o[EBX], 0);
	assert_int_equal(o[ECX], 2);
	assert_int_equal(o[EDX], 3);
	cpuid_lookup(&def, 0x1f, 7, &d, o);
	assert_int_equal(o[ECX], 7);
	assert_int_equal(o[EDX], 3);
	cpuid_lookup(&def, 4, 0, &d, o);
	assert_int_equal(o[EAX] >> 26, 7);              /* cores per package - 1 */
	cpuid_lookup(&def, 0xd, 0, &d, o);
	assert_int_equal(o[EBX], 832);                  /* for the vCPU's XCR0 */
	assert_int_equal(o[ECX], 832);
	cpuid_lookup(&def, 0x80000008, 0, &d, o);
	assert_int_equal(o[ECX], 4 | 3u << 12);
	cpuid_lookup(&def, 0x8000001e, 0, &d, o);
	assert_int_equal(o[EAX], 3);
	assert_int_equal(o[EBX], 3);
	assert_int_equal(o[ECX] | o[EDX], 0);
}

static void lookup_own_and_missing_leaves(void **state)
{
	uint32_t o[4];

	/* 0x40000100 is always the hypervisor's, whatever the table says. */
	memset(&in, 0, sizeof(in));
	add(0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);
	assert_int_equal(cpuid_table_set(&t, &in, &def), 0);
	cpuid_lookup(&t, 0x40000100, 0, &dyn, o);
	assert_int_equal(o[EAX], 0x40000101);
	assert_int_equal(o[EBX], HV_SIGNATURE_EBX);
	cpuid_lookup(&t, 0x40000101, 0, &dyn, o);
	assert_int_equal(o[EAX], HV_API_VERSION);
	cpuid_lookup(&t, 0x40000150, 0, &dyn, o);
	assert_int_equal(o[EAX] | o[EBX] | o[ECX] | o[EDX], 0);
	cpuid_lookup(&t, 0x40000000, 0, &dyn, o);
	assert_int_equal(o[EBX], 0x4b4d564b);
	/* A leaf the table lacks reads as zeros (not the host's values). */
	cpuid_lookup(&t, 1, 0, &dyn, o);
	assert_int_equal(o[EAX] | o[EBX] | o[ECX] | o[EDX], 0);
	cpuid_lookup(&def, 0x7fffffff, 0, &dyn, o);
	assert_int_equal(o[EAX] | o[EBX] | o[ECX] | o[EDX], 0);
}

/*
 * The CPUID exit fills the costly fields of cpuid_dyn (the guest's CR4,
 * the XSAVE size for its XCR0) only for the leaves cpuid_reads_cr4/xcr0
 * name: every other leaf's answer must not depend on them.
 */
static void only_the_named_leaves_read_cr4_and_xcr0(void **state)
{
	static const uint32_t subs[] = { 0, 1, 2, 3, 5, 63 };
	struct cpuid_dyn a = dyn, b = dyn;
	uint32_t oa[4], ob[4];
	int read_cr4 = 0, read_xcr0 = 0;

	b.osxsave = !a.osxsave;
	b.xsave_size = 4096;
	for (uint32_t i = 0; i < def.nent; i++)
		for (size_t s = 0; s < sizeof(subs) / sizeof(subs[0]); s++) {
			uint32_t leaf = def.e[i].function, sub = subs[s];
			struct cpuid_dyn c = a;

			cpuid_lookup(&def, leaf, sub, &a, oa);
			c.osxsave = b.osxsave;
			cpuid_lookup(&def, leaf, sub, &c, ob);
			if (memcmp(oa, ob, sizeof(oa))) {
				assert_true(cpuid_reads_cr4(leaf, sub));
				read_cr4++;
			}
			c = a;
			c.xsave_size = b.xsave_size;
			cpuid_lookup(&def, leaf, sub, &c, ob);
			if (memcmp(oa, ob, sizeof(oa))) {
				assert_true(cpuid_reads_xcr0(leaf, sub));
				read_xcr0++;
			}
		}
	assert_true(read_cr4 > 0);                      /* the test sees a dependency */
	assert_true(read_xcr0 > 0);
	assert_false(cpuid_reads_cr4(0, 0));
	assert_false(cpuid_reads_xcr0(0xd, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(default_masks_what_is_not_virtualized, setup),
		cmocka_unit_test_setup(default_without_xsave_or_avx, setup),
		cmocka_unit_test_setup(set_masks_to_what_is_offered, setup),
		cmocka_unit_test_setup(set_refuses_and_changes_nothing, setup),
		cmocka_unit_test_setup(lookup_fills_the_vcpus_fields, setup),
		cmocka_unit_test_setup(lookup_own_and_missing_leaves, setup),
		cmocka_unit_test_setup(only_the_named_leaves_read_cr4_and_xcr0, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
