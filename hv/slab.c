/*
 * Object caches on top of the buddy allocator.
 *
 * A slab is one naturally aligned buddy block of 2^order pages. Its header
 * (struct slab: owner, free count, a bitmap of free objects) sits at the
 * start of the block, or, when that would cost an object, in a descriptor
 * from an internal cache, found again through a per-cache hash of block
 * addresses. The bitmap means objects are never written by the allocator,
 * so constructed state survives a free/alloc cycle.
 *
 * Each CPU keeps a magazine of free objects per cache; alloc and free touch
 * only it with interrupts masked, and move half a magazine to or from the
 * slabs under the cache lock when it runs empty or full.
 *
 * Lock order: cache list lock, then a cache lock, then the page lock. Slabs
 * are built and returned to the page allocator with no cache lock held, so
 * a ctor runs unlocked.
 */
#include "hv/slab.h"
#include "hv/compiler.h"
#include "hv/config.h"
#include "hv/errno.h"
#include "hv/irqflags.h"
#include "hv/page_alloc.h"
#include "hv/panic.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/spinlock.h"
#include "hv/string.h"

#define SLAB_MAGIC          0x51ab0bccU
#define SLAB_KEEP_EMPTY     1           /* empty slabs kept per cache */
#define SLAB_RZ             16          /* least red zone after an object */
#define SLAB_RZ_BYTE        0xbb
#define SLAB_POISON_BYTE    0x6b
/* Off-slab headers only pay off for big objects, which also bounds how many
 * objects an off-slab descriptor's fixed bitmap must cover. */
#define SLAB_OFFSLAB_MIN    512
#define SLAB_DESC_WORDS     4
#define MAG_MAX             64          /* objects a magazine holds at most */
#define MAG_MIN             4
#define MAG_BYTES           (32 * KiB)  /* memory a magazine may park */

BUILD_BUG_ON(SLAB_MAX_ORDER > PAGE_MAX_ORDER);
BUILD_BUG_ON(CACHE_MAX_SIZE / SLAB_OFFSLAB_MIN > SLAB_DESC_WORDS * 64);

/* Out of line, so the fast paths need no callee-saved registers. */
#define cache_slowpath      __attribute__((noinline))

#define CACHE_FLAGS_ALL     (CACHE_DEBUG | CACHE_ONSLAB | CACHE_NOMAG)
/* The caches the allocator itself needs: no magazines (no recursion when a
 * CPU's first magazine is allocated) and on-slab (no descriptor needed). */
#define CACHE_INTERNAL      (CACHE_ONSLAB | CACHE_NOMAG)

struct slab {
	uint32_t magic;
	uint32_t nfree;
	struct cache *cache;
	struct slab *next, *prev;       /* on the cache's full/partial/empty list */
	struct slab *hnext;             /* off-slab hash chain */
	char *base;                     /* the buddy block */
	char *objs;                     /* first object */
	uint64_t map[];                 /* bit set: object free in this slab */
};

struct mag {
	unsigned int nr;
	uint64_t allocs, frees;         /* this CPU's fast-path calls */
	void *objs[MAG_MAX];
};

struct cache {
	unsigned int flags;
	unsigned int mag_cap, batch;
	unsigned int order;             /* of each slab */
	bool offslab;
	spinlock_t lock;
	size_t size, align, stride;
	unsigned int nobjs;             /* per slab */
	unsigned int obj_offset;        /* of the first object in the block */
	unsigned int hdr_size;
	void (*ctor)(void *obj);
	/* Under lock: */
	struct slab *partial, *full, *empty;
	uint64_t nr_slabs, nr_empty;
	struct slab **htab;             /* off-slab: block address -> header */
	unsigned long hmask;
	unsigned int horder;
	/* Atomic: calls that bypassed the magazines. */
	uint64_t allocs, frees, failures;
	struct cache *next, *prev;      /* the list of all caches */
	char name[CACHE_NAME_MAX];
	struct mag *mag[NR_CPUS];       /* allocated on a CPU's first call */
};

struct cache_layout {
	size_t stride;
	unsigned int order, nobjs, obj_offset, hdr_size;
	bool offslab;
};

static spinlock_t caches_lock = SPINLOCK_INIT;
static struct cache *caches;
static bool slab_booted;
static bool slab_debug_default;
static struct cache cache_cache, mag_cache, desc_cache;

/* ------------------------------------------------------------- helpers */

static unsigned long cache_lock(struct cache *c)
{
	unsigned long flags = local_irq_save();

	spin_lock(&c->lock);
	return flags;
}

static void cache_unlock(struct cache *c, unsigned long flags)
{
	spin_unlock(&c->lock);
	local_irq_restore(flags);
}

/* Panic with the cache lock dropped, so a caught panic (host tests) leaves
 * the cache usable. */
#define cache_bug(c, flags, ...) do {           \
	cache_unlock(c, flags);                 \
	panic(__VA_ARGS__);                     \
} while (0)

static bool cache_mem_is(const void *p, uint8_t v, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++ != v)
			return false;
	return true;
}

static void cache_link(struct slab **head, struct slab *s)
{
	s->prev = NULL;
	s->next = *head;
	if (s->next)
		s->next->prev = s;
	*head = s;
}

static void cache_unlink(struct slab **head, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

static struct slab **cache_list(struct cache *c, unsigned int nfree)
{
	if (nfree == c->nobjs)
		return &c->empty;
	return nfree ? &c->partial : &c->full;
}

/* Move s to the list its free count now calls for. */
static void cache_relink(struct cache *c, struct slab *s, unsigned int old_nfree)
{
	struct slab **from = cache_list(c, old_nfree), **to = cache_list(c, s->nfree);

	if (from == to)
		return;
	cache_unlink(from, s);
	cache_link(to, s);
	if (from == &c->empty)
		c->nr_empty--;
	if (to == &c->empty)
		c->nr_empty++;
}

/* --------------------------------------------------- off-slab hash table */

static unsigned long cache_hash(const struct cache *c, const void *base)
{
	return ((uintptr_t)base >> (PAGE_SHIFT + c->order)) & c->hmask;
}

static struct slab *cache_hash_find(const struct cache *c, const void *base)
{
	struct slab *s = c->htab[cache_hash(c, base)];

	while (s && s->base != base)
		s = s->hnext;
	return s;
}

static void cache_hash_del(struct cache *c, struct slab *s)
{
	struct slab **pp = &c->htab[cache_hash(c, s->base)];

	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
}

static void cache_hash_add(struct cache *c, struct slab *s)
{
	struct slab **head = &c->htab[cache_hash(c, s->base)];

	s->hnext = *head;
	*head = s;
}

/* Keep chains short; a failed allocation only makes them longer. */
static void cache_hash_grow(struct cache *c)
{
	unsigned int order = c->horder + 1;
	struct slab **old = c->htab;
	unsigned long n = c->hmask + 1;
	struct slab **tab;

	if (order > PAGE_MAX_ORDER)
		return;
	tab = page_zalloc(order);
	if (!tab)
		return;
	c->htab = tab;
	c->hmask = (PAGE_SIZE << order) / sizeof(*tab) - 1;
	c->horder = order;
	for (unsigned long i = 0; i < n; i++) {
		while (old[i]) {
			struct slab *s = old[i];

			old[i] = s->hnext;
			cache_hash_add(c, s);
		}
	}
	page_free(old, order - 1);
}

/* ------------------------------------------------------------- slabs */

static char *cache_obj(const struct cache *c, const struct slab *s, unsigned int i)
{
	return s->objs + (size_t)i * c->stride;
}

static bool slab_is_free(const struct slab *s, unsigned int i)
{
	return s->map[i / 64] & (UINT64_C(1) << (i % 64));
}

/* A new slab, all objects free; built without the cache lock. */
static struct slab *slab_create(struct cache *c)
{
	char *base = page_alloc_tagged(c->order,
				       c->offslab ? PAGE_TAG_SLAB_OFF : PAGE_TAG_SLAB);
	unsigned int words = (c->nobjs + 63) / 64;
	struct slab *s;

	if (!base)
		return NULL;
	if (c->offslab) {
		s = cache_alloc(&desc_cache);
		if (!s) {
			page_free(base, c->order);
			return NULL;
		}
	} else {
		s = (struct slab *)base;
	}
	s->magic = SLAB_MAGIC;
	s->nfree = c->nobjs;
	s->cache = c;
	s->next = s->prev = s->hnext = NULL;
	s->base = base;
	s->objs = base + c->obj_offset;
	for (unsigned int w = 0; w < words; w++)
		s->map[w] = ~UINT64_C(0);
	if (c->nobjs % 64)
		s->map[words - 1] = (UINT64_C(1) << (c->nobjs % 64)) - 1;

	if (c->flags & CACHE_DEBUG) {
		if (!c->offslab)
			memset(base + c->hdr_size, SLAB_RZ_BYTE, c->obj_offset - c->hdr_size);
		for (unsigned int i = 0; i < c->nobjs; i++) {
			char *obj = cache_obj(c, s, i);

			memset(obj + c->size, SLAB_RZ_BYTE, c->stride - c->size);
			if (!c->ctor)
				memset(obj, SLAB_POISON_BYTE, c->size);
		}
	}
	if (c->ctor)
		for (unsigned int i = 0; i < c->nobjs; i++)
			c->ctor(cache_obj(c, s, i));
	return s;
}

/* Give a chain of slabs (linked through next) back; no cache lock held. */
static void slab_release(struct cache *c, struct slab *s)
{
	while (s) {
		struct slab *next = s->next;
		char *base = s->base;

		s->magic = 0;
		if (c->offslab)
			cache_free(&desc_cache, s);
		page_free(base, c->order);
		s = next;
	}
}

/* Under lock. */
static void cache_add_slab(struct cache *c, struct slab *s)
{
	cache_link(&c->empty, s);
	c->nr_empty++;
	c->nr_slabs++;
	if (c->offslab) {
		cache_hash_add(c, s);
		if (c->nr_slabs > 2 * (c->hmask + 1))
			cache_hash_grow(c);
	}
}

/* Under lock: detach s and queue it on *release for slab_release. */
static void cache_remove_slab(struct cache *c, struct slab *s, struct slab **release)
{
	cache_unlink(cache_list(c, s->nfree), s);
	if (s->nfree == c->nobjs)
		c->nr_empty--;
	c->nr_slabs--;
	if (c->offslab)
		cache_hash_del(c, s);
	s->next = *release;
	*release = s;
}

/*
 * Under lock (for the off-slab hash): the slab holding obj and obj's index,
 * or NULL when obj is not the start of an object of c. Reading an on-slab
 * header is safe once the page allocator says the block is a slab.
 */
static struct slab *cache_slab_of(struct cache *c, const void *obj, unsigned int *idx)
{
	unsigned int order, tag;
	char *base = page_lookup(obj, &order, &tag);
	struct slab *s;
	size_t off;

	if (!base || order != c->order)
		return NULL;
	if (c->offslab) {
		if (tag != PAGE_TAG_SLAB_OFF)
			return NULL;
		s = cache_hash_find(c, base);
		if (!s)
			return NULL;
	} else {
		if (tag != PAGE_TAG_SLAB)
			return NULL;
		s = (struct slab *)base;
		if (s->magic != SLAB_MAGIC || s->cache != c)
			return NULL;
	}
	if ((const char *)obj < s->objs)
		return NULL;
	off = (size_t)((const char *)obj - s->objs);
	if (off % c->stride || off / c->stride >= c->nobjs)
		return NULL;
	*idx = (unsigned int)(off / c->stride);
	return s;
}

/* Under lock: mark object idx of s free; queue s for release past the
 * hysteresis. */
static void cache_put_one(struct cache *c, struct slab *s, unsigned int idx,
			  struct slab **release)
{
	unsigned int old = s->nfree;

	s->map[idx / 64] |= UINT64_C(1) << (idx % 64);
	s->nfree++;
	cache_relink(c, s, old);
	if (s->nfree == c->nobjs && c->nr_empty > SLAB_KEEP_EMPTY)
		cache_remove_slab(c, s, release);
}

/* Take up to `want` objects into out[]; builds at most one slab, and only
 * when nothing else is free. Returns how many it took. */
static unsigned int cache_take(struct cache *c, void **out, unsigned int want)
{
	unsigned long flags = cache_lock(c);
	unsigned int n = 0;

	while (n < want) {
		struct slab *s = c->partial ? c->partial : c->empty;
		unsigned int old;

		if (!s) {
			if (n)
				break;
			cache_unlock(c, flags);
			s = slab_create(c);
			flags = cache_lock(c);
			if (!s)
				break;
			cache_add_slab(c, s);
			continue;
		}
		old = s->nfree;
		for (unsigned int w = 0; n < want && s->nfree; w++) {
			while (n < want && s->map[w]) {
				unsigned int bit = (unsigned int)__builtin_ctzll(s->map[w]);

				s->map[w] &= s->map[w] - 1;
				s->nfree--;
				out[n++] = cache_obj(c, s, w * 64 + bit);
			}
		}
		cache_relink(c, s, old);
	}
	if (!n)
		c->failures++;
	cache_unlock(c, flags);
	return n;
}

/* Return objects to their slabs, checking each. */
static void cache_put(struct cache *c, void *const *objs, unsigned int n)
{
	unsigned long flags = cache_lock(c);
	struct slab *release = NULL;

	for (unsigned int i = 0; i < n; i++) {
		unsigned int idx;
		struct slab *s = cache_slab_of(c, objs[i], &idx);

		if (!s)
			cache_bug(c, flags, "cache '%s': %p does not belong to this cache",
				  c->name, objs[i]);
		if (slab_is_free(s, idx))
			cache_bug(c, flags, "cache '%s': double free of %p", c->name, objs[i]);
		cache_put_one(c, s, idx, &release);
	}
	cache_unlock(c, flags);
	slab_release(c, release);
}

/* Return every empty slab to the page allocator. */
static void cache_drop_empty(struct cache *c)
{
	unsigned long flags = cache_lock(c);
	struct slab *release = NULL;

	while (c->empty)
		cache_remove_slab(c, c->empty, &release);
	cache_unlock(c, flags);
	slab_release(c, release);
}

/* ------------------------------------------------------------- debug */

/* The red zone after obj and, for a slab's first object, the one between
 * the on-slab header and it. */
static bool cache_redzone_ok(const struct cache *c, const char *obj)
{
	if (!cache_mem_is(obj + c->size, SLAB_RZ_BYTE, c->stride - c->size))
		return false;
	if (!c->offslab) {
		const char *base = (const char *)ALIGN_DOWN((uintptr_t)obj, PAGE_SIZE << c->order);

		if (obj == base + c->obj_offset &&
		    !cache_mem_is(base + c->hdr_size, SLAB_RZ_BYTE, c->obj_offset - c->hdr_size))
			return false;
	}
	return true;
}

static cache_slowpath void cache_free_debug(struct cache *c, void *obj)
{
	unsigned long flags = cache_lock(c);
	struct slab *release = NULL;
	unsigned int idx;
	struct slab *s = cache_slab_of(c, obj, &idx);

	if (!s)
		cache_bug(c, flags, "cache '%s': %p does not belong to this cache", c->name, obj);
	if (slab_is_free(s, idx))
		cache_bug(c, flags, "cache '%s': double free of %p", c->name, obj);
	if (!cache_redzone_ok(c, obj))
		cache_bug(c, flags, "cache '%s': red zone of %p overwritten", c->name, obj);
	if (!c->ctor)
		memset(obj, SLAB_POISON_BYTE, c->size);
	cache_put_one(c, s, idx, &release);
	cache_unlock(c, flags);
	slab_release(c, release);
}

/* A debug object just taken: it must be as free left it. */
static void cache_check_new(const struct cache *c, const char *obj)
{
	if (!c->ctor && !cache_mem_is(obj, SLAB_POISON_BYTE, c->size))
		panic("cache '%s': %p was modified after it was freed", c->name, obj);
	if (!cache_redzone_ok(c, obj))
		panic("cache '%s': red zone of %p overwritten", c->name, obj);
}

/* ------------------------------------------------------------- alloc/free */

static void *cache_alloc_locked(struct cache *c)
{
	void *obj;

	if (!cache_take(c, &obj, 1))
		return NULL;
	__atomic_fetch_add(&c->allocs, 1, __ATOMIC_RELAXED);
	if (c->flags & CACHE_DEBUG)
		cache_check_new(c, obj);
	return obj;
}

static void cache_free_locked(struct cache *c, void *obj)
{
	cache_put(c, &obj, 1);
	__atomic_fetch_add(&c->frees, 1, __ATOMIC_RELAXED);
}

/* The calling CPU's magazine, made on first use; NULL when it cannot be. */
static struct mag *cache_mag_get(struct cache *c)
{
	unsigned int cpu = smp_processor_id();
	struct mag *m;

	if (cpu >= NR_CPUS)
		return NULL;
	m = cache_alloc(&mag_cache);
	if (m) {
		m->nr = 0;
		m->allocs = m->frees = 0;
		WRITE_ONCE(c->mag[cpu], m);
	}
	return m;
}

static cache_slowpath void *cache_alloc_slow(struct cache *c, struct mag *m)
{
	if (c->flags & (CACHE_DEBUG | CACHE_NOMAG))
		return cache_alloc_locked(c);
	if (!m)
		m = cache_mag_get(c);
	if (!m)
		return cache_alloc_locked(c);
	m->nr = cache_take(c, m->objs, c->batch);
	if (!m->nr)
		return NULL;
	m->allocs++;
	return m->objs[--m->nr];
}

void *cache_alloc(struct cache *c)
{
	unsigned long flags = local_irq_save();
	struct mag *m = c->mag[smp_processor_id()];
	void *obj;

	if (likely(m && m->nr)) {
		obj = m->objs[--m->nr];
		m->allocs++;
	} else {
		obj = cache_alloc_slow(c, m);
	}
	local_irq_restore(flags);
	return obj;
}

static cache_slowpath void cache_free_slow(struct cache *c, struct mag *m, void *obj)
{
	if (!m && !(c->flags & CACHE_NOMAG))
		m = cache_mag_get(c);
	if (!m) {
		cache_free_locked(c, obj);
		return;
	}
	if (m->nr == c->mag_cap) {
		/* The oldest go back: the newest are likelier still in the CPU cache. */
		cache_put(c, m->objs, c->batch);
		m->nr -= c->batch;
		for (unsigned int i = 0; i < m->nr; i++)
			m->objs[i] = m->objs[i + c->batch];
	}
	m->objs[m->nr++] = obj;
	m->frees++;
}

/* Without taking a lock: is obj plausibly an object of c? cache_put checks
 * the rest (boundary, double free) when the object reaches its slab. */
static bool cache_owns(const struct cache *c, const void *obj)
{
	unsigned int order, tag;
	const struct slab *s = page_lookup(obj, &order, &tag);

	if (!s || order != c->order)
		return false;
	if (c->offslab)
		return tag == PAGE_TAG_SLAB_OFF;
	return tag == PAGE_TAG_SLAB && s->magic == SLAB_MAGIC && s->cache == c;
}

void cache_free(struct cache *c, void *obj)
{
	unsigned long flags;
	struct mag *m;

	if (!obj)
		return;
	if (unlikely(c->flags & CACHE_DEBUG)) {
		cache_free_debug(c, obj);
		__atomic_fetch_add(&c->frees, 1, __ATOMIC_RELAXED);
		return;
	}
	if (unlikely(!cache_owns(c, obj)))
		panic("cache '%s': %p does not belong to this cache", c->name, obj);
	flags = local_irq_save();
	m = c->mag[smp_processor_id()];
	if (likely(m && m->nr < c->mag_cap)) {
		m->objs[m->nr++] = obj;
		m->frees++;
	} else {
		cache_free_slow(c, m, obj);
	}
	local_irq_restore(flags);
}

struct cache *cache_of_obj(const void *obj)
{
	unsigned int tag;
	const struct slab *s = page_lookup(obj, NULL, &tag);

	if (!s || tag != PAGE_TAG_SLAB || s->magic != SLAB_MAGIC)
		return NULL;
	return s->cache;
}

/* ------------------------------------------------------------- create */

static size_t cache_hdr_size(unsigned int nobjs)
{
	return sizeof(struct slab) + sizeof(uint64_t) * ((nobjs + 63) / 64);
}

/* Objects that fit in `bytes` behind an on-slab header, and where they start. */
static unsigned int cache_fit_onslab(size_t bytes, size_t stride, size_t align,
				     size_t lead, unsigned int *offset)
{
	for (size_t n = bytes / stride; n; n--) {
		size_t off = ALIGN_UP(cache_hdr_size((unsigned int)n) + lead, align);

		if (off + n * stride <= bytes) {
			*offset = (unsigned int)off;
			return (unsigned int)n;
		}
	}
	return 0;
}

/*
 * Pick the slab order: the smallest that wastes at most 1/8 of the slab,
 * starting where a slab holds 8 objects (capped at 32 KiB) so refills seldom
 * reach the page allocator; else the least wasteful order. The header goes
 * off-slab when it would cost an object of 512 bytes or more.
 */
static int cache_layout(size_t size, size_t align, unsigned int flags,
			struct cache_layout *l)
{
	bool debug = flags & CACHE_DEBUG;
	size_t lead = debug ? SLAB_RZ : 0;
	size_t stride = ALIGN_UP(size + lead, align);
	size_t best_waste = 0, best_bytes = 0;
	unsigned int order;

	for (order = 0; order < 3 && (PAGE_SIZE << order) < 8 * stride; order++)
		;
	for (; order <= SLAB_MAX_ORDER; order++) {
		size_t bytes = PAGE_SIZE << order, waste;
		unsigned int off_on = 0, n_on, n_off, n;
		bool offslab;

		if (stride > bytes)
			continue;
		n_off = (unsigned int)(bytes / stride);
		n_on = cache_fit_onslab(bytes, stride, align, lead, &off_on);
		offslab = !(flags & CACHE_ONSLAB) && n_off > n_on &&
			  stride >= SLAB_OFFSLAB_MIN;
		n = offslab ? n_off : n_on;
		if (!n)
			continue;
		waste = bytes - n * stride;
		if (!best_bytes || waste * best_bytes < best_waste * bytes) {
			best_waste = waste;
			best_bytes = bytes;
			l->stride = stride;
			l->order = order;
			l->nobjs = n;
			l->offslab = offslab;
			l->obj_offset = offslab ? 0 : off_on;
			l->hdr_size = (unsigned int)(offslab ?
				cache_hdr_size(SLAB_DESC_WORDS * 64) : cache_hdr_size(n));
		}
		if (waste * 8 <= bytes)
			break;
	}
	return best_bytes ? 0 : -EINVAL;
}

static void cache_init(struct cache *c, const char *name, size_t size, size_t align,
		       unsigned int flags, void (*ctor)(void *),
		       const struct cache_layout *l)
{
	size_t n = strnlen(name, CACHE_NAME_MAX - 1);
	unsigned int cap;

	memset(c, 0, sizeof(*c));
	memcpy(c->name, name, n);
	c->name[n] = '\0';
	c->flags = flags;
	c->size = size;
	c->align = align;
	c->ctor = ctor;
	c->stride = l->stride;
	c->order = l->order;
	c->nobjs = l->nobjs;
	c->obj_offset = l->obj_offset;
	c->hdr_size = l->hdr_size;
	c->offslab = l->offslab;
	cap = (unsigned int)MIN((size_t)MAG_MAX, MAG_BYTES / l->stride);
	cap = MAX(cap, (unsigned int)MAG_MIN) & ~1U;
	c->mag_cap = cap;
	c->batch = cap / 2;
	c->lock = (spinlock_t)SPINLOCK_INIT;
}

/* Under caches_lock. */
static void cache_list_add(struct cache *c)
{
	c->prev = NULL;
	c->next = caches;
	if (caches)
		caches->prev = c;
	caches = c;
}

static void cache_boot_one(struct cache *c, const char *name, size_t size, size_t align)
{
	struct cache_layout l;

	if (cache_layout(size, align, CACHE_INTERNAL, &l))
		panic("slab: no layout for internal cache '%s'", name);
	cache_init(c, name, size, align, CACHE_INTERNAL, NULL, &l);
	cache_list_add(c);
}

/* Under caches_lock: the caches the allocator needs for itself. */
static void slab_boot(void)
{
	if (slab_booted)
		return;
	cache_boot_one(&desc_cache, "slab-desc",
		       sizeof(struct slab) + SLAB_DESC_WORDS * sizeof(uint64_t), 8);
	cache_boot_one(&mag_cache, "slab-magazine", sizeof(struct mag), 64);
	cache_boot_one(&cache_cache, "slab-cache", sizeof(struct cache), 64);
	slab_booted = true;
}

struct cache *cache_create(const char *name, size_t size, size_t align,
			   unsigned int flags, void (*ctor)(void *obj))
{
	struct cache_layout l;
	unsigned long irq;
	struct cache *c;

	if (!name || (flags & ~CACHE_FLAGS_ALL))
		return ERR_PTR(ERR(-EINVAL));
	if (align == 0)
		align = sizeof(void *);
	if (!IS_POW2(align) || align > PAGE_SIZE || size == 0 || size > CACHE_MAX_SIZE)
		return ERR_PTR(ERR(-EINVAL));
	/* The command-line default must not turn a valid request into an
	 * invalid one: without room for red zones the cache stays plain. */
	if (READ_ONCE(slab_debug_default) && !(flags & CACHE_DEBUG)) {
		if (!cache_layout(size, align, flags | CACHE_DEBUG, &l))
			flags |= CACHE_DEBUG;
		else
			pr_warn("cache '%s': no room for red zones, debug off\n", name);
	}
	if (cache_layout(size, align, flags, &l))
		return ERR_PTR(ERR(-EINVAL));

	irq = local_irq_save();
	spin_lock(&caches_lock);
	slab_boot();
	spin_unlock(&caches_lock);
	local_irq_restore(irq);

	c = cache_alloc(&cache_cache);
	if (!c)
		return ERR_PTR(ERR(-ENOMEM));
	cache_init(c, name, size, align, flags, ctor, &l);
	if (c->offslab) {
		c->htab = page_zalloc(0);
		if (!c->htab) {
			cache_free(&cache_cache, c);
			return ERR_PTR(ERR(-ENOMEM));
		}
		c->hmask = PAGE_SIZE / sizeof(*c->htab) - 1;
	}

	irq = local_irq_save();
	spin_lock(&caches_lock);
	cache_list_add(c);
	spin_unlock(&caches_lock);
	local_irq_restore(irq);
	return c;
}

/* ------------------------------------------------------------- stats */

/* Calls so far; exact when no other CPU is inside alloc/free. */
static void cache_counts(const struct cache *c, uint64_t *allocs, uint64_t *frees,
			 uint64_t *cached)
{
	uint64_t a = __atomic_load_n(&c->allocs, __ATOMIC_RELAXED);
	uint64_t f = __atomic_load_n(&c->frees, __ATOMIC_RELAXED);
	uint64_t k = 0;

	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		const struct mag *m = READ_ONCE(c->mag[cpu]);

		if (!m)
			continue;
		a += READ_ONCE(m->allocs);
		f += READ_ONCE(m->frees);
		k += READ_ONCE(m->nr);
	}
	*allocs = a;
	*frees = f;
	*cached = k;
}

void cache_get_stats(const struct cache *c, struct cache_stats *st)
{
	struct cache *mc = (struct cache *)c;   /* the lock is not the cache's value */
	unsigned long flags;

	memset(st, 0, sizeof(*st));
	st->name = c->name;
	st->obj_size = c->size;
	st->align = c->align;
	st->stride = c->stride;
	st->objs_per_slab = c->nobjs;
	st->slab_order = c->order;
	st->flags = c->flags;
	st->offslab = c->offslab;
	st->bookkeeping = c == &mag_cache || c == &desc_cache;
	cache_counts(c, &st->allocs, &st->frees, &st->cached);
	/* Frees can run ahead of allocs on a CPU that got objects from another. */
	st->in_use = st->allocs - st->frees;
	flags = cache_lock(mc);
	st->slabs = c->nr_slabs;
	st->failures = c->failures;
	cache_unlock(mc, flags);
	st->pages = st->slabs << c->order;
}

void cache_for_each(void (*fn)(const struct cache_stats *st, void *arg), void *arg)
{
	unsigned long flags = local_irq_save();

	spin_lock(&caches_lock);
	for (struct cache *c = caches; c; c = c->next) {
		struct cache_stats st;

		cache_get_stats(c, &st);
		fn(&st, arg);
	}
	spin_unlock(&caches_lock);
	local_irq_restore(flags);
}

/* ------------------------------------------------------------- teardown */

void cache_shrink(struct cache *c)
{
	unsigned long flags = local_irq_save();
	unsigned int cpu = smp_processor_id();
	struct mag *m = cpu < NR_CPUS ? c->mag[cpu] : NULL;

	if (m && m->nr) {
		cache_put(c, m->objs, m->nr);
		m->nr = 0;
	}
	/* The magazine itself goes too, its counts folded into the cache's,
	 * so a shrunk cache holds no memory beyond its live objects. */
	if (m) {
		WRITE_ONCE(c->mag[cpu], NULL);
		__atomic_fetch_add(&c->allocs, m->allocs, __ATOMIC_RELAXED);
		__atomic_fetch_add(&c->frees, m->frees, __ATOMIC_RELAXED);
		cache_free(&mag_cache, m);
	}
	local_irq_restore(flags);
	cache_drop_empty(c);
}

void slab_shrink(void)
{
	unsigned long flags = local_irq_save();

	spin_lock(&caches_lock);
	for (struct cache *c = caches; c; c = c->next)
		cache_shrink(c);
	cache_drop_empty(&mag_cache);   /* the magazines freed just now */
	spin_unlock(&caches_lock);
	local_irq_restore(flags);
}

int cache_destroy(struct cache *c)
{
	uint64_t allocs, frees, cached;
	unsigned long flags;

	if (!c || IS_ERR(c) || c == &cache_cache || c == &mag_cache || c == &desc_cache)
		return ERR(-EINVAL);
	cache_counts(c, &allocs, &frees, &cached);
	if (allocs != frees) {
		pr_err("cache '%s': %ld objects still in use\n", c->name,
		       (long)(allocs - frees));
		return ERR(-EBUSY);
	}

	flags = local_irq_save();
	spin_lock(&caches_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		caches = c->next;
	if (c->next)
		c->next->prev = c->prev;
	spin_unlock(&caches_lock);
	local_irq_restore(flags);

	/* The cache is unused by contract, so other CPUs' magazines are quiet. */
	for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
		struct mag *m = c->mag[cpu];

		if (!m)
			continue;
		if (m->nr)
			cache_put(c, m->objs, m->nr);
		c->mag[cpu] = NULL;
		cache_free(&mag_cache, m);
	}
	cache_drop_empty(c);
	BUG_ON(c->partial || c->full);
	if (c->htab)
		page_free(c->htab, c->horder);
	cache_free(&cache_cache, c);
	return 0;
}

void slab_set_debug_default(bool on)
{
	WRITE_ONCE(slab_debug_default, on);
}

void slab_reset(void)
{
	caches = NULL;
	slab_booted = false;
	slab_debug_default = false;
	caches_lock = (spinlock_t)SPINLOCK_INIT;
	memset(&cache_cache, 0, sizeof(cache_cache));
	memset(&mag_cache, 0, sizeof(mag_cache));
	memset(&desc_cache, 0, sizeof(desc_cache));
}
