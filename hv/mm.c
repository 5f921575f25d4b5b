/* Memory bring-up (see hv/mm.h). */
#include "hv/mm.h"
#include "hv/arch.h"
#include "hv/errno.h"
#include "hv/memmap.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"
#include "hv/guest_mem.h"
#include "hv/root.h"
#include "hv/string.h"

extern char __image_start[], __image_end[];

#define MM_MAX_RANGES (BOOT_MMAP_MAX + BOOT_MODULES_MAX + 8)

static struct mem_range usable[MM_MAX_RANGES];

/*
 * Page 0 is unmapped in the final page tables (NULL dereferences fault),
 * but firmware keeps the BIOS data area there (the EBDA pointer at 0x40e
 * that the ACPI RSDP search needs): keep a copy taken before the switch.
 */
static uint8_t bda_copy[0x500];

/* A page below 1 MiB that nothing uses: RAM the map calls available, out
 * of the image, the boot information and the modules (GRUB may put a
 * module anywhere there, on UEFI even at 0x2000). */
static uint64_t low_page;

uint64_t mm_low_page(void)
{
	return low_page;
}

static void find_low_page(const struct boot_info *bi, const struct mem_range *reserved,
			  size_t nres)
{
	struct mem_range low[MM_MAX_RANGES];
	int n = memmap_usable(bi->mmap, bi->mmap_count, reserved, nres, low, ARRAY_SIZE(low));

	/* -ENOSPC still leaves the lowest ranges in low[], the ones wanted. */
	low_page = n == -ENOSPC ? memmap_low_page(low, ARRAY_SIZE(low), 1 * MiB) :
		   n > 0 ? memmap_low_page(low, (size_t)n, 1 * MiB) : 0;
}

const void *mm_low_bios_area(phys_addr_t pa, size_t len)
{
	if (pa >= sizeof(bda_copy) || len > sizeof(bda_copy) - pa)
		return NULL;
	return bda_copy + pa;
}

/* usable[] split in two: the first `pool` bytes (lowest addresses) for the
 * hypervisor's page allocator, the rest for the root partition. */
static struct mem_range pool[MM_MAX_RANGES], rootmem[MM_MAX_RANGES];
static size_t npool, nroot;

static void split(size_t n, uint64_t pool_bytes)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t take = MIN(pool_bytes, usable[i].len);

		take = ALIGN_DOWN(take, PAGE_SIZE);
		if (take)
			pool[npool++] = (struct mem_range){ usable[i].base, take };
		if (usable[i].len > take)
			rootmem[nroot++] = (struct mem_range){ usable[i].base + take,
							       usable[i].len - take };
		pool_bytes -= take;
	}
}

static int add_ranges(size_t n, bool above_4g)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t b = pool[i].base, e = b + pool[i].len;

		if (above_4g)
			b = b > 4 * GiB ? b : 4 * GiB;
		else
			e = e < 4 * GiB ? e : 4 * GiB;
		if (e <= b)
			continue;
		int r = page_alloc_add_range(b, e - b);

		if (r && r != -EINVAL)  /* -EINVAL: too small to be worth it */
			return r;
	}
	return 0;
}

int mm_init(const struct boot_info *bi)
{
	struct mem_range reserved[3 + BOOT_MODULES_MAX];
	size_t nres = 0;
	struct page_stats st;
	int n, r;

	reserved[nres++] = (struct mem_range){ 0, 1 * MiB };
	reserved[nres++] = (struct mem_range){ (uint64_t)__image_start,
					       (uint64_t)(__image_end - __image_start) };
	reserved[nres++] = (struct mem_range){ bi->info_start, bi->info_size };
	for (uint32_t i = 0; i < bi->module_count; i++)
		reserved[nres++] = (struct mem_range){
			bi->modules[i].start, bi->modules[i].end - bi->modules[i].start };

	find_low_page(bi, reserved + 1, nres - 1);      /* all but the first MiB */
	n = memmap_usable(bi->mmap, bi->mmap_count, reserved, nres, usable,
			  ARRAY_SIZE(usable));
	if (n < 0)
		return n;
	if (n == 0)
		return ERR(-ENOMEM);
	for (int i = 0; i < n; i++)
		pr_debug("mm: usable [0x%lx, 0x%lx)\n", usable[i].base,
			 usable[i].base + usable[i].len);

	split((size_t)n, root_hv_pool_size(memmap_total(usable, (size_t)n)));
	for (size_t i = 0; i < nroot; i++)
		if ((r = root_mem_add(rootmem[i].base, rootmem[i].len)))
			return r;
	if ((r = add_ranges(npool, false)))
		return r;
	memcpy(bda_copy, (const void *)0, sizeof(bda_copy));
	if ((r = arch_mm_init(usable, n)))
		return r;
	if ((r = add_ranges(npool, true)))
		return r;

	page_get_stats(&st);
	pr_info("mm: %lu MiB usable in %d ranges: %lu MiB for the hypervisor (%lu pages free), %lu MiB for the root\n",
		memmap_total(usable, (size_t)n) / MiB, n, st.total_pages * PAGE_SIZE / MiB,
		st.free_pages, root_mem_total() / MiB);
	return 0;
}
