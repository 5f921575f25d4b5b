/*
 * Usable RAM from the firmware memory map: what may be handed to the page
 * allocator once everything in use has been cut out.
 */
#ifndef HV_MEMMAP_H
#define HV_MEMMAP_H

#include "hv/types.h"
#include "hv/mb2.h"

struct mem_range {
	phys_addr_t base;
	uint64_t len;
};

/*
 * Compute usable RAM: the union of the type-1 (available) entries of e[],
 * minus every entry of any other type and every reserved[] range, each
 * remaining piece shrunk inward to page boundaries. The result, written to
 * out[], is sorted by base, non-overlapping, page-aligned and has no
 * zero-length ranges (adjacent pieces stay separate only when something
 * between them was removed).
 *
 * Conservative rules: a non-available entry overlapping an available one
 * wins; an available entry that is empty or whose base + len wraps past
 * 2^64 is ignored with a pr_warn; a non-available entry or reserved range
 * that wraps is clamped to the top of the address space (warned), and an
 * empty one is ignored.
 *
 * Returns the number of ranges, -EINVAL for NULL arrays with non-zero counts,
 * or -ENOSPC when more than max_out ranges result (out[] then holds the
 * lowest max_out of them, which the caller may still use).
 */
int memmap_usable(const struct mb2_mmap_entry *e, size_t n,
		  const struct mem_range *reserved, size_t n_res,
		  struct mem_range *out, size_t max_out);

/* Sum of the lengths of r[0..n). */
uint64_t memmap_total(const struct mem_range *r, size_t n);

/* The highest whole page of r[0..n) in [PAGE_SIZE, limit), 0 if none:
 * where the AP start-up code goes (below 1 MiB, out of page 0). */
uint64_t memmap_low_page(const struct mem_range *r, size_t n, uint64_t limit);

#endif
