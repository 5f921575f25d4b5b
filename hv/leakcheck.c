/* Memory snapshots (hv/leakcheck.h). */
#include "hv/leakcheck.h"
#include "hv/errno.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"
#include "hv/slab.h"
#include "hv/smp.h"

struct mem_snapshot boot_baseline;

static int shrink(void *arg)
{
	slab_shrink();
	return 0;
}

static void count_cache(const struct cache_stats *st, void *arg)
{
	struct mem_snapshot *s = arg;

	s->slab_objects += st->in_use;
	s->caches++;
}

void mem_snapshot(struct mem_snapshot *s)
{
	struct page_stats ps;

	smp_call_function_all(shrink, NULL, NULL);
	page_get_stats(&ps);
	s->free_pages = ps.free_pages;
	s->slab_objects = 0;
	s->caches = 0;
	cache_for_each(count_cache, s);
}

int mem_compare(const struct mem_snapshot *before, const char *what)
{
	struct mem_snapshot now;

	mem_snapshot(&now);
	if (now.free_pages == before->free_pages && now.slab_objects == before->slab_objects &&
	    now.caches == before->caches) {
		pr_info("leakcheck: %s: %lu free pages, %lu slab objects, %lu caches, as before\n",
			what, now.free_pages, now.slab_objects, now.caches);
		return 0;
	}
	pr_err("leakcheck: %s: free pages %lu -> %lu, slab objects %lu -> %lu, caches %lu -> %lu\n",
	       what, before->free_pages, now.free_pages, before->slab_objects, now.slab_objects,
	       before->caches, now.caches);
	return ERR(-EIO);
}
