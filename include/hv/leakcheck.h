/* Memory snapshots, to prove a rollback or a teardown gave back everything. */
#ifndef HV_LEAKCHECK_H
#define HV_LEAKCHECK_H

#include "hv/types.h"

#define MEMSNAP_CACHES  40      /* caches compared one by one (more are counted) */

struct memsnap_cache {
	char name[24];                  /* truncated like this on both sides */
	uint64_t in_use, slabs;
};

struct mem_snapshot {
	uint64_t free_pages;
	uint64_t free_sig;              /* which pages are free (page_stats.free_sig) */
	uint64_t slab_objects;          /* objects in use (bookkeeping caches not counted) */
	uint64_t caches;
	unsigned int unshrunk;          /* CPUs that did not empty their magazines */
	struct memsnap_cache cache[MEMSNAP_CACHES];
};

/*
 * Empty every CPU's slab magazines first (one cross-CPU call round, shared
 * with other CPUs asking at the same time), so cached objects and empty
 * slabs do not count as used memory. Returns how many CPUs did not answer:
 * their magazines still hold objects, which then count as in use.
 */
unsigned int mem_snapshot(struct mem_snapshot *s);
/* The same figures without emptying any magazine: no cross-CPU call, and
 * free pages exclude what the caches hold. Object counts are the same. */
void mem_count(struct mem_snapshot *s);
/* 0 when now equals `before`: free pages (count and which pages), objects
 * and slabs of each cache; otherwise logs each difference and returns
 * -EIO; -ETIMEDOUT when either snapshot missed a CPU (not comparable). */
int mem_compare(const struct mem_snapshot *before, const char *what);

extern struct mem_snapshot boot_baseline;

#endif
