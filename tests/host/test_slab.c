/* Slab caches: layout and alignment, misuse detection, stats, threads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <cmocka.h>

#include "hv/errno.h"
#include "hv/page_alloc.h"
#include "hv/slab.h"
#include "host_stubs.h"

#define RAM_ALIGN  (4 * MiB)
#define RAM_SIZE   (32 * MiB)

static char *ram;
static size_t ram_size;
static uint64_t base_free;      /* free pages before any cache existed */

static int setup_size(size_t size)
{
	ram_size = size;
	ram = aligned_alloc(RAM_ALIGN, size);
	assert_non_null(ram);
	page_alloc_reset();
	slab_reset();
	host_log_clear();
	host_cpu_id = 0;
	assert_int_equal(page_alloc_add_range((uintptr_t)ram, size), 0);

	struct page_stats st;

	page_get_stats(&st);
	base_free = st.free_pages;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_size(RAM_SIZE);
}

static int setup_big(void **state)
{
	(void)state;
	return setup_size(64 * MiB);
}

static int teardown(void **state)
{
	(void)state;
	page_alloc_reset();
	slab_reset();
	free(ram);
	return 0;
}

static uint64_t free_pages(void)
{
	struct page_stats st;

	page_get_stats(&st);
	return st.free_pages;
}

/* Every page the caches took is back once the empty slabs are dropped. */
static void assert_pages_back(void)
{
	slab_shrink();
	assert_int_equal(free_pages(), base_free);
}

static struct cache_stats stats(struct cache *c)
{
	struct cache_stats st;

	cache_get_stats(c, &st);
	return st;
}

static struct cache *create(const char *name, size_t size, size_t align, unsigned int flags,
			    void (*ctor)(void *))
{
	struct cache *c = cache_create(name, size, align, flags, ctor);

	assert_false(IS_ERR(c));
	assert_non_null(c);
	return c;
}

#define expect_panic(stmt, what, p) do {                                \
	char addr_[32];                                                  \
	snprintf(addr_, sizeof(addr_), "%p", (void *)(p));               \
	if (!setjmp(host_panic_jmp)) {                                   \
		host_panic_armed = true;                                 \
		stmt;                                                    \
		fail_msg("no panic from %s", #stmt);                     \
	}                                                                \
	if (!strstr(host_panic_msg, what) || !strstr(host_panic_msg, addr_)) \
		fail_msg("panic '%s' lacks '%s' or %s", host_panic_msg, what, addr_); \
} while (0)

/* ------------------------------------------------------------- requests */

static void test_invalid_requests(void **state)
{
	(void)state;
	static const size_t bad_align[] = { 3, 6, 12, 100, 8192, 1 << 20 };
	struct cache *c;

	assert_ptr_equal(cache_create("z", 0, 8, 0, NULL), ERR_PTR(-EINVAL));
	for (size_t i = 0; i < ARRAY_SIZE(bad_align); i++)
		assert_ptr_equal(cache_create("a", 64, bad_align[i], 0, NULL), ERR_PTR(-EINVAL));
	assert_ptr_equal(cache_create("big", CACHE_MAX_SIZE + 1, 8, 0, NULL), ERR_PTR(-EINVAL));
	assert_ptr_equal(cache_create("huge", SIZE_MAX, 8, 0, NULL), ERR_PTR(-EINVAL));
	assert_ptr_equal(cache_create("flags", 64, 8, 1U << 7, NULL), ERR_PTR(-EINVAL));
	assert_ptr_equal(cache_create(NULL, 64, 8, 0, NULL), ERR_PTR(-EINVAL));
	/* Red zones do not fit beside the largest object. */
	assert_ptr_equal(cache_create("dbig", CACHE_MAX_SIZE, 4096, CACHE_DEBUG, NULL),
			 ERR_PTR(-EINVAL));
	assert_int_equal(free_pages(), base_free);

	/* The largest object is fine, and survives a global debug default. */
	c = create("max", CACHE_MAX_SIZE, PAGE_SIZE, 0, NULL);
	assert_int_equal(stats(c).slab_order, SLAB_MAX_ORDER);
	assert_int_equal(cache_destroy(c), 0);
	slab_set_debug_default(true);
	c = create("max", CACHE_MAX_SIZE, PAGE_SIZE, 0, NULL);
	assert_int_equal(stats(c).flags & CACHE_DEBUG, 0);
	assert_true(host_log_contains("cache 'max': no room for red zones"));
	assert_int_equal(cache_destroy(c), 0);
	c = create("dflt", 100, 0, 0, NULL);
	assert_true(stats(c).flags & CACHE_DEBUG);
	assert_int_equal(cache_destroy(c), 0);
	slab_set_debug_default(false);

	/* Long names are truncated, not overrun. */
	c = create("a-very-long-cache-name-that-goes-on-and-on", 8, 0, 0, NULL);
	assert_int_equal(strlen(stats(c).name), CACHE_NAME_MAX - 1);
	assert_int_equal(cache_destroy(c), 0);
	assert_int_equal(cache_destroy(NULL), -EINVAL);
	assert_pages_back();
}

/* ------------------------------------------------------------- alignment */

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

static void check_grid(unsigned int flags)
{
	static const size_t sizes[] = {
		1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 96,
		100, 127, 128, 129, 200, 255, 256, 257, 500, 511, 512, 513, 700,
		1000, 1023, 1024, 1025, 1500, 2000, 2047, 2048, 2049, 3000, 4000,
		4095, 4096, 4097, 5000, 6000, 8191, 8192, 8193, 10000, 12288,
		16384, 20000,
	};
	static const size_t aligns[] = {
		0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096,
	};
	void *objs[64];
	unsigned int caches = 0;

	for (size_t si = 0; si < ARRAY_SIZE(sizes); si++) {
		for (size_t ai = 0; ai < ARRAY_SIZE(aligns); ai++) {
			size_t size = sizes[si], align = aligns[ai];
			size_t want = align ? align : sizeof(void *);
			struct cache *c = create("grid", size, align, flags, NULL);
			struct cache_stats st = stats(c);
			unsigned int n = MIN(2 * st.objs_per_slab + 1, ARRAY_SIZE(objs));

			assert_int_equal(st.align, want);
			assert_int_equal(st.obj_size, size);
			assert_true(st.stride >= size && st.stride % want == 0);
			assert_true(st.objs_per_slab * st.stride <= PAGE_SIZE << st.slab_order);
			/* Nothing wastes more than half a slab. */
			assert_true(2 * st.objs_per_slab * st.stride >= PAGE_SIZE << st.slab_order);
			for (unsigned int i = 0; i < n; i++) {
				objs[i] = cache_alloc(c);
				assert_non_null(objs[i]);
				if ((uintptr_t)objs[i] % want)
					fail_msg("size %zu align %zu: %p misaligned", size, align, objs[i]);
				assert_true(page_is_allocated(objs[i]));
				assert_true(page_is_allocated((char *)objs[i] + size - 1));
				memset(objs[i], (int)i, size);
			}
			for (unsigned int i = 0; i < n; i++) {
				const unsigned char *b = objs[i];

				assert_int_equal(b[0], (unsigned char)i);
				assert_int_equal(b[size - 1], (unsigned char)i);
			}
			qsort(objs, n, sizeof(objs[0]), cmp_ptr);
			for (unsigned int i = 1; i < n; i++)
				assert_true((uintptr_t)objs[i - 1] + size <= (uintptr_t)objs[i]);
			for (unsigned int i = 0; i < n; i++)
				cache_free(c, objs[n - 1 - i]);
			st = stats(c);
			assert_int_equal(st.in_use, 0);
			assert_int_equal(st.allocs, n);
			assert_int_equal(cache_destroy(c), 0);
			caches++;
		}
	}
	assert_int_equal(caches, ARRAY_SIZE(sizes) * ARRAY_SIZE(aligns));
	assert_pages_back();
}

static void test_alignment_grid(void **state)
{
	(void)state;
	check_grid(0);
}

static void test_alignment_grid_debug(void **state)
{
	(void)state;
	check_grid(CACHE_DEBUG);
}

static void test_alignment_grid_onslab(void **state)
{
	(void)state;
	check_grid(CACHE_ONSLAB | CACHE_NOMAG);
}

/* VMCS pages, vCPU blocks, the largest objects. */
static void test_big_objects(void **state)
{
	(void)state;
	struct { size_t size, align; unsigned int order, per_slab; bool offslab; } cases[] = {
		{ 4096, 4096, 3, 8, true },
		{ 16384, 64, 3, 2, true },
		{ 16384, 4096, 3, 2, true },
		{ 20000, 4096, 4, 3, false },   /* the header fits in page 0 */
		{ CACHE_MAX_SIZE, 4096, SLAB_MAX_ORDER, 1, true },
		{ 64, 64, 0, 63, false },
		{ 3000, 8, 3, 10, false },      /* the header fits in the slack */
	};

	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		struct cache *c = create("big", cases[k].size, cases[k].align, 0, NULL);
		struct cache_stats st = stats(c);
		void *objs[40];

		assert_int_equal(st.slab_order, cases[k].order);
		assert_int_equal(st.objs_per_slab, cases[k].per_slab);
		if (st.offslab != cases[k].offslab)
			fail_msg("size %zu align %zu: offslab %d", cases[k].size, cases[k].align, st.offslab);
		for (unsigned int i = 0; i < ARRAY_SIZE(objs); i++) {
			objs[i] = cache_alloc(c);
			assert_non_null(objs[i]);
			assert_int_equal((uintptr_t)objs[i] % cases[k].align, 0);
			memset(objs[i], 0x5a, cases[k].size);
		}
		st = stats(c);
		assert_int_equal(st.in_use, ARRAY_SIZE(objs));
		assert_int_equal(st.pages, st.slabs << st.slab_order);
		for (unsigned int i = 0; i < ARRAY_SIZE(objs); i++)
			cache_free(c, objs[i]);
		assert_int_equal(cache_destroy(c), 0);
	}
	assert_pages_back();
}

/* ------------------------------------------------------------- ctor */

static unsigned int ctor_calls;

static void ctor(void *obj)
{
	ctor_calls++;
	memcpy(obj, "constructed", 12);
}

static void check_ctor(unsigned int flags)
{
	struct cache *c = create("ctor", 48, 16, flags, ctor);
	struct cache_stats st;
	void *objs[100];

	ctor_calls = 0;
	for (unsigned int i = 0; i < ARRAY_SIZE(objs); i++) {
		objs[i] = cache_alloc(c);
		assert_non_null(objs[i]);
		assert_string_equal(objs[i], "constructed");
	}
	st = stats(c);
	assert_int_equal(ctor_calls, st.slabs * st.objs_per_slab);
	/* Freed objects keep their constructed state: no new ctor calls while
	 * their slabs stay. */
	for (unsigned int i = 0; i < 10; i++)
		cache_free(c, objs[i]);
	unsigned int before = ctor_calls;

	for (unsigned int i = 0; i < 10; i++) {
		objs[i] = cache_alloc(c);
		assert_string_equal(objs[i], "constructed");
	}
	assert_int_equal(ctor_calls, before);
	for (unsigned int i = 0; i < ARRAY_SIZE(objs); i++)
		cache_free(c, objs[i]);
	assert_int_equal(cache_destroy(c), 0);
}

static void test_ctor(void **state)
{
	(void)state;
	check_ctor(0);
	check_ctor(CACHE_DEBUG);
	assert_pages_back();
}

/* ------------------------------------------------------------- exhaustion */

static void check_exhaustion(size_t size, size_t align)
{
	static void *objs[RAM_SIZE / 32];
	struct cache *c = create("exh", size, align, 0, NULL);
	struct cache_stats st;
	size_t n = 0;

	while ((objs[n] = cache_alloc(c)) != NULL) {
		n++;
		assert_true(n < ARRAY_SIZE(objs));
	}
	/* Almost every page went to objects. */
	assert_true(n * size > (RAM_SIZE / 8) * 7);
	assert_null(cache_alloc(c));
	assert_null(cache_alloc(c));
	st = stats(c);
	assert_true(st.failures >= 3);
	assert_int_equal(st.in_use, n);
	while (n)
		cache_free(c, objs[--n]);
	assert_int_equal(stats(c).in_use, 0);
	assert_int_equal(cache_destroy(c), 0);
	assert_pages_back();
}

static void test_exhaustion(void **state)
{
	(void)state;
	check_exhaustion(64, 0);
	check_exhaustion(4096, 4096);
	check_exhaustion(1000, 8);
}

static void test_create_without_memory(void **state)
{
	(void)state;
	static void *pages[RAM_SIZE / PAGE_SIZE];
	struct cache *cs[64];
	size_t np = 0, nc = 0;

	/* Boot the internal caches, then take every page. */
	assert_int_equal(cache_destroy(create("warm", 8, 0, 0, NULL)), 0);
	while ((pages[np] = page_alloc(0)) != NULL)
		np++;
	for (;;) {
		struct cache *c = cache_create("c", 64, 0, 0, NULL);

		if (IS_ERR(c)) {
			assert_int_equal(PTR_ERR(c), -ENOMEM);
			break;
		}
		assert_true(nc < ARRAY_SIZE(cs));
		assert_null(cache_alloc(c));
		cs[nc++] = c;
	}
	/* Room for the cache itself, none for its hash table. */
	assert_true(nc > 0);
	assert_int_equal(cache_destroy(cs[--nc]), 0);
	assert_ptr_equal(cache_create("off", 4096, 4096, 0, NULL), ERR_PTR(-ENOMEM));
	while (nc)
		assert_int_equal(cache_destroy(cs[--nc]), 0);
	while (np)
		page_free(pages[--np], 0);
	assert_pages_back();
}

/* ------------------------------------------------------------- destroy */

static void test_destroy_busy(void **state)
{
	(void)state;
	struct cache *c = create("leaky", 128, 0, 0, NULL);
	struct cache_stats before, after;
	void *objs[5];

	for (unsigned int i = 0; i < 5; i++)
		objs[i] = cache_alloc(c);
	cache_free(c, objs[3]);
	cache_free(c, objs[4]);
	before = stats(c);
	assert_int_equal(cache_destroy(c), -EBUSY);
	assert_true(host_log_contains("cache 'leaky': 3 objects still in use"));
	after = stats(c);
	assert_memory_equal(&before, &after, sizeof(before));
	/* Still fully usable. */
	void *x = cache_alloc(c);

	assert_non_null(x);
	cache_free(c, x);
	for (unsigned int i = 0; i < 3; i++)
		cache_free(c, objs[i]);
	assert_int_equal(cache_destroy(c), 0);
	assert_pages_back();
}

/* ------------------------------------------------------------- stats */

static void test_stats(void **state)
{
	(void)state;
	struct cache *c = create("st", 64, 0, 0, NULL);
	struct cache_stats st;
	void *objs[300];

	for (unsigned int i = 0; i < 300; i++)
		objs[i] = cache_alloc(c);
	st = stats(c);
	assert_string_equal(st.name, "st");
	assert_int_equal(st.in_use, 300);
	assert_int_equal(st.allocs, 300);
	assert_int_equal(st.frees, 0);
	assert_int_equal(st.pages, st.slabs << st.slab_order);
	assert_true(st.slabs * st.objs_per_slab >= 300 + st.cached);
	for (unsigned int i = 0; i < 200; i++)
		cache_free(c, objs[i]);
	st = stats(c);
	assert_int_equal(st.in_use, 100);
	assert_int_equal(st.frees, 200);
	assert_true(st.cached > 0);     /* parked in this CPU's magazine: free */
	for (unsigned int i = 200; i < 300; i++)
		cache_free(c, objs[i]);
	st = stats(c);
	assert_int_equal(st.in_use, 0);
	assert_true(st.cached > 0);
	cache_shrink(c);
	st = stats(c);
	assert_int_equal(st.cached, 0);
	assert_int_equal(st.slabs, 0);
	assert_int_equal(st.pages, 0);
	assert_int_equal(cache_destroy(c), 0);
	assert_pages_back();
}

/* Without magazines the slab lists are exact: at most one empty slab stays. */
static void test_hysteresis(void **state)
{
	(void)state;
	struct cache *c = create("hyst", 256, 0, CACHE_NOMAG, NULL);
	unsigned int per = stats(c).objs_per_slab, n = 3 * per;
	void **objs = calloc(n, sizeof(*objs));

	for (unsigned int i = 0; i < n; i++)
		objs[i] = cache_alloc(c);
	assert_int_equal(stats(c).slabs, 3);
	/* Empty one slab at a time, in allocation order. */
	for (unsigned int i = 0; i < per; i++)
		cache_free(c, objs[i]);
	assert_int_equal(stats(c).slabs, 3);
	for (unsigned int i = per; i < 2 * per; i++)
		cache_free(c, objs[i]);
	assert_int_equal(stats(c).slabs, 2);
	/* A new allocation reuses the kept slab instead of a new one. */
	void *x = cache_alloc(c);

	assert_int_equal(stats(c).slabs, 2);
	cache_free(c, x);
	for (unsigned int i = 2 * per; i < n; i++)
		cache_free(c, objs[i]);
	assert_int_equal(stats(c).slabs, 1);
	assert_int_equal(stats(c).cached, 0);
	cache_shrink(c);
	assert_int_equal(stats(c).slabs, 0);
	assert_int_equal(cache_destroy(c), 0);
	free(objs);
	assert_pages_back();
}

struct seen {
	unsigned int n;
	bool user, internal;
};

static void collect(const struct cache_stats *st, void *arg)
{
	struct seen *s = arg;

	s->n++;
	if (!strcmp(st->name, "listed") && st->in_use == 2)
		s->user = true;
	if (!strcmp(st->name, "slab-cache") && st->in_use >= 2)
		s->internal = true;
}

static void test_for_each(void **state)
{
	(void)state;
	struct cache *a = create("listed", 32, 0, 0, NULL);
	struct cache *b = create("other", 32, 0, 0, NULL);
	void *x = cache_alloc(a), *y = cache_alloc(a);
	struct seen s = { 0 };

	cache_for_each(collect, &s);
	assert_int_equal(s.n, 5);       /* two + three internal */
	assert_true(s.user);
	assert_true(s.internal);
	cache_free(a, x);
	cache_free(a, y);
	assert_int_equal(cache_destroy(a), 0);
	assert_int_equal(cache_destroy(b), 0);
	s = (struct seen){ 0 };
	cache_for_each(collect, &s);
	assert_int_equal(s.n, 3);
	assert_pages_back();
}

/* ------------------------------------------------------------- misuse */

static void test_debug_double_free(void **state)
{
	(void)state;
	struct cache *c = create("dbg", 40, 0, CACHE_DEBUG, NULL);
	void *x = cache_alloc(c), *y = cache_alloc(c);

	cache_free(c, x);
	expect_panic(cache_free(c, x), "cache 'dbg': double free of", x);
	/* Nothing changed: the cache still works. */
	assert_int_equal(stats(c).in_use, 1);
	cache_free(c, y);
	assert_int_equal(cache_destroy(c), 0);
	assert_pages_back();
}

static void test_debug_foreign(void **state)
{
	(void)state;
	struct cache *c = create("dbg", 40, 0, CACHE_DEBUG, NULL);
	struct cache *o = create("other", 40, 0, CACHE_DEBUG, NULL);
	struct cache *p4k = create("page", 4096, 4096, CACHE_DEBUG, NULL);
	char *x = cache_alloc(c), *y = cache_alloc(o), *z = cache_alloc(p4k);
	void *page = page_alloc(0), *heap = malloc(64);
	int local;

	expect_panic(cache_free(c, heap), "cache 'dbg': ", heap);
	assert_non_null(strstr(host_panic_msg, "does not belong to this cache"));
	expect_panic(cache_free(c, &local), "does not belong to this cache", &local);
	expect_panic(cache_free(c, page), "does not belong to this cache", page);
	expect_panic(cache_free(c, y), "cache 'dbg': ", y);
	expect_panic(cache_free(c, x + 1), "does not belong to this cache", x + 1);
	expect_panic(cache_free(c, x + stats(c).stride * 1000), "does not belong", x + stats(c).stride * 1000);
	expect_panic(cache_free(p4k, page), "cache 'page': ", page);
	expect_panic(cache_free(p4k, x), "does not belong to this cache", x);
	expect_panic(cache_free(p4k, z + 4096), "does not belong to this cache", z + 4096);
	cache_free(c, x);
	cache_free(o, y);
	cache_free(p4k, z);
	page_free(page, 0);
	free(heap);
	assert_int_equal(cache_destroy(c), 0);
	assert_int_equal(cache_destroy(o), 0);
	assert_int_equal(cache_destroy(p4k), 0);
	assert_pages_back();
}

static void check_redzone(size_t align)
{
	struct cache *c = create("rz", 100, align, CACHE_DEBUG, NULL);
	char *x = cache_alloc(c), *y = cache_alloc(c);

	/* One byte past the end. */
	x[100] = 0;
	expect_panic(cache_free(c, x), "cache 'rz': red zone of", x);
	x[100] = (char)0xbb;
	cache_free(c, x);
	/* The last byte of the slot. */
	y[stats(c).stride - 1] ^= 1;
	expect_panic(cache_free(c, y), "red zone of", y);
	y[stats(c).stride - 1] ^= 1;
	cache_free(c, y);
	assert_int_equal(cache_destroy(c), 0);
}

static void test_debug_redzone(void **state)
{
	(void)state;
	check_redzone(0);
	check_redzone(64);
	check_redzone(4096);
	/* Underrun of a slab's first object hits the zone after the header. */
	struct cache *c = create("rz", 100, 0, CACHE_DEBUG, NULL);
	char *first = cache_alloc(c);

	first[-1] = 1;
	expect_panic(cache_free(c, first), "cache 'rz': red zone of", first);
	first[-1] = (char)0xbb;
	cache_free(c, first);
	assert_int_equal(cache_destroy(c), 0);
	assert_pages_back();
}

static void test_debug_use_after_free(void **state)
{
	(void)state;
	struct cache *c = create("uaf", 64, 0, CACHE_DEBUG, NULL);
	unsigned char *x = cache_alloc(c), *y = cache_alloc(c);

	/* Allocated debug objects carry the poison, not leftovers. */
	assert_int_equal(x[0], 0x6b);
	cache_free(c, x);
	for (unsigned int i = 0; i < 64; i++)
		assert_int_equal(x[i], 0x6b);
	x[10] = 0;
	/* Lowest free slot first: the next allocation is x again. */
	expect_panic(cache_alloc(c), "cache 'uaf': ", x);
	assert_non_null(strstr(host_panic_msg, "modified after it was freed"));
	assert_int_equal(stats(c).in_use, 2);
	cache_free(c, y);
	cache_free(c, x);   /* taken by the failed allocation: give it back */
	assert_int_equal(cache_destroy(c), 0);
	assert_pages_back();
}

/* Without CACHE_DEBUG: foreign pointers are caught on free, double frees
 * when the magazine goes back to the slabs. */
static void test_plain_misuse(void **state)
{
	(void)state;
	struct cache *c = create("plain", 64, 0, 0, NULL);
	struct cache *o = create("other", 64, 0, 0, NULL);
	struct cache *p1 = create("vmcs", 4096, 4096, 0, NULL);
	struct cache *p2 = create("vmcb", 4096, 4096, 0, NULL);
	char *x = cache_alloc(c), *y = cache_alloc(o), *v1 = cache_alloc(p1), *v2 = cache_alloc(p2);
	void *page = page_alloc(0);
	int local;

	expect_panic(cache_free(c, y), "cache 'plain': ", y);
	assert_non_null(strstr(host_panic_msg, "does not belong to this cache"));
	expect_panic(cache_free(c, &local), "does not belong to this cache", &local);
	expect_panic(cache_free(c, page), "does not belong to this cache", page);
	expect_panic(cache_free(p1, page), "cache 'vmcs': ", page);
	expect_panic(cache_free(p1, x), "cache 'vmcs': ", x);
	/* Same order and tag: caught when the magazine is flushed. */
	cache_free(p1, v2);
	expect_panic(cache_shrink(p1), "cache 'vmcs': ", v2);
	assert_non_null(strstr(host_panic_msg, "does not belong to this cache"));

	cache_free(c, x);
	cache_free(c, x);
	expect_panic(cache_shrink(c), "cache 'plain': double free of", x);
	/* The panic left the magazines half flushed: start over. */
	(void)v1;
	page_alloc_reset();
	slab_reset();
}

/* ------------------------------------------------------------- off-slab hash */

static void test_offslab_many_slabs(void **state)
{
	(void)state;
	struct cache *c = create("vmcs", 4096, 4096, 0, NULL);
	size_t n = 9000;
	void **objs = calloc(n, sizeof(*objs));

	assert_true(stats(c).offslab);
	for (size_t i = 0; i < n; i++) {
		objs[i] = cache_alloc(c);
		assert_non_null(objs[i]);
		*(size_t *)objs[i] = i;
	}
	assert_true(stats(c).slabs > 1024);     /* past the first hash table */
	/* Free in a scattered order so every lookup goes through the hash. */
	for (size_t k = 0; k < 7; k++)
		for (size_t i = k; i < n; i += 7) {
			assert_int_equal(*(size_t *)objs[i], i);
			cache_free(c, objs[i]);
		}
	cache_shrink(c);
	assert_int_equal(stats(c).slabs, 0);
	assert_int_equal(cache_destroy(c), 0);
	free(objs);
	assert_pages_back();
}

/* ------------------------------------------------------------- threads */

#define NTHREADS    4
#define THREAD_OPS  100000
#define HELD_MAX    128
#define POOL_MAX    256

static _Atomic unsigned char *owner;    /* per 64 bytes of RAM: who holds it */
static struct cache *tc[2];
static void *pool[POOL_MAX];
static unsigned int pool_n;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

struct tobj {
	uint32_t cpu, cache;
	uint64_t serial;
};

static const char *claim(void *obj, unsigned int cpu, unsigned int which, uint64_t serial)
{
	size_t slot = (size_t)((char *)obj - ram) / 64;
	struct tobj *t = obj;

	if ((char *)obj < ram || (char *)obj >= ram + ram_size)
		return "object outside RAM";
	if (atomic_exchange(&owner[slot], (unsigned char)(cpu + 1)) != 0)
		return "object handed out twice";
	*t = (struct tobj){ cpu, which, serial };
	return NULL;
}

static const char *release(void *obj, unsigned int which)
{
	struct tobj *t = obj;
	size_t slot = (size_t)((char *)obj - ram) / 64;

	if (t->cache != which)
		return "object corrupted";
	if (atomic_exchange(&owner[slot], 0) != t->cpu + 1)
		return "owner map disagrees";
	cache_free(tc[which], obj);
	return NULL;
}

static void *slab_thread(void *arg)
{
	unsigned int cpu = (unsigned int)(uintptr_t)arg, seed = cpu * 2654435761U + 1;
	struct { void *obj; unsigned int which; } held[HELD_MAX];
	unsigned int n = 0;
	const char *err;

	host_cpu_id = cpu;
	for (uint64_t i = 0; i < THREAD_OPS; i++) {
		seed = seed * 1103515245 + 12345;
		unsigned int r = seed >> 16;

		if (n < HELD_MAX && (n == 0 || r % 2)) {
			unsigned int which = (r >> 3) % 8 == 0;   /* 1 in 8: a page object */
			void *obj = cache_alloc(tc[which]);

			if (!obj)
				return "allocation failed";
			if ((err = claim(obj, cpu, which, i)))
				return (void *)err;
			held[n].obj = obj;
			held[n++].which = which;
		} else if (r % 5 == 0) {
			/* Hand one to another CPU, or free one another CPU handed over. */
			unsigned int k = (r >> 4) % n;
			void *other = NULL;

			pthread_mutex_lock(&pool_lock);
			if (pool_n < POOL_MAX && (r >> 9) % 2) {
				pool[pool_n++] = held[k].obj;
				held[k] = held[--n];
			} else if (pool_n) {
				other = pool[--pool_n];
			}
			pthread_mutex_unlock(&pool_lock);
			if (other && (err = release(other, ((struct tobj *)other)->cache)))
				return (void *)err;
		} else {
			unsigned int k = (r >> 4) % n;

			if ((err = release(held[k].obj, held[k].which)))
				return (void *)err;
			held[k] = held[--n];
		}
	}
	while (n) {
		n--;
		if ((err = release(held[n].obj, held[n].which)))
			return (void *)err;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t t[NTHREADS];
	struct cache_stats st[2];

	owner = calloc(ram_size / 64, 1);
	tc[0] = create("t64", 64, 0, 0, NULL);
	tc[1] = create("t4k", 4096, 4096, 0, NULL);
	pool_n = 0;
	for (unsigned int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, slab_thread,
						(void *)(uintptr_t)(i + 1)), 0);
	for (unsigned int i = 0; i < NTHREADS; i++) {
		void *ret;

		assert_int_equal(pthread_join(t[i], &ret), 0);
		if (ret)
			fail_msg("thread %u: %s", i, (const char *)ret);
	}
	while (pool_n) {
		void *obj = pool[--pool_n];

		assert_null(release(obj, ((struct tobj *)obj)->cache));
	}
	for (unsigned int k = 0; k < 2; k++) {
		st[k] = stats(tc[k]);
		assert_int_equal(st[k].in_use, 0);
		assert_int_equal(st[k].allocs, st[k].frees);
	}
	assert_true(st[0].allocs + st[1].allocs > NTHREADS * THREAD_OPS / 3);
	for (size_t i = 0; i < ram_size / 64; i++)
		assert_int_equal(owner[i], 0);
	assert_int_equal(cache_destroy(tc[0]), 0);
	assert_int_equal(cache_destroy(tc[1]), 0);
	free((void *)owner);
	assert_pages_back();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_invalid_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alignment_grid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alignment_grid_debug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alignment_grid_onslab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_without_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hysteresis, setup, teardown),
		cmocka_unit_test_setup_teardown(test_for_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug_double_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug_redzone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug_use_after_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_misuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offslab_many_slabs, setup_big, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
