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

#endif
