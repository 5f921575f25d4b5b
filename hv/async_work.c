/* The cache of asynchronous work items (hv/async_work.h). */
#include "hv/async_work.h"
#include "hv/errno.h"
#include "hv/slab.h"
#include "hv/virt_init.h"

struct cache *async_work_cache;

int async_work_init(void)
{
	struct cache *c = cache_create("async_work", sizeof(struct async_work), 0, 0, NULL);

	if (IS_ERR(c))
		return (int)PTR_ERR(c);
	async_work_cache = c;
	return 0;
}

int async_work_exit(void)
{
	int r = cache_destroy(async_work_cache);

	if (!r)
		async_work_cache = NULL;
	return r;
}

struct async_work *async_work_alloc(void)
{
	return async_work_cache ? cache_alloc(async_work_cache) : NULL;
}

void async_work_free(struct async_work *aw)
{
	cache_free(async_work_cache, aw);
}
