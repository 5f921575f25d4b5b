/*
 * kmalloc: size classes on slab caches, bigger blocks straight from the
 * page allocator. kfree needs no size: class caches keep their slab headers
 * on-slab (cache_of_obj finds the cache), and big blocks carry the
 * PAGE_TAG_KMALLOC tag, whose metadata records the order.
 */
#include "hv/kmalloc.h"
#include "hv/compiler.h"
#include "hv/errno.h"
#include "hv/page_alloc.h"
#include "hv/panic.h"
#include "hv/slab.h"
#include "hv/string.h"

#define KMALLOC_MIN_SHIFT 4
#define KMALLOC_MAX_SHIFT 11
#define KMALLOC_CLASSES   (KMALLOC_MAX_SHIFT - KMALLOC_MIN_SHIFT + 1)

BUILD_BUG_ON(KMALLOC_MIN_SIZE != 1 << KMALLOC_MIN_SHIFT);
BUILD_BUG_ON(KMALLOC_MAX_CLASS != 1 << KMALLOC_MAX_SHIFT);

static struct cache *kmalloc_caches[KMALLOC_CLASSES];
static const char *const kmalloc_names[KMALLOC_CLASSES] = {
	"kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-128",
	"kmalloc-256", "kmalloc-512", "kmalloc-1024", "kmalloc-2048",
};

/* ceil(log2(n)) for n >= 2 */
static unsigned int kmalloc_log2_up(size_t n)
{
	return 64U - (unsigned int)__builtin_clzll((unsigned long long)(n - 1));
}

int kmalloc_init(void)
{
	for (unsigned int i = 0; i < KMALLOC_CLASSES; i++) {
		size_t size = (size_t)1 << (i + KMALLOC_MIN_SHIFT);
		struct cache *c = cache_create(kmalloc_names[i], size, size,
					       CACHE_ONSLAB, NULL);

		if (IS_ERR(c)) {
			while (i--) {
				cache_destroy(kmalloc_caches[i]);
				kmalloc_caches[i] = NULL;
			}
			return (int)PTR_ERR(c);
		}
		kmalloc_caches[i] = c;
	}
	return 0;
}

void *kmalloc(size_t size)
{
	unsigned int shift;

	if (size <= KMALLOC_MIN_SIZE)
		return cache_alloc(kmalloc_caches[0]);
	shift = kmalloc_log2_up(size);
	if (shift <= KMALLOC_MAX_SHIFT)
		return cache_alloc(kmalloc_caches[shift - KMALLOC_MIN_SHIFT]);
	if (size > PAGE_SIZE << PAGE_MAX_ORDER)
		return NULL;
	return page_alloc_tagged(shift > PAGE_SHIFT ? shift - PAGE_SHIFT : 0,
				 PAGE_TAG_KMALLOC);
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(const void *p)
{
	unsigned int order, tag;
	void *start;
	struct cache *c;

	if (!p)
		return;
	start = page_lookup(p, &order, &tag);
	if (start == p && tag == PAGE_TAG_KMALLOC) {
		page_free(start, order);
		return;
	}
	c = cache_of_obj(p);
	for (unsigned int i = 0; c && i < KMALLOC_CLASSES; i++) {
		if (kmalloc_caches[i] == c) {
			cache_free(c, (void *)p);
			return;
		}
	}
	panic("kfree: %p was not allocated by kmalloc", p);
}
