/*
 * Binary buddy allocator over identity-mapped RAM ranges.
 *
 * Each range keeps one metadata byte per managed page at its own start, so
 * ranges can be added at any time without a global array sized for the
 * largest address. Free blocks are linked through their own first page, one
 * doubly linked list per order (doubly, so a buddy can leave its list in
 * O(1) when it merges). Blocks never merge across ranges.
 */
#include "hv/page_alloc.h"
#include "hv/compiler.h"
#include "hv/errno.h"
#include "hv/irqflags.h"
#include "hv/panic.h"
#include "hv/spinlock.h"
#include "hv/string.h"

/*
 * Metadata byte of a page:
 *   bits 0-3  order of the block (a free block's head, or any page of an
 *             allocated block: natural alignment then gives the block start)
 *   bit 4     first page of a block
 *   bit 5     allocated
 *   bits 6-7  owner tag of an allocated block
 * Pages inside a free block other than its head are 0, so merging only has
 * to look at one byte and freeing only has to clear the block's bytes.
 */
#define META_ORDER      0x0fU
#define META_HEAD       0x10U
#define META_ALLOC      0x20U
#define META_TAG_SHIFT  6

BUILD_BUG_ON(PAGE_MAX_ORDER > META_ORDER);
BUILD_BUG_ON(PAGE_TAG_MAX > 3);

struct page_range {
	uintptr_t start;        /* first managed page */
	uintptr_t end;          /* end of the range, exclusive */
	uint8_t *meta;          /* start of the range: the metadata bytes */
};

struct free_block {
	struct free_block *next, *prev;
	const struct page_range *range;
};

static spinlock_t page_lock = SPINLOCK_INIT;
/* Append-only, published through page_nr_ranges, so lookups need no lock. */
static struct page_range page_ranges[PAGE_MAX_RANGES];
static unsigned int page_nr_ranges;
static struct free_block *page_free_lists[PAGE_MAX_ORDER + 1];
static struct page_stats page_st;

static const struct page_range *page_range_of(uintptr_t a)
{
	unsigned int n = __atomic_load_n(&page_nr_ranges, __ATOMIC_ACQUIRE);

	for (unsigned int i = 0; i < n; i++) {
		const struct page_range *r = &page_ranges[i];

		if (a >= r->start && a < r->end)
			return r;
	}
	return NULL;
}

static uint8_t *page_meta(const struct page_range *r, uintptr_t a)
{
	return &r->meta[(a - r->start) >> PAGE_SHIFT];
}

/* A free block's share of page_st.free_sig (a sum, so a block adds and
 * removes its share in any order): with full merging the free blocks are
 * determined by the set of free pages, so equal signatures mean the same
 * pages are free, not just as many. */
static uint64_t page_block_sig(uintptr_t a, unsigned int order)
{
	uint64_t x = (uint64_t)a ^ ((uint64_t)order << 56);

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static void page_list_push(const struct page_range *r, uintptr_t a,
			   unsigned int order)
{
	struct free_block *b = (struct free_block *)a;

	b->range = r;
	b->prev = NULL;
	b->next = page_free_lists[order];
	if (b->next)
		b->next->prev = b;
	page_free_lists[order] = b;
	*page_meta(r, a) = META_HEAD | order;
	page_st.free_blocks[order]++;
	page_st.free_sig += page_block_sig(a, order);
}

static void page_list_del(struct free_block *b, unsigned int order)
{
	if (b->prev)
		b->prev->next = b->next;
	else
		page_free_lists[order] = b->next;
	if (b->next)
		b->next->prev = b->prev;
	page_st.free_blocks[order]--;
	page_st.free_sig -= page_block_sig((uintptr_t)b, order);
}

/* Put a block on the free lists, merged with every free buddy. */
static void page_release(const struct page_range *r, uintptr_t a,
			 unsigned int order)
{
	while (order < PAGE_MAX_ORDER) {
		uintptr_t size = PAGE_SIZE << order;
		uintptr_t buddy = a ^ size;
		uint8_t *bm;

		if (buddy < r->start || buddy + size > r->end)
			break;
		bm = page_meta(r, buddy);
		if (*bm != (META_HEAD | order))
			break;
		page_list_del((struct free_block *)buddy, order);
		*bm = 0;
		a &= ~size;
		order++;
	}
	page_list_push(r, a, order);
}

static bool page_overlaps(uintptr_t lo, uintptr_t hi)
{
	for (unsigned int i = 0; i < page_nr_ranges; i++)
		if (lo < page_ranges[i].end && (uintptr_t)page_ranges[i].meta < hi)
			return true;
	return false;
}

int page_alloc_add_range(phys_addr_t base, uint64_t len)
{
	uintptr_t lo, hi, start, a;
	uint64_t pages, meta_pages;
	struct page_range *r;
	unsigned long flags;

	if (len == 0 || base + len < base)
		return ERR(-EINVAL);
	lo = ALIGN_UP((uintptr_t)base, PAGE_SIZE);
	hi = ALIGN_DOWN((uintptr_t)(base + len), PAGE_SIZE);
	if (lo < base || hi <= lo)
		return ERR(-EINVAL);
	/* Smallest metadata that covers the pages left after it. */
	pages = (hi - lo) >> PAGE_SHIFT;
	meta_pages = (pages + PAGE_SIZE) / (PAGE_SIZE + 1);
	if (pages <= meta_pages)
		return ERR(-EINVAL);
	start = lo + (meta_pages << PAGE_SHIFT);

	flags = local_irq_save();
	spin_lock(&page_lock);
	if (page_overlaps(lo, hi)) {
		spin_unlock(&page_lock);
		local_irq_restore(flags);
		return ERR(-EINVAL);
	}
	if (page_nr_ranges == PAGE_MAX_RANGES) {
		spin_unlock(&page_lock);
		local_irq_restore(flags);
		return ERR(-ENOSPC);
	}
	r = &page_ranges[page_nr_ranges];
	r->start = start;
	r->end = hi;
	r->meta = (uint8_t *)lo;
	memset(r->meta, 0, pages - meta_pages);

	/* Largest naturally aligned blocks first: they are already maximal. */
	for (a = start; a < hi;) {
		unsigned int order = PAGE_MAX_ORDER;

		while (order && (!IS_ALIGNED(a, PAGE_SIZE << order) ||
				 a + (PAGE_SIZE << order) > hi))
			order--;
		page_list_push(r, a, order);
		a += PAGE_SIZE << order;
	}
	page_st.total_pages += pages - meta_pages;
	page_st.free_pages += pages - meta_pages;
	__atomic_store_n(&page_nr_ranges, page_nr_ranges + 1, __ATOMIC_RELEASE);
	spin_unlock(&page_lock);
	local_irq_restore(flags);
	return 0;
}

void *page_alloc_tagged(unsigned int order, unsigned int tag)
{
	const struct page_range *r;
	struct free_block *b;
	unsigned long flags;
	unsigned int o;
	uint8_t *m, v;
	uintptr_t a;

	if (order > PAGE_MAX_ORDER || tag > PAGE_TAG_MAX)
		return NULL;
	flags = local_irq_save();
	spin_lock(&page_lock);
	for (o = order; o <= PAGE_MAX_ORDER && !page_free_lists[o]; o++)
		;
	if (o > PAGE_MAX_ORDER) {
		page_st.failures++;
		spin_unlock(&page_lock);
		local_irq_restore(flags);
		return NULL;
	}
	b = page_free_lists[o];
	page_list_del(b, o);
	r = b->range;
	a = (uintptr_t)b;
	while (o > order) {
		o--;
		page_list_push(r, a + (PAGE_SIZE << o), o);
	}
	m = page_meta(r, a);
	v = (uint8_t)(META_ALLOC | order | (tag << META_TAG_SHIFT));
	m[0] = v | META_HEAD;
	memset(m + 1, v, (1UL << order) - 1);
	page_st.free_pages -= 1UL << order;
	page_st.allocs++;
	spin_unlock(&page_lock);
	local_irq_restore(flags);
	return (void *)a;
}

void *page_alloc(unsigned int order)
{
	return page_alloc_tagged(order, PAGE_TAG_NONE);
}

void *page_zalloc(unsigned int order)
{
	void *p = page_alloc(order);

	if (p)
		memset(p, 0, PAGE_SIZE << order);
	return p;
}

/* Report a bad page_free with the lock dropped, so the state stays usable
 * for whoever inspects it (the host tests catch the panic). */
#define page_free_bug(flags, ...) do {                  \
	spin_unlock(&page_lock);                        \
	local_irq_restore(flags);                       \
	panic(__VA_ARGS__);                             \
} while (0)

void page_free(void *p, unsigned int order)
{
	uintptr_t a = (uintptr_t)p;
	const struct page_range *r;
	unsigned long flags;
	uint8_t *m;

	if (!p)
		return;
	if (order > PAGE_MAX_ORDER)
		panic("page_free: %p freed with order %u, above the maximum %u",
		      p, order, PAGE_MAX_ORDER);
	r = page_range_of(a);
	if (!r)
		panic("page_free: %p is outside managed memory", p);

	flags = local_irq_save();
	spin_lock(&page_lock);
	m = page_meta(r, a);
	if (!(*m & META_ALLOC))
		page_free_bug(flags, "page_free: double free of %p (not allocated)", p);
	if (!IS_ALIGNED(a, PAGE_SIZE) || !(*m & META_HEAD))
		page_free_bug(flags, "page_free: %p is not the start of a block", p);
	if ((*m & META_ORDER) != order)
		page_free_bug(flags, "page_free: %p freed with order %u, allocated with order %u",
			      p, order, *m & META_ORDER);
	memset(m, 0, 1UL << order);
	page_release(r, a, order);
	page_st.free_pages += 1UL << order;
	page_st.frees++;
	spin_unlock(&page_lock);
	local_irq_restore(flags);
}

void *page_lookup(const void *p, unsigned int *order, unsigned int *tag)
{
	uintptr_t a = (uintptr_t)p;
	const struct page_range *r = page_range_of(a);
	unsigned int o;
	uint8_t v;

	if (!r)
		return NULL;
	v = READ_ONCE(*page_meta(r, a));
	if (!(v & META_ALLOC))
		return NULL;
	o = v & META_ORDER;
	if (order)
		*order = o;
	if (tag)
		*tag = v >> META_TAG_SHIFT;
	return (void *)ALIGN_DOWN(a, PAGE_SIZE << o);
}

bool page_is_allocated(const void *p)
{
	return page_lookup(p, NULL, NULL) != NULL;
}

bool page_is_managed(const void *p)
{
	return page_range_of((uintptr_t)p) != NULL;
}

void page_get_stats(struct page_stats *st)
{
	unsigned long flags = local_irq_save();

	spin_lock(&page_lock);
	*st = page_st;
	spin_unlock(&page_lock);
	local_irq_restore(flags);
	st->used_pages = st->total_pages - st->free_pages;
}

void page_alloc_reset(void)
{
	unsigned long flags = local_irq_save();

	spin_lock(&page_lock);
	memset(page_ranges, 0, sizeof(page_ranges));
	memset(page_free_lists, 0, sizeof(page_free_lists));
	memset(&page_st, 0, sizeof(page_st));
	__atomic_store_n(&page_nr_ranges, 0, __ATOMIC_RELEASE);
	spin_unlock(&page_lock);
	local_irq_restore(flags);
}
