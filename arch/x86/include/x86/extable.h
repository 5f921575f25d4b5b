/*
 * Exception fixups: an instruction that may fault by design (RDMSR of an
 * MSR a CPU may lack, VMX instructions outside VMX operation) is listed
 * in .extable with a place to continue; the #GP/#UD handler resumes
 * there instead of treating the fault as a hypervisor bug.
 */
#ifndef X86_EXTABLE_H
#define X86_EXTABLE_H

#include "hv/types.h"

struct extable_entry {
	uint64_t insn, fixup;
};

/* The fixup address for a faulting RIP, or 0. */
uint64_t extable_lookup(uint64_t rip);

/* Emit an .extable entry: a fault at label `from` continues at `to`. */
#define EXTABLE(from, to)                                       \
	".pushsection .extable, \"a\"\n\t"                      \
	".balign 8\n\t"                                         \
	".quad " #from ", " #to "\n\t"                          \
	".popsection\n\t"

/* RDMSR that returns -EIO instead of faulting on a missing MSR. */
static inline int rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;
	int err = 0;

	__asm__ __volatile__("1: rdmsr\n\t"
			     "2:\n\t"
			     ".pushsection .text.fixup, \"ax\"\n\t"
			     "3: movl $-5, %2\n\t"
			     "jmp 2b\n\t"
			     ".popsection\n\t"
			     EXTABLE(1b, 3b)
			     : "+a"(lo), "+d"(hi), "+r"(err) : "c"(msr));
	*val = ((uint64_t)hi << 32) | lo;
	return err;
}

static inline int wrmsr_safe(uint32_t msr, uint64_t val)
{
	int err = 0;

	__asm__ __volatile__("1: wrmsr\n\t"
			     "2:\n\t"
			     ".pushsection .text.fixup, \"ax\"\n\t"
			     "3: movl $-5, %0\n\t"
			     "jmp 2b\n\t"
			     ".popsection\n\t"
			     EXTABLE(1b, 3b)
			     : "+r"(err)
			     : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			     : "memory");
	return err;
}

#endif
