/* The per-CPU GDT with its TSS (long mode: SDM Vol. 3A, 3.4.5 and 8.2.3). */
#include <x86/desc.h>

void gdt_load(uint64_t *gdt, struct tss *tss)
{
	uint64_t base = (uint64_t)tss;
	uint64_t limit = sizeof(*tss) - 1;
	struct desc_ptr ptr = { GDT_ENTRIES * 8 - 1, (uint64_t)gdt };

	gdt[0] = 0;
	gdt[1] = 0x00209b0000000000ULL;                 /* 64-bit code, DPL0, accessed */
	gdt[2] = 0x0000930000000000ULL;                 /* data, accessed */
	/* 64-bit available TSS (type 9), present; base split over two slots. */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
		 ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt[4] = base >> 32;

	__asm__ __volatile__(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movw %w2, %%ax\n\t"
		"movw %%ax, %%ds\n\t"
		"movw %%ax, %%es\n\t"
		"movw %%ax, %%ss\n\t"
		"ltr %w3"
		:: "m"(ptr), "i"(GDT_KCODE), "r"(GDT_KDATA), "r"(GDT_TSS)
		: "rax", "memory");
}
