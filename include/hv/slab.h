/*
 * Caches of fixed-size aligned objects (Linux's kmem_cache), backed by the
 * page allocator. The vCPU control blocks, VMCS/VMCB pages and async work
 * items come from here.
 */
#ifndef HV_SLAB_H
#define HV_SLAB_H

#include "hv/types.h"

struct cache;

/* cache_create flags. */
#define CACHE_DEBUG   (1U << 0)  /* red zones, poisoning, exact double-free and
				  * ownership checks on every call; no per-CPU
				  * magazines, so every call takes the lock */
#define CACHE_ONSLAB  (1U << 1)  /* keep every slab header inside its slab, so
				  * cache_of_obj() can find the cache */
#define CACHE_NOMAG   (1U << 2)  /* no per-CPU magazines (rarely used caches) */

/* Slabs are at most 2^SLAB_MAX_ORDER pages, which bounds the object size. */
#define SLAB_MAX_ORDER  5
#define CACHE_MAX_SIZE  (PAGE_SIZE << SLAB_MAX_ORDER)   /* 128 KiB */
#define CACHE_NAME_MAX  32      /* longer names are truncated */

struct cache_stats {
	const char *name;
	size_t obj_size;        /* as requested */
	size_t align;
	uint64_t in_use;        /* live objects */
	uint64_t slabs;         /* slabs held (full, partial and empty) */
	uint64_t pages;         /* pages held by those slabs */
	uint64_t allocs, frees; /* ever */
	/* Added beyond the list: */
	uint64_t cached;        /* free objects parked in per-CPU magazines */
	uint64_t failures;      /* cache_alloc calls that returned NULL */
	size_t stride;          /* bytes between objects (debug adds red zones) */
	unsigned int objs_per_slab;
	unsigned int slab_order;
	unsigned int flags;     /* CACHE_* in effect */
	bool offslab;           /* slab headers kept outside the slabs */
	bool bookkeeping;       /* the allocator's own magazines or slab
				 * descriptors: how many depends on caching */
};

/*
 * Create a cache of objects of `size` bytes aligned to `align` (a power of
 * two up to PAGE_SIZE; 0 means the natural alignment of a pointer). ctor, if
 * set, runs on each object when its slab is created. Returns the cache or
 * ERR_PTR(-EINVAL) for an impossible request (align not a power of two or
 * above PAGE_SIZE, size 0 or too large for a slab), ERR_PTR(-ENOMEM).
 * Objects may be up to CACHE_MAX_SIZE bytes (CACHE_DEBUG needs 16 more). The
 * name is copied. ctor must not allocate from the cache it constructs for.
 */
struct cache *cache_create(const char *name, size_t size, size_t align,
			   unsigned int flags, void (*ctor)(void *obj));
/* An object, or NULL when memory is exhausted. */
void *cache_alloc(struct cache *c);
/*
 * Return an object (NULL is ignored). An object of another cache, a pointer
 * that is not an object, or a double free panics naming the cache: at once
 * with CACHE_DEBUG, otherwise when the object leaves the per-CPU magazine.
 */
void cache_free(struct cache *c, void *obj);
/*
 * Destroy an empty cache and return its pages. With live objects it logs the
 * cache's name and count, changes nothing and returns -EBUSY.
 */
int cache_destroy(struct cache *c);
void cache_get_stats(const struct cache *c, struct cache_stats *st);

/*
 * Call fn with the stats of every cache (internal ones included), under the
 * cache list lock: fn must not create or destroy caches.
 */
void cache_for_each(void (*fn)(const struct cache_stats *st, void *arg), void *arg);

/*
 * Give the calling CPU's magazine back to the slabs and return every empty
 * slab to the page allocator. slab_shrink does so for every cache.
 */
void cache_shrink(struct cache *c);
void slab_shrink(void);

/*
 * The cache of an object from a CACHE_ONSLAB cache; NULL when obj is not
 * inside such a slab (safe for any pointer).
 */
struct cache *cache_of_obj(const void *obj);

/* Make CACHE_DEBUG the default for caches created afterwards (`slab_debug`
 * on the kernel command line). */
void slab_set_debug_default(bool on);

/* Forget every cache (host tests only, after page_alloc_reset). */
void slab_reset(void);

#endif
