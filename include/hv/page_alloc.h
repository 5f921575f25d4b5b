/*
 * Physical page allocator: a binary buddy allocator over the usable RAM ranges
 * handed to it. All RAM is identity-mapped (virtual == physical) in the
 * hypervisor, so a page's address is also its pointer; on the host test build
 * the "RAM" is a buffer the test supplies.
 *
 * Blocks are 2^order pages, naturally aligned to their size.
 */
#ifndef HV_PAGE_ALLOC_H
#define HV_PAGE_ALLOC_H

#include "hv/types.h"

#define PAGE_MAX_ORDER   10     /* largest block: 2^10 pages = 4 MiB */
#define PAGE_MAX_RANGES  64     /* distinct RAM ranges managed */

struct page_stats {
	uint64_t total_pages;   /* pages under management (metadata excluded) */
	uint64_t free_pages;
	uint64_t used_pages;    /* total - free */
	uint64_t allocs;        /* successful page_alloc calls, ever */
	uint64_t frees;         /* page_free calls, ever */
	uint64_t failures;      /* page_alloc calls that found no memory */
	uint64_t free_blocks[PAGE_MAX_ORDER + 1];  /* free blocks of each order */
	uint64_t free_sig;      /* signature of which blocks are free (leakcheck) */
};

/*
 * Owner tags: a 2-bit mark kept with an allocated block, so that an owner
 * can recognise its blocks from any pointer into them (page_lookup) without
 * trusting the block's contents.
 */
#define PAGE_TAG_NONE      0U   /* plain page_alloc */
#define PAGE_TAG_SLAB      1U   /* slab, header at the block's start */
#define PAGE_TAG_SLAB_OFF  2U   /* slab, header kept elsewhere */
#define PAGE_TAG_KMALLOC   3U   /* kmalloc block too big for a size class */
#define PAGE_TAG_MAX       3U

/*
 * Hand a range of usable RAM to the allocator. The range must already exclude
 * everything that is in use (image, modules, boot info, first MiB). The
 * allocator trims it to page boundaries and keeps its own metadata at the
 * start of the range. Returns 0, -EINVAL (empty/too small after trimming or
 * overlapping a range already added) or -ENOSPC (PAGE_MAX_RANGES reached).
 */
int page_alloc_add_range(phys_addr_t base, uint64_t len);

/* 2^order contiguous pages, aligned to their size; NULL when none is free. */
void *page_alloc(unsigned int order);
/* As page_alloc, with the block marked with `tag` (PAGE_TAG_*). */
void *page_alloc_tagged(unsigned int order, unsigned int tag);
/* As page_alloc, zero-filled. */
void *page_zalloc(unsigned int order);
/*
 * Return a block. Freeing a block that is not allocated (double free), with a
 * different order than it was allocated with, or outside managed memory
 * panics with the address: these are bugs, not conditions to recover from.
 * A NULL p is ignored.
 */
void page_free(void *p, unsigned int order);

/* True when p lies inside a block that is currently allocated. */
bool page_is_allocated(const void *p);
/* True when p lies inside memory this allocator manages (free or not). */
bool page_is_managed(const void *p);
/*
 * Start of the allocated block that contains p, with its order and tag; NULL
 * when p is not inside an allocated block. Takes no lock: the answer is exact
 * for a block the caller owns, a best effort for any other pointer.
 */
void *page_lookup(const void *p, unsigned int *order, unsigned int *tag);

void page_get_stats(struct page_stats *st);

/* Forget every range (host tests only: start each test from nothing). */
void page_alloc_reset(void);

#endif
