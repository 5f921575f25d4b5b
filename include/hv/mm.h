/* Memory bring-up: from the boot memory map to a working page allocator. */
#ifndef HV_MM_H
#define HV_MM_H

#include "hv/mb2.h"

/*
 * Hand usable RAM to the page allocator, leaving out the first MiB, the
 * image, the boot information and the modules; switch to the final page
 * tables. RAM below 4 GiB is added first because only that is mapped by the
 * boot page tables.
 */
int mm_init(const struct boot_info *bi);

/* A page below 1 MiB in RAM that nothing uses and the page allocator
 * never hands out (the first MiB is left out): 0 when there is none. */
uint64_t mm_low_page(void);

/* The first 0x500 bytes of physical memory (IVT + BIOS data area) as they
 * were at boot, for [pa, pa+len) inside them; NULL otherwise. */
const void *mm_low_bios_area(phys_addr_t pa, size_t len);

#endif
