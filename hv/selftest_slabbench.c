/*
 * The slab fast path as the hypervisor runs it: cache_alloc + cache_free
 * pairs timed with RDTSC, interrupt masking (PUSHF/POP/CLI, STI) included,
 * which the host build of tests/bench/bench_slab.c leaves out (it has no
 * CLI to execute). Under QEMU with -icount shift=0 the TSC counts
 * instructions, so `make bench` reads these as instructions per pair.
 */
#include "hv/errno.h"
#include "hv/printk.h"
#include "hv/selftest.h"
#include "hv/slab.h"
#include <x86/cpu.h>
#include <x86/tsc.h>

#define PAIRS 100000

static uint64_t pairs(struct cache *c, unsigned int n)
{
	uint64_t t0 = rdtsc();

	for (unsigned int i = 0; i < n; i++) {
		void *p = cache_alloc(c);

		__asm__ __volatile__("" :: "r"(p) : "memory");
		cache_free(c, p);
	}
	return rdtsc() - t0;
}

static int one(const char *what, size_t size, size_t align)
{
	struct cache *c = cache_create(what, size, align, 0, NULL);
	uint64_t empty, t;

	CHECK(!IS_ERR(c));
	pairs(c, 1000);                 /* the magazine exists and is warm */
	t = pairs(c, PAIRS);
	/* The loop alone, for the record: RDTSC and loop overhead. */
	empty = rdtsc();
	for (unsigned int i = 0; i < PAIRS; i++)
		__asm__ __volatile__("" ::: "memory");
	empty = rdtsc() - empty;
	pr_info("slab fast path %s: %lu.%02lu tsc per alloc+free pair (%u pairs; empty loop %lu.%02lu)\n",
		what, t / PAIRS, t % PAIRS * 100 / PAIRS, PAIRS, empty / PAIRS,
		empty % PAIRS * 100 / PAIRS);
	CHECK(cache_destroy(c) == 0);
	return 0;
}

SELFTEST(slab_fastpath)
{
	int r;

	pr_info("slab fast path: interrupts %s while measuring\n",
		(read_rflags() & (1UL << 9)) ? "on" : "off");
	if ((r = one("4096/4096", 4096, 4096)))
		return r;
	return one("64", 64, 0);
}
