/* Guest-physical page tables: mapping, large pages, splitting, unmapping,
 * and that every table is freed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "hv/errno.h"
#include "hv/gpt.h"
#include "hv/page_alloc.h"

#define RAM (16u << 20)

static void *ram;

static uint64_t leaf(uint64_t hpa, unsigned int level, unsigned int flags)
{
	return hpa | 1 | (flags & GPT_WRITE ? 2 : 0) | (level ? 0x80 : 0);
}

static uint64_t table(uint64_t hpa) { return hpa | 3; }
static bool present(uint64_t e) { return e & 1; }
static bool large(uint64_t e) { return e & 0x80; }

static const struct gpt_format fmt = { leaf, table, present, large, 2 };

static int setup(void **state)
{
	page_alloc_reset();
	if (!ram)
		ram = aligned_alloc(4u << 20, RAM);
	assert_int_equal(page_alloc_add_range((uint64_t)ram, RAM), 0);
	return 0;
}

static uint64_t free_pages(void)
{
	struct page_stats st;

	page_get_stats(&st);
	return st.free_pages;
}

static void map_translate_destroy(void **state)
{
	struct gpt g;
	uint64_t before = free_pages();

	assert_int_equal(gpt_init(&g, &fmt), 0);
	assert_int_equal(gpt_map(&g, 0x1000, 0x80000000, 0x3000, GPT_WRITE), 0);
	assert_int_equal(gpt_translate(&g, 0x1000), 0x80000000);
	assert_int_equal(gpt_translate(&g, 0x3fff), 0x80002fff);
	assert_int_equal(gpt_translate(&g, 0x4000), ~0ULL);
	assert_int_equal(gpt_translate(&g, 0), ~0ULL);
	gpt_destroy(&g);
	assert_int_equal(free_pages(), before);
}

static void large_pages_and_split(void **state)
{
	struct gpt g;
	uint64_t before = free_pages();

	assert_int_equal(gpt_init(&g, &fmt), 0);
	/* 1 GiB + 2 MiB, both sides aligned: large leaves, few tables. */
	assert_int_equal(gpt_map(&g, 1ULL << 30, 1ULL << 30, (1ULL << 30) + (2u << 20),
				 GPT_WRITE | GPT_EXEC), 0);
	assert_true(g.table_pages <= 4);
	assert_int_equal(gpt_translate(&g, (1ULL << 30) + 0x12345), (1ULL << 30) + 0x12345);
	assert_int_equal(gpt_translate(&g, (2ULL << 30) + 0x1000), (2ULL << 30) + 0x1000);
	/* Unmapping one page inside the 1 GiB leaf splits it, the rest stays. */
	assert_int_equal(gpt_unmap(&g, (1ULL << 30) + 0x5000, 0x1000), 0);
	assert_int_equal(gpt_translate(&g, (1ULL << 30) + 0x5000), ~0ULL);
	assert_int_equal(gpt_translate(&g, (1ULL << 30) + 0x6000), (1ULL << 30) + 0x6000);
	assert_int_equal(gpt_translate(&g, (1ULL << 30) + 0x4fff), (1ULL << 30) + 0x4fff);
	assert_int_equal(gpt_translate(&g, (1ULL << 30) + (512u << 20)), (1ULL << 30) + (512u << 20));
	/* Unmapping over a hole is fine. */
	assert_int_equal(gpt_unmap(&g, 0, 0x100000), 0);
	gpt_destroy(&g);
	assert_int_equal(free_pages(), before);
}

static void bad_arguments(void **state)
{
	struct gpt g;

	assert_int_equal(gpt_init(&g, &fmt), 0);
	assert_int_equal(gpt_map(&g, 0x1001, 0, 0x1000, 0), -EINVAL);
	assert_int_equal(gpt_map(&g, 0, 0x10, 0x1000, 0), -EINVAL);
	assert_int_equal(gpt_map(&g, 0, 0, 0x1001, 0), -EINVAL);
	assert_int_equal(gpt_map(&g, ~0xfffULL, 0, 0x2000, 0), -EINVAL);
	assert_int_equal(gpt_unmap(&g, 0x10, 0x1000), -EINVAL);
	gpt_destroy(&g);
}

static void exhaustion(void **state)
{
	struct gpt g;
	uint64_t before = free_pages();
	void *hog[4096];
	int n = 0;

	assert_int_equal(gpt_init(&g, &fmt), 0);
	while (n < 4096 && (hog[n] = page_alloc(0)))
		n++;
	/* No page left for a table: the error comes back, nothing breaks. */
	assert_int_equal(gpt_map(&g, 0x40000000, 0, 0x1000, 0), -ENOMEM);
	while (n)
		page_free(hog[--n], 0);
	gpt_destroy(&g);
	assert_int_equal(free_pages(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(map_translate_destroy, setup),
		cmocka_unit_test_setup(large_pages_and_split, setup),
		cmocka_unit_test_setup(bad_arguments, setup),
		cmocka_unit_test_setup(exhaustion, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
