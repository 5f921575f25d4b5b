/* Self-tests of the boot foundation, run with test=NAME. */
#include "hv/arch.h"
#include "hv/boot.h"
#include "hv/errno.h"
#include "hv/page_alloc.h"
#include "hv/panic.h"
#include "hv/printk.h"
#include "hv/selftest.h"
#include "hv/string.h"
#include <x86/cpu.h>
#include <x86/paging.h>

/* The state boot promised, read back from the CPU itself. */
SELFTEST(boot)
{
	uint64_t efer = rdmsr(MSR_EFER), cr0 = read_cr0(), cr4 = read_cr4();
	struct page_stats before, after;
	bool uefi = boot_info.has_efi64_systab || boot_info.has_efi_mmap;

	pr_info("boot: firmware %s, %u memory map entries, %u modules, RSDP %s\n",
		uefi ? "UEFI" : "BIOS", boot_info.mmap_count, boot_info.module_count,
		boot_info.rsdp_src == BOOT_RSDP_NEW ? "v2 (tag 15)" :
		boot_info.rsdp_src == BOOT_RSDP_OLD ? "v1 (tag 14)" : "none");
	CHECK(efer & EFER_LMA);
	CHECK((cr0 & (CR0_PG | CR0_WP | CR0_PE)) == (CR0_PG | CR0_WP | CR0_PE));
	CHECK(cr4 & CR4_PAE);
	CHECK(read_cr3() == paging_root());
	if (cpuid(0x80000001).edx & (1U << 20))
		CHECK(efer & EFER_NXE);

	/* Every order can be allocated, and freeing restores the counters. */
	page_get_stats(&before);
	CHECK(before.total_pages > 0 && before.free_pages > 0);
	void *blocks[PAGE_MAX_ORDER + 1];

	for (unsigned int o = 0; o <= PAGE_MAX_ORDER; o++) {
		blocks[o] = page_alloc(o);
		CHECK(blocks[o] && IS_ALIGNED((uint64_t)blocks[o], PAGE_SIZE << o));
		memset(blocks[o], 0x5a, PAGE_SIZE << o);    /* really mapped RW */
	}
	for (unsigned int o = 0; o <= PAGE_MAX_ORDER; o++)
		page_free(blocks[o], o);
	page_get_stats(&after);
	CHECK(after.free_pages == before.free_pages);
	return 0;
}

SELFTEST(panic)
{
	panic("selftest panic %d", 42);
}

/* The real boot-info failure path, fed a copy whose last tag runs past
 * the declared size. */
SELFTEST(mb2_truncated)
{
	static uint8_t copy[16384] __aligned(8);
	struct boot_info *bi = page_zalloc(2);
	uint32_t size;

	CHECK(bi);
	CHECK(boot_info.info_size <= sizeof(copy));
	memcpy(copy, (const void *)boot_info.info_start, boot_info.info_size);
	size = boot_info.info_size - 4;
	memcpy(copy, &size, sizeof(size));
	boot_info_parse_or_halt(copy, bi);
	pr_err("truncated boot information was accepted\n");
	return -EIO;
}
