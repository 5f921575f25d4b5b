/*
 * Page tables for the hypervisor itself (SDM Vol. 3A, 4.5). Identity map:
 * what W^X needs is per-page rights, not a different layout. Large pages
 * (2 MiB, and 1 GiB where the CPU has them) wherever rights and alignment
 * allow; a large page is split when part of it needs other rights.
 */
#include <x86/paging.h>
#include <x86/cpu.h>
#include "hv/arch.h"
#include "hv/errno.h"
#include "hv/memmap.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"
#include "hv/string.h"

extern char __image_start[], __text_end[], __rodata_end[], __bss_end[];
extern char __image_end[], boot_stack_guard[];

static uint64_t *pml4;
static bool has_1g, has_nx;

#define LEVEL_SHIFT(l) (12 + 9 * (l))          /* l = 0 (PT) .. 3 (PML4) */
#define LEVEL_SIZE(l)  (1ULL << LEVEL_SHIFT(l))
#define INDEX(va, l)   (((va) >> LEVEL_SHIFT(l)) & 511)

static uint64_t *table_new(void)
{
	return page_zalloc(0);
}

/*
 * The entry for va at `level`, creating tables above it as needed; a
 * large page in the way is split into a table with the same rights.
 */
static uint64_t *walk(uint64_t va, int level)
{
	uint64_t *table = pml4;

	for (int l = 3; l > level; l--) {
		uint64_t *e = &table[INDEX(va, l)];

		if (!(*e & PTE_P) || (*e & PTE_PS)) {
			uint64_t *next = table_new();

			if (!next)
				return NULL;
			if (*e & PTE_PS) {              /* split: same rights below */
				uint64_t base = *e & PTE_ADDR & ~(LEVEL_SIZE(l) - 1);
				uint64_t flags = *e & ~PTE_ADDR;

				if (l - 1 == 0)
					flags &= ~PTE_PS;
				for (int i = 0; i < 512; i++)
					next[i] = (base + i * LEVEL_SIZE(l - 1)) | flags;
			}
			/* Upper levels allow everything; the leaf decides. */
			*e = (uint64_t)next | PTE_P | PTE_W;
		}
		table = (uint64_t *)(*e & PTE_ADDR);
	}
	return &table[INDEX(va, level)];
}

static int map(uint64_t va, uint64_t end, uint64_t rights)
{
	if (!has_nx)
		rights &= ~PTE_NX;
	while (va < end) {
		int level = 0;

		for (int l = has_1g ? 2 : 1; l > 0; l--)
			if (IS_ALIGNED(va, LEVEL_SIZE(l)) && end - va >= LEVEL_SIZE(l)) {
				level = l;
				break;
			}
		uint64_t *e = walk(va, level);

		if (!e)
			return ERR(-ENOMEM);
		if (rights & PTE_P)
			*e = va | rights | (level ? PTE_PS : 0);
		else
			*e = 0;
		va += LEVEL_SIZE(level);
	}
	return 0;
}

int paging_set(uint64_t va, uint64_t len, enum page_rights rights)
{
	int r = map(va, va + len, rights);

	for (uint64_t a = va; a < va + len; a += PAGE_SIZE)
		invlpg((void *)a);
	return r;
}

uint64_t paging_root(void)
{
	return (uint64_t)pml4;
}

int paging_init(const struct mem_range *ram_above_4g, size_t n)
{
	uint64_t img = (uint64_t)__image_start;
	int r;

	has_1g = cpuid(0x80000001).edx & (1U << 26);
	has_nx = rdmsr(MSR_EFER) & EFER_NXE;
	pml4 = table_new();
	if (!pml4)
		return ERR(-ENOMEM);

	/* Page 0 stays absent so a NULL dereference faults. */
	if ((r = map(PAGE_SIZE, img, PAGE_RW)) ||
	    (r = map(img, (uint64_t)__text_end, PAGE_RX)) ||
	    (r = map((uint64_t)__text_end, (uint64_t)__rodata_end, PAGE_R)) ||
	    (r = map((uint64_t)__rodata_end, (uint64_t)__bss_end, PAGE_RW)) ||
	    (r = map((uint64_t)boot_stack_guard, (uint64_t)boot_stack_guard + PAGE_SIZE,
		     PAGE_NONE)) ||
	    (r = map((uint64_t)__bss_end, (uint64_t)__image_end, PAGE_R)) ||
	    (r = map((uint64_t)__image_end, 4 * GiB, PAGE_RW)))
		return r;
	for (size_t i = 0; i < n; i++) {
		uint64_t b = ALIGN_DOWN(ram_above_4g[i].base, PAGE_SIZE);
		uint64_t e = ALIGN_UP(ram_above_4g[i].base + ram_above_4g[i].len, PAGE_SIZE);

		if (e > 4 * GiB && (r = map(b < 4 * GiB ? 4 * GiB : b, e, PAGE_RW)))
			return r;
	}
	write_cr3((uint64_t)pml4);
	if (!has_nx)
		pr_warn("paging: CPU has no NX bit, data pages stay executable\n");
	return 0;
}

int arch_mm_init(const struct mem_range *ram_above_4g, size_t n)
{
	return paging_init(ram_above_4g, n);
}
