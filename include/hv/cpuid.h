/*
 * What CPUID says to a guest: a table per VM (KVM_SET_CPUID2's model),
 * built by default from the host's CPUID with everything the hypervisor
 * cannot virtualize masked, replaceable by the root (masked the same way),
 * plus the fields that differ per vCPU or follow guest state, filled at
 * each CPUID exit. docs/cpu-state.md lists what is masked and why.
 */
#ifndef HV_CPUID_H
#define HV_CPUID_H

#include "hv/types.h"
#include <uapi/hv/hypercall.h>

struct cpuid_table {
	uint32_t nent;
	struct hv_cpuid_entry e[HV_CPUID_MAX_ENTRIES];
};

/* The host's CPUID(leaf, sub) into out[EAX..EDX]. */
typedef void (*cpuid_host_fn)(uint32_t leaf, uint32_t sub, uint32_t out[4]);

struct cpuid_host_facts {
	uint64_t xcr0_mask;             /* XCR0 bits a guest may set */
	uint32_t xsave_max_size;        /* area bytes for all of them */
	bool xsave;                     /* XSAVE offered */
};

/* Per vCPU and guest-state fields of an answer. */
struct cpuid_dyn {
	uint32_t apic_id, nr_vcpus;
	uint32_t xsave_size;            /* for the vCPU's XCR0 */
	bool osxsave;                   /* guest CR4.OSXSAVE */
	bool irqchip;                   /* the VM has local APICs */
	bool apic_enabled;              /* IA32_APIC_BASE.EN */
};

/*
 * The leaves whose answer reads the costly fields of cpuid_dyn: the
 * guest's CR4 (leaf 1's OSXSAVE; VMREADs on VMX) and the XSAVE size for
 * its XCR0 (leaf 0xD.0's EBX; a walk over the XSAVE components). A CPUID
 * exit finds them only for these; a host test checks that no other leaf
 * depends on them.
 */
static inline bool cpuid_reads_cr4(uint32_t leaf, uint32_t sub)
{
	(void)sub;
	return leaf == 1;
}

static inline bool cpuid_reads_xcr0(uint32_t leaf, uint32_t sub)
{
	return leaf == 0xd && sub == 0;
}

void cpuid_build_default(struct cpuid_table *t, cpuid_host_fn host,
			 const struct cpuid_host_facts *f);
/* Every VM's table until its root sets one (built at hardware setup). */
extern struct cpuid_table default_cpuid;
/* Arch: build default_cpuid from this CPU. */
void cpuid_default_init(void);
/* Check a root's table and mask it against `supported` (the default):
 * 0, or -EINVAL (too many entries, a duplicate, unknown flags, a leaf the
 * hypervisor owns: 0x40000100-0x400001ff) with *out untouched. */
int cpuid_table_set(struct cpuid_table *out, const struct hv_cpuid *in,
		    const struct cpuid_table *supported);
void cpuid_table_get(const struct cpuid_table *t, struct hv_cpuid *out);
/* The answer to CPUID(leaf, sub) for one vCPU. */
void cpuid_lookup(const struct cpuid_table *t, uint32_t leaf, uint32_t sub,
		  const struct cpuid_dyn *d, uint32_t out[4]);
/* The XCR0 bits a VM's table offers (leaf 0xD.0 EDX:EAX). */
uint64_t cpuid_xcr0_mask(const struct cpuid_table *t);

/* The hypervisor's own leaves, always answered whatever a table says:
 * the signature and API version at 0x40000100, so a guest finds the
 * hypervisor even behind another signature at 0x40000000. */
#define CPUID_HV_OWN_BASE       0x40000100u
#define CPUID_HV_OWN_END        0x40000200u

#endif
