/* test=slab_smp: every CPU allocates and frees from shared caches at once. */
#include "hv/errno.h"
#include "hv/kmalloc.h"
#include "hv/leakcheck.h"
#include "hv/printk.h"
#include "hv/selftest.h"
#include "hv/slab.h"
#include "hv/smp.h"
#include "hv/string.h"

#define ROUNDS  400
#define BATCH   48

static struct cache *shared_small, *shared_page;
static volatile int start_line;

static int hammer(void *arg)
{
	unsigned int cpu = smp_processor_id();
	void *objs[BATCH], *pages[4], *km[8];

	/* Everyone starts together, so the caches really are contended. */
	__atomic_fetch_add(&start_line, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&start_line, __ATOMIC_SEQ_CST) < (int)smp_num_online())
		__asm__ __volatile__("pause");
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < BATCH; i++) {
			objs[i] = cache_alloc(shared_small);
			if (!objs[i] || !IS_ALIGNED((uint64_t)objs[i], 64))
				return -EIO;
			memset(objs[i], (int)cpu, 200);
		}
		for (int i = 0; i < 4; i++) {
			pages[i] = cache_alloc(shared_page);
			if (!pages[i] || !IS_ALIGNED((uint64_t)pages[i], 4096))
				return -EIO;
			memset(pages[i], (int)cpu, 4096);
		}
		for (int i = 0; i < 8; i++)
			if (!(km[i] = kmalloc(16u << (i % 7))))
				return -ENOMEM;
		/* Nobody else wrote into what this CPU holds. */
		for (int i = 0; i < BATCH; i++)
			for (int b = 0; b < 200; b += 37)
				if (((uint8_t *)objs[i])[b] != (uint8_t)cpu)
					return -EIO;
		for (int i = 0; i < BATCH; i++)
			cache_free(shared_small, objs[(i * 7) % BATCH]);
		for (int i = 0; i < 4; i++)
			cache_free(shared_page, pages[i]);
		for (int i = 0; i < 8; i++)
			kfree(km[i]);
	}
	return 0;
}

SELFTEST(slab_smp)
{
	static int results[NR_CPUS];
	struct mem_snapshot before;
	struct cache_stats st;
	unsigned int cpu;

	mem_snapshot(&before);
	shared_small = cache_create("selftest-200", 200, 64, 0, NULL);
	shared_page = cache_create("selftest-page", 4096, 4096, 0, NULL);
	CHECK(!IS_ERR(shared_small) && !IS_ERR(shared_page));
	start_line = 0;
	CHECK(smp_call_function_all(hammer, NULL, results) == 0);
	for_each_cpu(cpu, &cpu_online_mask)
		CHECK(results[cpu] == 0);
	cache_get_stats(shared_small, &st);
	pr_info("slab: %u CPUs did %lu allocs and %lu frees of 200-byte objects\n",
		smp_num_online(), st.allocs, st.frees);
	CHECK(st.allocs == (uint64_t)smp_num_online() * ROUNDS * BATCH);
	/* Objects parked in other CPUs' magazines go back when they shrink. */
	mem_snapshot(&(struct mem_snapshot){ 0 });
	CHECK(cache_destroy(shared_small) == 0);
	CHECK(cache_destroy(shared_page) == 0);
	return mem_compare(&before, "after concurrent slab use");
}

/* The debug build of a cache catches a double free with a panic that names
 * the cache (the run must end in that panic). */
SELFTEST(slab_double_free)
{
	struct cache *c = cache_create("selftest-dbg", 96, 32, CACHE_DEBUG, NULL);
	void *obj;

	CHECK(!IS_ERR(c));
	obj = cache_alloc(c);
	CHECK(obj);
	cache_free(c, obj);
	cache_free(c, obj);
	pr_err("double free was not detected\n");
	return -EIO;
}
