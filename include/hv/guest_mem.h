/*
 * Which physical memory belongs to the root partition, and checks of guest
 * pointers against it: the hypervisor's own memory (image, page allocator
 * pool) is never in it, so no guest can reach it.
 */
#ifndef HV_GUEST_MEM_H
#define HV_GUEST_MEM_H

#include "hv/memmap.h"

#define ROOT_MEM_MAX_RANGES 64

struct root_mem {
	uint32_t count;
	struct mem_range range[ROOT_MEM_MAX_RANGES];
};

extern struct root_mem root_mem;

/* Add a range of root memory (page-aligned, non-overlapping, sorted). */
int root_mem_add(phys_addr_t base, uint64_t len);
/* True when [pa, pa+len) lies inside one root memory range (no overflow). */
bool root_mem_contains(phys_addr_t pa, uint64_t len);
uint64_t root_mem_total(void);
void root_mem_reset(void);

#endif
