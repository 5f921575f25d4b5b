/* The hypervisor's own page tables (4-level, identity map). */
#ifndef X86_PAGING_H
#define X86_PAGING_H

#include "hv/types.h"

#define PTE_P    (1ULL << 0)
#define PTE_W    (1ULL << 1)
#define PTE_U    (1ULL << 2)
#define PTE_PWT  (1ULL << 3)
#define PTE_PCD  (1ULL << 4)
#define PTE_A    (1ULL << 5)
#define PTE_D    (1ULL << 6)
#define PTE_PS   (1ULL << 7)
#define PTE_G    (1ULL << 8)
#define PTE_NX   (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL

/* Page rights, as the rest of the hypervisor names them. */
enum page_rights {
	PAGE_NONE = 0,          /* not present (guard pages, NULL page) */
	PAGE_R    = PTE_P | PTE_NX,
	PAGE_RW   = PTE_P | PTE_W | PTE_NX,
	PAGE_RX   = PTE_P,
	PAGE_MMIO = PTE_P | PTE_W | PTE_NX | PTE_PCD | PTE_PWT,   /* uncached */
};

struct mem_range;

/*
 * Build the final tables: everything below 4 GiB and every RAM range above
 * it read-write no-execute, the image with per-section rights (W^X), the
 * NULL page and stack guard pages absent; then switch CR3.
 */
int paging_init(const struct mem_range *ram_above_4g, size_t n);
/* Change the rights of [va, va+len) (4 KiB granular, splits large pages). */
int paging_set(uint64_t va, uint64_t len, enum page_rights rights);
uint64_t paging_root(void);

#endif
