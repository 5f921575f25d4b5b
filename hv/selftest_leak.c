/*
 * The memory check must be able to fail: a page swapped for another (same
 * count, other pages) and an object kept in one cache while another is
 * freed elsewhere (same total) are both reported, by page signature and by
 * cache name.
 */
#include "hv/errno.h"
#include "hv/kmalloc.h"
#include "hv/leakcheck.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"
#include "hv/selftest.h"
#include "hv/slab.h"

SELFTEST(leakcheck_detects)
{
	struct mem_snapshot before;
	void *kept, *a, *b;
	struct cache *c;
	int r1, r2, r3;

	/* Same number of free pages, other pages free. */
	kept = page_alloc(0);
	CHECK(kept);
	mem_snapshot(&before);
	a = page_alloc(0);
	page_free(kept, 0);
	r1 = mem_compare(&before, "a page swapped for another (must differ)");
	page_free(a, 0);

	/* The same total of objects, moved from one cache to another. */
	c = cache_create("selftest-leak", 64, 0, 0, NULL);
	CHECK(!IS_ERR(c));
	a = cache_alloc(c);
	CHECK(a);
	mem_snapshot(&before);
	b = kmalloc(64);
	cache_free(c, a);
	r2 = mem_compare(&before, "an object moved between caches (must differ)");
	kfree(b);
	CHECK(cache_destroy(c) == 0);

	/* And nothing changed: equal. */
	mem_snapshot(&before);
	r3 = mem_compare(&before, "nothing changed (must be equal)");
	pr_info("leakcheck: swapped page %s, moved object %s, unchanged %s\n", errno_name(r1),
		errno_name(r2), errno_name(r3));
	CHECK(r1 == -EIO && r2 == -EIO && r3 == 0);
	return 0;
}
