/* Memory snapshots, to prove a rollback or a teardown gave back everything. */
#ifndef HV_LEAKCHECK_H
#define HV_LEAKCHECK_H

#include "hv/types.h"

struct mem_snapshot {
	uint64_t free_pages;
	uint64_t slab_objects;          /* objects in use over every cache */
	uint64_t caches;
};

/* Empty every CPU's slab magazines first, so cached objects and empty
 * slabs do not count as used memory. */
void mem_snapshot(struct mem_snapshot *s);
/* 0 when now equals `before`; otherwise logs each difference, -EIO. */
int mem_compare(const struct mem_snapshot *before, const char *what);

extern struct mem_snapshot boot_baseline;

#endif
