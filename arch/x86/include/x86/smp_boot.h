/* Shared by the AP trampoline (assembly) and arch/x86/smp_boot.c. */
#ifndef X86_SMP_BOOT_H
#define X86_SMP_BOOT_H

#ifndef __ASSEMBLY__
#include "hv/types.h"
#include "hv/compiler.h"

struct far_ptr32 {
	uint32_t offset;
	uint16_t selector;
} __packed;

/* The data at trampoline_params, filled in for the page it runs at. */
struct trampoline_params {
	uint32_t cr3, cr4, efer_lo, efer_hi;
	struct far_ptr32 far32, far64;  /* into its 32- and 64-bit code */
	uint16_t gdt_limit;             /* LGDT's operand */
	uint32_t gdt_base;
} __packed;

/* Where in the trampoline its code and GDT are (what the params point at). */
struct trampoline_offsets {
	uint32_t code32, code64, gdt, gdt_size;
};

extern const char trampoline_start[], trampoline_end[], trampoline_params[];
extern const struct trampoline_offsets trampoline_offsets;
#endif

#endif
