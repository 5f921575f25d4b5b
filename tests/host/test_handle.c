/* Handle tables: allocation, lookup, stale and foreign handles, exhaustion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "hv/errno.h"
#include "hv/handle.h"

static struct handle_slot slots_a[4], slots_b[4];
static struct handle_table ta, tb;
static int objs[8];

static int setup(void **state)
{
	memset(slots_a, 0, sizeof(slots_a));
	memset(slots_b, 0, sizeof(slots_b));
	ta = (struct handle_table)HANDLE_TABLE_INIT(1, slots_a);
	tb = (struct handle_table)HANDLE_TABLE_INIT(2, slots_b);
	return 0;
}

static void alloc_and_get(void **state)
{
	int64_t h1 = handle_alloc(&ta, &objs[0]), h2 = handle_alloc(&ta, &objs[1]);

	assert_true(h1 > 0 && h2 > 0 && h1 != h2);
	assert_ptr_equal(handle_get(&ta, (uint64_t)h1), &objs[0]);
	assert_ptr_equal(handle_get(&ta, (uint64_t)h2), &objs[1]);
	assert_int_equal(ta.used, 2);
}

static void stale_after_free(void **state)
{
	int64_t h = handle_alloc(&ta, &objs[0]), h2;

	assert_int_equal(handle_free(&ta, (uint64_t)h), 0);
	assert_null(handle_get(&ta, (uint64_t)h));
	assert_int_equal(handle_free(&ta, (uint64_t)h), -ENOENT);
	/* The slot is reused with a new generation: the old handle stays dead. */
	h2 = handle_alloc(&ta, &objs[1]);
	assert_true(h2 > 0 && h2 != h);
	assert_null(handle_get(&ta, (uint64_t)h));
	assert_ptr_equal(handle_get(&ta, (uint64_t)h2), &objs[1]);
}

static void foreign_and_made_up(void **state)
{
	int64_t ha = handle_alloc(&ta, &objs[0]), hb = handle_alloc(&tb, &objs[1]);

	assert_null(handle_get(&ta, (uint64_t)hb));     /* wrong type */
	assert_null(handle_get(&tb, (uint64_t)ha));
	assert_null(handle_get(&ta, 0));
	assert_null(handle_get(&ta, 12345));
	assert_null(handle_get(&ta, ~0ULL));
	assert_null(handle_get(&ta, (uint64_t)ha + 1));  /* slot out of range or empty */
	assert_null(handle_get(&ta, (uint64_t)ha & ~0xffff0000ULL)); /* generation 0 */
	assert_int_equal(handle_free(&tb, (uint64_t)ha), -ENOENT);
}

static void exhaustion(void **state)
{
	for (int i = 0; i < 4; i++)
		assert_true(handle_alloc(&ta, &objs[i]) > 0);
	assert_int_equal(handle_alloc(&ta, &objs[4]), -ENOSPC);
	assert_int_equal(ta.used, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(alloc_and_get, setup),
		cmocka_unit_test_setup(stale_after_free, setup),
		cmocka_unit_test_setup(foreign_and_made_up, setup),
		cmocka_unit_test_setup(exhaustion, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
