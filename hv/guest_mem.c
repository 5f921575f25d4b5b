/* Root partition memory (hv/guest_mem.h). */
#include "hv/guest_mem.h"
#include "hv/errno.h"

struct root_mem root_mem;

void root_mem_reset(void)
{
	root_mem.count = 0;
}

int root_mem_add(phys_addr_t base, uint64_t len)
{
	if (!len || !IS_ALIGNED(base, PAGE_SIZE) || !IS_ALIGNED(len, PAGE_SIZE) ||
	    base + len < base)
		return ERR(-EINVAL);
	if (root_mem.count == ROOT_MEM_MAX_RANGES)
		return ERR(-ENOSPC);
	if (root_mem.count) {
		const struct mem_range *last = &root_mem.range[root_mem.count - 1];

		if (base < last->base + last->len)
			return ERR(-EINVAL);
	}
	root_mem.range[root_mem.count++] = (struct mem_range){ base, len };
	return 0;
}

bool root_mem_contains(phys_addr_t pa, uint64_t len)
{
	if (pa + len < pa)
		return false;
	for (uint32_t i = 0; i < root_mem.count; i++) {
		const struct mem_range *r = &root_mem.range[i];

		if (pa >= r->base && pa + len <= r->base + r->len)
			return true;
	}
	return false;
}

uint64_t root_mem_total(void)
{
	uint64_t t = 0;

	for (uint32_t i = 0; i < root_mem.count; i++)
		t += root_mem.range[i].len;
	return t;
}
