/* Usable RAM computation: merging, reservations, alignment, bad entries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/errno.h"
#include "hv/memmap.h"
#include "host_stubs.h"

#define AV MB2_MMAP_AVAILABLE
#define RS MB2_MMAP_RESERVED

static struct mem_range out[64];

static int run(const struct mb2_mmap_entry *e, size_t n,
	       const struct mem_range *r, size_t nr)
{
	host_log_clear();
	memset(out, 0xCC, sizeof(out));
	return memmap_usable(e, n, r, nr, out, 64);
}

static void expect(size_t i, uint64_t base, uint64_t len)
{
	if (out[i].base != base || out[i].len != len)
		fail_msg("range %zu: got 0x%llx+0x%llx, want 0x%llx+0x%llx", i,
			 (unsigned long long)out[i].base,
			 (unsigned long long)out[i].len,
			 (unsigned long long)base, (unsigned long long)len);
}

static void test_single_aligned(void **state)
{
	struct mb2_mmap_entry e[] = { { 0x100000, 0x100000, AV, 0 } };

	(void)state;
	assert_int_equal(run(e, 1, NULL, 0), 1);
	expect(0, 0x100000, 0x100000);
}

static void test_unaligned_edges_shrink(void **state)
{
	struct mb2_mmap_entry e[] = {
		{ 0x1234, 0x5000, AV, 0 },              /* -> 0x2000..0x6000 */
		{ 0x10000, 0xfff, AV, 0 },              /* less than a page */
		{ 0x20001, 0x1ffe, AV, 0 },             /* holds no full page */
	};

	(void)state;
	assert_int_equal(run(e, 3, NULL, 0), 1);
	expect(0, 0x2000, 0x4000);
}

static void test_merge_overlap_and_adjacent(void **state)
{
	/* Unsorted, overlapping, touching at unaligned joints. */
	struct mb2_mmap_entry e[] = {
		{ 0x300800, 0x100000, AV, 0 },
		{ 0x100000, 0x100800, AV, 0 },          /* ends 0x200800 */
		{ 0x200800, 0x100000, AV, 0 },          /* touches, ends 0x300800 */
		{ 0x150000, 0x10000, AV, 0 },           /* inside */
		{ 0x500000, 0x1000, AV, 0 },            /* separate */
	};

	(void)state;
	assert_int_equal(run(e, 5, NULL, 0), 2);
	expect(0, 0x100000, 0x300000);
	expect(1, 0x500000, 0x1000);
}

static void test_other_types_win(void **state)
{
	struct mb2_mmap_entry e[] = {
		{ 0x0, 0x1000000, AV, 0 },
		{ 0x200800, 0x100, RS, 0 },             /* kills page 0x200000 */
		{ 0x400000, 0x1000, MB2_MMAP_ACPI_RECLAIM, 0 },
		{ 0x500000, 0x1000, MB2_MMAP_ACPI_NVS, 0 },
		{ 0x600000, 0x1000, MB2_MMAP_BADRAM, 0 },
		{ 0x700000, 0x1000, 77, 0 },            /* unknown type */
		{ 0xfff000, 0x2000, RS, 0 },            /* overlaps the end */
	};

	(void)state;
	assert_int_equal(run(e, 7, NULL, 0), 6);
	expect(0, 0x0, 0x200000);
	expect(1, 0x201000, 0x1ff000);
	expect(2, 0x401000, 0xff000);
	expect(3, 0x501000, 0xff000);
	expect(4, 0x601000, 0xff000);
	expect(5, 0x701000, 0x8fe000);
}

static void test_reserved_splits(void **state)
{
	struct mb2_mmap_entry e[] = { { 0x100000, 0x7f00000, AV, 0 } };
	struct mem_range r[] = {
		{ 0x400000, 0x123456 },                 /* image, unaligned end */
		{ 0x2000000, 0x0 },                     /* empty: ignored */
		{ 0x3000100, 0xe00 },                   /* inside one page */
	};

	(void)state;
	assert_int_equal(run(e, 1, r, 3), 3);
	expect(0, 0x100000, 0x300000);
	expect(1, 0x524000, 0x3000000 - 0x524000);
	expect(2, 0x3001000, 0x8000000 - 0x3001000);
	assert_int_equal(memmap_total(out, 3), 0x7f00000 - 0x124000 - 0x1000);
}

/* Overlapping and chained reservations, and reservations covering an edge. */
static void test_chained_reserved(void **state)
{
	struct mb2_mmap_entry e[] = { { 0x0, 0x100000, AV, 0 } };
	struct mem_range r[] = {
		{ 0x0, 0x1000 },
		{ 0x20000, 0x10000 },
		{ 0x28000, 0x10000 },                   /* overlaps the previous */
		{ 0x38000, 0x100 },                     /* touches the previous */
		{ 0xff000, 0x5000 },                    /* beyond the end */
	};

	(void)state;
	assert_int_equal(run(e, 1, r, 5), 2);
	expect(0, 0x1000, 0x1f000);
	expect(1, 0x39000, 0xff000 - 0x39000);
}

static void test_typical_pc(void **state)
{
	struct mb2_mmap_entry e[] = {
		{ 0x0, 0x9fc00, AV, 0 },
		{ 0x9fc00, 0x400, RS, 0 },
		{ 0xf0000, 0x10000, RS, 0 },
		{ 0x100000, 0x7ee0000, AV, 0 },
		{ 0x7fe0000, 0x20000, RS, 0 },
		{ 0xfffc0000, 0x40000, RS, 0 },
		{ 0x100000000ull, 0x80000000ull, AV, 0 },
	};
	struct mem_range r[] = {
		{ 0x0, 0x100000 },                      /* first MiB */
		{ 0x100000, 0x80123 },                  /* image */
		{ 0x300000, 0x2000 },                   /* module */
		{ 0x9000, 0x400 },                      /* boot info */
	};

	(void)state;
	assert_int_equal(run(e, 7, r, 4), 3);
	expect(0, 0x181000, 0x300000 - 0x181000);
	expect(1, 0x302000, 0x7fe0000 - 0x302000);
	expect(2, 0x100000000ull, 0x80000000ull);
}

static void test_zero_and_wrapping_entries(void **state)
{
	struct mb2_mmap_entry e[] = {
		{ 0x100000, 0x0, AV, 0 },
		{ 0xFFFFFFFFFFFFF000ull, 0x2000, AV, 0 },       /* wraps */
		{ 0x200000, 0x100000, AV, 0 },
		{ 0x10000000, UINT64_MAX, AV, 0 },              /* wraps */
	};

	(void)state;
	assert_int_equal(run(e, 4, NULL, 0), 1);
	expect(0, 0x200000, 0x100000);
	assert_true(host_log_contains("entry 0 at 0x100000 has zero length, ignored"));
	assert_true(host_log_contains("entry 1 0xfffffffffffff000+0x2000 wraps, ignored"));
	assert_true(host_log_contains("entry 3 0x10000000+0xffffffffffffffff wraps, ignored"));
}

/* A wrapping non-available entry or reservation removes everything above it. */
static void test_wrapping_blockers_clamp(void **state)
{
	struct mb2_mmap_entry e[] = {
		{ 0x100000, 0x1000000, AV, 0 },
		{ 0x800000, UINT64_MAX, RS, 0 },
	};
	struct mem_range r[] = { { 0x400000, UINT64_MAX } };

	(void)state;
	assert_int_equal(run(e, 2, NULL, 0), 1);
	expect(0, 0x100000, 0x700000);
	assert_true(host_log_contains("wraps, clamped"));
	assert_int_equal(run(e, 1, r, 1), 1);
	expect(0, 0x100000, 0x300000);
	assert_true(host_log_contains("reserved range 0x400000+0xffffffffffffffff wraps"));
}

static void test_top_of_address_space(void **state)
{
	struct mb2_mmap_entry e[] = {
		/* Ends at UINT64_MAX: only two whole pages fit. */
		{ 0xFFFFFFFFFFFFD000ull, 0x2fff, AV, 0 },
	};

	(void)state;
	assert_int_equal(run(e, 1, NULL, 0), 1);
	expect(0, 0xFFFFFFFFFFFFD000ull, 0x2000);
	e[0].base = 0xFFFFFFFFFFFFF001ull;
	e[0].len = 0xffe;
	assert_int_equal(run(e, 1, NULL, 0), 0);
}

static void test_nothing_usable(void **state)
{
	struct mb2_mmap_entry e[] = {
		{ 0x0, 0x100000, AV, 0 },
		{ 0x0, 0x100000, RS, 0 },
	};

	(void)state;
	assert_int_equal(run(e, 2, NULL, 0), 0);
	assert_int_equal(run(NULL, 0, NULL, 0), 0);
	assert_int_equal(memmap_usable(e, 1, NULL, 0, NULL, 0), -ENOSPC);
}

static void test_out_full(void **state)
{
	struct mb2_mmap_entry e[10];
	struct mem_range small[3];
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		e[i] = (struct mb2_mmap_entry){ (9 - i) * 0x10000ull, 0x1000, AV, 0 };
	host_log_clear();
	assert_int_equal(memmap_usable(e, 10, NULL, 0, small, 3), -ENOSPC);
	for (i = 0; i < 3; i++) {
		assert_int_equal(small[i].base, i * 0x10000ull);
		assert_int_equal(small[i].len, 0x1000);
	}
	assert_int_equal(memmap_usable(e, 10, NULL, 0, out, 10), 10);
}

static void test_bad_args(void **state)
{
	struct mb2_mmap_entry e[] = { { 0x0, 0x1000, AV, 0 } };
	struct mem_range r[] = { { 0, 0 } };

	(void)state;
	assert_int_equal(memmap_usable(NULL, 1, NULL, 0, out, 4), -EINVAL);
	assert_int_equal(memmap_usable(e, 1, NULL, 1, out, 4), -EINVAL);
	assert_int_equal(memmap_usable(e, 1, r, 1, NULL, 4), -EINVAL);
	assert_int_equal(memmap_total(NULL, 3), 0);
}

/*
 * Against a page-by-page model: a page is usable when every byte of it is in
 * some available entry and no byte is in any other entry or reservation.
 */
#define MODEL_PAGES 48
#define MODEL_BYTES (MODEL_PAGES * 4096)

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(uint64_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state % n;
}

static void test_random_against_model(void **state)
{
	static uint8_t avail[MODEL_BYTES], blocked[MODEL_BYTES];
	struct mb2_mmap_entry e[12];
	struct mem_range r[4], want[MODEL_PAGES];
	int iter;

	(void)state;
	for (iter = 0; iter < 3000; iter++) {
		size_t n = rnd(13), nr = rnd(5), nw = 0, i;
		uint64_t b, p;
		int got;

		memset(avail, 0, sizeof(avail));
		memset(blocked, 0, sizeof(blocked));
		for (i = 0; i < n; i++) {
			uint64_t base = rnd(MODEL_BYTES), len = rnd(MODEL_BYTES / 3);

			if (len > MODEL_BYTES - base)
				len = MODEL_BYTES - base;
			e[i] = (struct mb2_mmap_entry){
				base, len, rnd(3) ? AV : (uint32_t)rnd(6), 0 };
			for (b = base; b < base + len; b++) {
				if (e[i].type == AV)
					avail[b] = 1;
				else
					blocked[b] = 1;
			}
		}
		for (i = 0; i < nr; i++) {
			uint64_t base = rnd(MODEL_BYTES), len = rnd(MODEL_BYTES / 8);

			if (len > MODEL_BYTES - base)
				len = MODEL_BYTES - base;
			r[i] = (struct mem_range){ base, len };
			for (b = base; b < base + len; b++)
				blocked[b] = 1;
		}
		for (p = 0; p < MODEL_PAGES; p++) {
			bool ok = true;

			for (b = p * 4096; b < (p + 1) * 4096 && ok; b++)
				ok = avail[b] && !blocked[b];
			if (!ok)
				continue;
			if (nw && want[nw - 1].base + want[nw - 1].len == p * 4096)
				want[nw - 1].len += 4096;
			else
				want[nw++] = (struct mem_range){ p * 4096, 4096 };
		}
		got = run(e, n, r, nr);
		assert_int_equal(got, (int)nw);
		for (i = 0; i < nw; i++)
			expect(i, want[i].base, want[i].len);
	}
}

/* The AP start-up page: the highest free page below 1 MiB, out of page 0,
 * around what the loader put low (a module GRUB-UEFI placed at 0x2000). */
static void test_low_page(void **state)
{
	const struct mb2_mmap_entry pc[] = {
		{ 0, 0x9fc00, AV, 0 }, { 0x9fc00, 0x400, RS, 0 }, { 0xf0000, 0x10000, RS, 0 },
		{ 0x100000, 0x7f00000, AV, 0 },
	};
	const struct mem_range top_taken[] = { { 0x9e000, 0x1c00 } };
	const struct mem_range module_low[] = { { 0x2000, 0x9398 } };
	const struct mem_range r1[] = { { 0x1800, 0x1800 } };          /* [0x1800, 0x3000) */
	const struct mem_range page0[] = { { 0, 0x1000 } };
	const struct mem_range across[] = { { 0x90000, 0x200000 } };
	const struct mem_range high[] = { { 0x100000, 0x1000000 } };
	const struct mem_range wraps[] = { { 0x80000, ~0ULL - 0x1000 } };

	assert_int_equal(run(pc, 4, module_low, 1), 3);
	assert_int_equal(memmap_low_page(out, 3, 0x100000), 0x9e000);
	assert_int_equal(run(pc, 4, top_taken, 1), 2);
	assert_int_equal(memmap_low_page(out, 2, 0x100000), 0x9d000);
	assert_int_equal(memmap_low_page(r1, 1, 0x100000), 0x2000);
	assert_int_equal(memmap_low_page(page0, 1, 0x100000), 0);
	assert_int_equal(memmap_low_page(across, 1, 0x100000), 0xff000);
	assert_int_equal(memmap_low_page(high, 1, 0x100000), 0);
	assert_int_equal(memmap_low_page(wraps, 1, 0x100000), 0xff000);
	assert_int_equal(memmap_low_page(NULL, 0, 0x100000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_aligned),
		cmocka_unit_test(test_unaligned_edges_shrink),
		cmocka_unit_test(test_merge_overlap_and_adjacent),
		cmocka_unit_test(test_other_types_win),
		cmocka_unit_test(test_reserved_splits),
		cmocka_unit_test(test_chained_reserved),
		cmocka_unit_test(test_typical_pc),
		cmocka_unit_test(test_zero_and_wrapping_entries),
		cmocka_unit_test(test_wrapping_blockers_clamp),
		cmocka_unit_test(test_top_of_address_space),
		cmocka_unit_test(test_nothing_usable),
		cmocka_unit_test(test_out_full),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_low_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
