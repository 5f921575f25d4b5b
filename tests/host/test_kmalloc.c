/* kmalloc: size classes, big blocks, kfree without a size, misuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/errno.h"
#include "hv/kmalloc.h"
#include "hv/page_alloc.h"
#include "hv/slab.h"
#include "host_stubs.h"

#define RAM_ALIGN  (4 * MiB)
#define RAM_SIZE   (32 * MiB)

static char *ram;
static uint64_t base_free;

static uint64_t free_pages(void)
{
	struct page_stats st;

	page_get_stats(&st);
	return st.free_pages;
}

static int setup(void **state)
{
	(void)state;
	ram = aligned_alloc(RAM_ALIGN, RAM_SIZE);
	assert_non_null(ram);
	page_alloc_reset();
	slab_reset();
	host_log_clear();
	assert_int_equal(page_alloc_add_range((uintptr_t)ram, RAM_SIZE), 0);
	assert_int_equal(kmalloc_init(), 0);
	/* Give this CPU its magazines, which stay, before the baseline. */
	for (size_t size = KMALLOC_MIN_SIZE; size <= KMALLOC_MAX_CLASS; size *= 2)
		kfree(kmalloc(size));
	slab_shrink();
	base_free = free_pages();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	page_alloc_reset();
	slab_reset();
	free(ram);
	return 0;
}

/* Everything kmalloc handed out is back once the caches drop empty slabs. */
static void assert_pages_back(void)
{
	slab_shrink();
	assert_int_equal(free_pages(), base_free);
}

static size_t class_of(size_t size)
{
	size_t c = KMALLOC_MIN_SIZE;

	while (c < size)
		c <<= 1;
	return c;
}

static void test_sizes(void **state)
{
	(void)state;
	static const size_t sizes[] = {
		0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 128, 200, 256, 300,
		511, 512, 513, 1000, 1024, 1025, 2000, 2047, 2048, 2049, 3000,
		4095, 4096, 4097, 8192, 10000, 65536, 100000, 1 << 20, 4 << 20,
	};
	void *p[ARRAY_SIZE(sizes)][3];

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t size = sizes[i];
		size_t align = size <= KMALLOC_MAX_CLASS ? class_of(size) : PAGE_SIZE;

		for (int k = 0; k < 3; k++) {
			unsigned char *b = k == 2 ? kzalloc(size) : kmalloc(size);

			p[i][k] = b;
			assert_non_null(b);
			if ((uintptr_t)b % align)
				fail_msg("kmalloc(%zu) = %p, not aligned to %zu", size, (void *)b, align);
			if (k == 2)
				for (size_t j = 0; j < size; j++)
					assert_int_equal(b[j], 0);
			memset(b, 0x11 * (k + 1), size);
			if (size > KMALLOC_MAX_CLASS) {
				unsigned int order, tag;

				assert_ptr_equal(page_lookup(b + size - 1, &order, &tag), b);
				assert_int_equal(tag, PAGE_TAG_KMALLOC);
				assert_true((PAGE_SIZE << order) >= size);
				assert_true(order == 0 || (PAGE_SIZE << order) / 2 < size);
			} else {
				assert_non_null(cache_of_obj(b));
			}
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		for (int k = 0; k < 3; k++) {
			if (sizes[i])
				assert_int_equal(((unsigned char *)p[i][k])[sizes[i] - 1], 0x11 * (k + 1));
			kfree(p[i][k]);
		}
	kfree(NULL);
	assert_pages_back();
	assert_null(kmalloc((4 << 20) + 1));
	assert_null(kmalloc(SIZE_MAX));
	assert_pages_back();
}

static void test_many_small(void **state)
{
	(void)state;
	enum { N = 8000 };
	void **p = calloc(N, sizeof(*p));

	for (size_t i = 0; i < N; i++) {
		size_t size = 1 + (i * 37) % 3000;

		p[i] = kmalloc(size);
		assert_non_null(p[i]);
		memset(p[i], (int)i, size);
	}
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(*(unsigned char *)p[i], (unsigned char)i);
		kfree(p[i]);
	}
	free(p);
	assert_pages_back();
}

static void test_kfree_misuse(void **state)
{
	(void)state;
	char *small = kmalloc(100), *big = kmalloc(3 * PAGE_SIZE);
	void *page = page_alloc(0), *heap = malloc(16);
	struct cache *c = cache_create("mine", 64, 0, CACHE_ONSLAB, NULL);
	void *obj = cache_alloc(c);
	const void *bad[] = { heap, page, big + PAGE_SIZE, big + 1, obj };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char addr[32];

		snprintf(addr, sizeof(addr), "%p", bad[i]);
		if (!setjmp(host_panic_jmp)) {
			host_panic_armed = true;
			kfree(bad[i]);
			fail_msg("kfree(%s) did not panic", addr);
		}
		assert_non_null(strstr(host_panic_msg, "not allocated by kmalloc"));
		assert_non_null(strstr(host_panic_msg, addr));
	}
	/* An interior pointer of a class object reaches the cache's checks. */
	if (!setjmp(host_panic_jmp)) {
		host_panic_armed = true;
		kfree(small + 1);
		slab_shrink();
		fail_msg("kfree(small + 1) did not panic");
	}
	assert_non_null(strstr(host_panic_msg, "kmalloc-128"));
	free(heap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kfree_misuse, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
