/* Buddy page allocator: splitting, merging, exhaustion, misuse, ranges. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "hv/errno.h"
#include "hv/page_alloc.h"
#include "host_stubs.h"

#define RAM_ALIGN  (4 * MiB)
#define RAM_SIZE   (16 * MiB)

static void *ram, *ram2;

static int setup(void **state)
{
	(void)state;
	ram = aligned_alloc(RAM_ALIGN, RAM_SIZE);
	ram2 = NULL;
	assert_non_null(ram);
	page_alloc_reset();
	host_log_clear();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	page_alloc_reset();
	free(ram);
	free(ram2);
	return 0;
}

static void add_ram(void)
{
	assert_int_equal(page_alloc_add_range((uintptr_t)ram, RAM_SIZE), 0);
}

static struct page_stats stats(void)
{
	struct page_stats st;

	page_get_stats(&st);
	return st;
}

static void assert_same_free(const struct page_stats *a, const struct page_stats *b)
{
	assert_int_equal(a->free_pages, b->free_pages);
	for (unsigned int o = 0; o <= PAGE_MAX_ORDER; o++)
		assert_int_equal(a->free_blocks[o], b->free_blocks[o]);
}

/* Expect fn(p, order) to panic with a message containing `what` and p. */
#define expect_panic(stmt, what, p) do {                                \
	char addr_[32];                                                  \
	snprintf(addr_, sizeof(addr_), "%p", (void *)(p));               \
	if (!setjmp(host_panic_jmp)) {                                   \
		host_panic_armed = true;                                 \
		stmt;                                                    \
		fail_msg("no panic from %s", #stmt);                     \
	}                                                                \
	assert_non_null(strstr(host_panic_msg, what));                   \
	assert_non_null(strstr(host_panic_msg, addr_));                  \
} while (0)

static void test_add_range_rules(void **state)
{
	(void)state;
	uintptr_t base = (uintptr_t)ram;
	struct page_stats st;

	assert_int_equal(page_alloc_add_range(base, 0), -EINVAL);
	/* One page: all metadata, nothing left to manage. */
	assert_int_equal(page_alloc_add_range(base, PAGE_SIZE), -EINVAL);
	/* Less than a page once trimmed. */
	assert_int_equal(page_alloc_add_range(base + 100, PAGE_SIZE), -EINVAL);
	assert_int_equal(page_alloc_add_range(UINT64_MAX - PAGE_SIZE, 2 * PAGE_SIZE), -EINVAL);

	/* Unaligned ends are trimmed: 2 whole pages inside -> 1 managed. */
	assert_int_equal(page_alloc_add_range(base + 1, 3 * PAGE_SIZE), 0);
	st = stats();
	assert_int_equal(st.total_pages, 1);
	assert_int_equal(st.free_pages, 1);
	assert_true(page_is_managed((char *)ram + 2 * PAGE_SIZE));
	assert_false(page_is_managed((char *)ram + PAGE_SIZE));  /* metadata */
	assert_false(page_is_managed(ram));

	/* Overlaps: inside, straddling, covering. */
	assert_int_equal(page_alloc_add_range(base + 2 * PAGE_SIZE, PAGE_SIZE * 4), -EINVAL);
	assert_int_equal(page_alloc_add_range(base, RAM_SIZE), -EINVAL);
	assert_int_equal(page_alloc_add_range(base + 3 * PAGE_SIZE, 2 * PAGE_SIZE), 0);

	/* The range table fills up. */
	page_alloc_reset();
	for (unsigned int i = 0; i < PAGE_MAX_RANGES; i++)
		assert_int_equal(page_alloc_add_range(base + i * 2 * PAGE_SIZE, 2 * PAGE_SIZE), 0);
	assert_int_equal(page_alloc_add_range(base + 200 * PAGE_SIZE, 2 * PAGE_SIZE), -ENOSPC);
	assert_int_equal(stats().total_pages, PAGE_MAX_RANGES);
}

static void test_initial_stats(void **state)
{
	(void)state;
	struct page_stats st;

	add_ram();
	st = stats();
	/* 4096 pages, one of them metadata. */
	assert_int_equal(st.total_pages, RAM_SIZE / PAGE_SIZE - 1);
	assert_int_equal(st.free_pages, st.total_pages);
	assert_int_equal(st.used_pages, 0);
	assert_int_equal(st.allocs + st.frees + st.failures, 0);
	/* The last three 4 MiB blocks are whole; the first lost a page. */
	assert_int_equal(st.free_blocks[PAGE_MAX_ORDER], 3);
	for (unsigned int o = 0; o < PAGE_MAX_ORDER; o++)
		assert_int_equal(st.free_blocks[o], 1);
}

/* free_sig names which blocks are free: back to the same pages gives the
 * same signature in any order of frees, other pages (same count) another. */
static void test_free_signature(void **state)
{
	struct page_stats st0, st1;
	void *a, *b, *c;

	add_ram();
	page_get_stats(&st0);
	a = page_alloc(0);
	b = page_alloc(3);
	c = page_alloc(0);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	page_get_stats(&st1);
	assert_true(st1.free_sig != st0.free_sig);
	page_free(b, 3);
	page_free(a, 0);
	page_free(c, 0);
	page_get_stats(&st1);
	assert_int_equal(st1.free_pages, st0.free_pages);
	assert_int_equal(st1.free_sig, st0.free_sig);
	/* Keep one page, then swap it for another: same count, other pages. */
	a = page_alloc(0);
	page_get_stats(&st0);
	b = page_alloc(0);
	page_free(a, 0);
	page_get_stats(&st1);
	assert_int_equal(st1.free_pages, st0.free_pages);
	assert_true(st1.free_sig != st0.free_sig);
	page_free(b, 0);
}

static void test_every_order(void **state)
{
	(void)state;
	struct page_stats before, st;

	add_ram();
	before = stats();
	for (unsigned int o = 0; o <= PAGE_MAX_ORDER; o++) {
		char *p = page_alloc(o);
		size_t bytes = PAGE_SIZE << o;
		unsigned int order, tag;

		assert_non_null(p);
		assert_true(((uintptr_t)p & (bytes - 1)) == 0);
		for (size_t off = 0; off < bytes; off += PAGE_SIZE) {
			assert_true(page_is_allocated(p + off));
			assert_ptr_equal(page_lookup(p + off + 123, &order, &tag), p);
			assert_int_equal(order, o);
			assert_int_equal(tag, PAGE_TAG_NONE);
		}
		assert_false(page_is_allocated(p + bytes) && page_lookup(p + bytes, NULL, NULL) == p);
		memset(p, 0xa5, bytes);
		st = stats();
		assert_int_equal(st.free_pages, before.free_pages - (1U << o));
		assert_int_equal(st.used_pages, 1U << o);
		page_free(p, o);
		assert_false(page_is_allocated(p));
		assert_true(page_is_managed(p));
		st = stats();
		assert_same_free(&st, &before);
	}
	st = stats();
	assert_int_equal(st.allocs, PAGE_MAX_ORDER + 1);
	assert_int_equal(st.frees, PAGE_MAX_ORDER + 1);
	assert_false(page_is_allocated(&st));
	assert_false(page_is_managed(&st));
	assert_null(page_alloc(PAGE_MAX_ORDER + 1));
	assert_null(page_lookup(&st, NULL, NULL));
}

static void test_tags_and_zalloc(void **state)
{
	(void)state;
	unsigned int order, tag;

	add_ram();
	for (unsigned int t = 0; t <= PAGE_TAG_MAX; t++) {
		char *p = page_alloc_tagged(2, t);

		assert_non_null(p);
		assert_ptr_equal(page_lookup(p + 3 * PAGE_SIZE + 5, &order, &tag), p);
		assert_int_equal(order, 2);
		assert_int_equal(tag, t);
		memset(p, 0xff, 4 * PAGE_SIZE);
		page_free(p, 2);
	}
	assert_null(page_alloc_tagged(0, PAGE_TAG_MAX + 1));

	unsigned char *z = page_zalloc(3);

	assert_non_null(z);
	for (size_t i = 0; i < 8 * PAGE_SIZE; i++)
		assert_int_equal(z[i], 0);
	page_free(z, 3);
	page_free(NULL, 0);
}

/* Split down to single pages, then free in an order that forces merges. */
static void test_split_and_merge(void **state)
{
	(void)state;
	struct page_stats before, st;
	static void *pages[RAM_SIZE / PAGE_SIZE];
	size_t n = 0;

	add_ram();
	before = stats();
	while ((pages[n] = page_alloc(0)) != NULL)
		n++;
	assert_int_equal(n, before.total_pages);
	st = stats();
	assert_int_equal(st.free_pages, 0);
	assert_int_equal(st.failures, 1);
	for (unsigned int o = 0; o <= PAGE_MAX_ORDER; o++) {
		assert_int_equal(st.free_blocks[o], 0);
		assert_null(page_alloc(o));
	}
	assert_int_equal(stats().failures, PAGE_MAX_ORDER + 2);

	/* Every page distinct and page aligned. */
	for (size_t i = 0; i < n; i++) {
		assert_true(((uintptr_t)pages[i] & (PAGE_SIZE - 1)) == 0);
		*(size_t *)pages[i] = i;
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(*(size_t *)pages[i], i);

	/* Odd ones first: nothing can merge until the even ones come back. */
	for (size_t i = 1; i < n; i += 2)
		page_free(pages[i], 0);
	st = stats();
	assert_int_equal(st.free_blocks[1], 0);
	for (size_t i = 0; i < n; i += 2)
		page_free(pages[i], 0);
	st = stats();
	assert_same_free(&st, &before);
	assert_int_equal(st.used_pages, 0);
}

/* Random mixed orders; each block filled with its own pattern. */
static void test_random_stress(void **state)
{
	(void)state;
	struct blk { unsigned char *p; unsigned int order; unsigned char fill; } blk[512];
	struct page_stats before, st;
	unsigned int live = 0, seed = 12345;
	uint64_t used = 0;

	add_ram();
	before = stats();
	for (unsigned int step = 0; step < 20000; step++) {
		seed = seed * 1103515245 + 12345;
		bool do_alloc = live == 0 || (live < ARRAY_SIZE(blk) && (seed >> 16) % 3 != 0);

		if (do_alloc) {
			unsigned int order = (seed >> 8) % 6;
			unsigned char *p = page_alloc(order);

			if (!p)
				continue;
			blk[live] = (struct blk){ p, order, (unsigned char)step };
			memset(p, blk[live].fill, PAGE_SIZE << order);
			used += 1U << order;
			live++;
		} else {
			unsigned int i = (seed >> 4) % live;
			size_t bytes = PAGE_SIZE << blk[i].order;

			for (size_t b = 0; b < bytes; b += 509)
				assert_int_equal(blk[i].p[b], blk[i].fill);
			page_free(blk[i].p, blk[i].order);
			used -= 1U << blk[i].order;
			blk[i] = blk[--live];
		}
		if (step % 1000 == 0)
			assert_int_equal(stats().used_pages, used);
	}
	while (live) {
		live--;
		page_free(blk[live].p, blk[live].order);
	}
	st = stats();
	assert_same_free(&st, &before);
	assert_int_equal(st.allocs, st.frees);
}

static void test_misuse_panics(void **state)
{
	(void)state;
	struct page_stats before, st;
	char *p, *q;
	int local;

	add_ram();
	p = page_alloc(2);
	q = page_alloc(0);
	assert_non_null(p);
	before = stats();

	expect_panic(page_free(p, 1), "allocated with order 2", p);
	expect_panic(page_free(p, 3), "allocated with order 2", p);
	expect_panic(page_free(p + PAGE_SIZE, 0), "not the start of a block", p + PAGE_SIZE);
	expect_panic(page_free(p + 8, 2), "not the start of a block", p + 8);
	expect_panic(page_free(&local, 0), "outside managed memory", &local);
	expect_panic(page_free(ram, 0), "outside managed memory", ram);   /* metadata */
	expect_panic(page_free(p, PAGE_MAX_ORDER + 1), "above the maximum", p);
	/* None of that changed anything. */
	st = stats();
	assert_same_free(&st, &before);
	assert_int_equal(st.frees, before.frees);

	page_free(p, 2);
	expect_panic(page_free(p, 2), "double free", p);
	/* Freed and merged into a bigger free block: still a double free. */
	page_free(q, 0);
	expect_panic(page_free(q, 0), "double free", q);
	/* A page that was never allocated. */
	expect_panic(page_free((char *)ram + RAM_SIZE - PAGE_SIZE, 0), "double free",
		     (char *)ram + RAM_SIZE - PAGE_SIZE);
	/* The allocator still works, with nothing lost. */
	p = page_alloc(PAGE_MAX_ORDER);
	assert_non_null(p);
	page_free(p, PAGE_MAX_ORDER);
	assert_int_equal(stats().used_pages, 0);
}

static void test_multiple_ranges(void **state)
{
	(void)state;
	struct page_stats first, st;
	static void *pages[2 * RAM_SIZE / PAGE_SIZE];
	size_t n = 0, in1 = 0, in2 = 0;

	ram2 = aligned_alloc(RAM_ALIGN, RAM_SIZE);
	assert_non_null(ram2);
	add_ram();
	first = stats();
	/* Use the first range, then add the second while blocks are out. */
	void *held = page_alloc(PAGE_MAX_ORDER);

	assert_non_null(held);
	/* Second range unaligned at both ends. */
	assert_int_equal(page_alloc_add_range((uintptr_t)ram2 + 5 * PAGE_SIZE + 7,
					      RAM_SIZE - 9 * PAGE_SIZE), 0);
	st = stats();
	assert_true(st.total_pages > first.total_pages + RAM_SIZE / PAGE_SIZE - 12);
	page_free(held, PAGE_MAX_ORDER);
	st = stats();
	uint64_t total = st.total_pages;
	struct page_stats before = st;

	while ((pages[n] = page_alloc(0)) != NULL) {
		uintptr_t a = (uintptr_t)pages[n];

		if (a >= (uintptr_t)ram && a < (uintptr_t)ram + RAM_SIZE)
			in1++;
		else if (a >= (uintptr_t)ram2 + 6 * PAGE_SIZE && a < (uintptr_t)ram2 + RAM_SIZE - 4 * PAGE_SIZE)
			in2++;
		else
			fail_msg("page %p outside both ranges", pages[n]);
		n++;
	}
	assert_int_equal(n, total);
	assert_int_equal(in1, first.total_pages);
	assert_int_equal(in2, total - first.total_pages);
	/* Natural alignment holds in the unaligned range too. */
	while (n)
		page_free(pages[--n], 0);
	for (unsigned int o = 0; o <= PAGE_MAX_ORDER; o++) {
		char *p = page_alloc(o);

		assert_non_null(p);
		assert_true(((uintptr_t)p & ((PAGE_SIZE << o) - 1)) == 0);
		page_free(p, o);
	}
	st = stats();
	assert_same_free(&st, &before);
}

struct thread_arg {
	unsigned int cpu;
	unsigned int ops;
	unsigned long failures;
};

static void *stress_thread(void *p)
{
	struct thread_arg *a = p;
	unsigned char *held[64];
	unsigned int orders[64], n = 0, seed = a->cpu * 7919 + 1;

	host_cpu_id = a->cpu;
	for (unsigned int i = 0; i < a->ops; i++) {
		seed = seed * 1103515245 + 12345;
		if (n < 64 && (n == 0 || (seed >> 16) & 1)) {
			unsigned int o = (seed >> 8) % 4;
			unsigned char *b = page_alloc(o);

			if (!b) {
				a->failures++;
				continue;
			}
			memset(b, (int)a->cpu, PAGE_SIZE << o);
			held[n] = b;
			orders[n++] = o;
		} else {
			unsigned int k = (seed >> 4) % n;

			for (size_t off = 0; off < PAGE_SIZE << orders[k]; off += 256)
				if (held[k][off] != a->cpu)
					return "overlap";
			page_free(held[k], orders[k]);
			held[k] = held[--n];
			orders[k] = orders[n];
		}
	}
	while (n--)
		page_free(held[n], orders[n]);
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct thread_arg args[4];
	pthread_t t[4];
	struct page_stats before, st;

	add_ram();
	before = stats();
	for (unsigned int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ .cpu = i + 1, .ops = 20000 };
		assert_int_equal(pthread_create(&t[i], NULL, stress_thread, &args[i]), 0);
	}
	for (unsigned int i = 0; i < 4; i++) {
		void *ret;

		assert_int_equal(pthread_join(t[i], &ret), 0);
		assert_null(ret);
	}
	st = stats();
	assert_same_free(&st, &before);
	assert_int_equal(st.allocs, st.frees);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_range_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_initial_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tags_and_zalloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_and_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_stress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misuse_panics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiple_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
