/*
 * One alloc+free pair on the slab fast path against glibc.
 *
 *   bench_slab ns [iters [KIND...]]  nanoseconds per pair, native (every kind
 *                             or those named; run under LD_PRELOAD for the
 *                             glibc kinds to measure another malloc)
 *   bench_slab cg KIND N      N pairs of KIND inside loop_KIND, for
 *                             valgrind --tool=callgrind --toggle-collect=loop_KIND
 *
 * KIND: cache4k (4096 B aligned 4096), cache64, glibc4k (aligned_alloc),
 * glibc64 (malloc).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv/errno.h"
#include "hv/page_alloc.h"
#include "hv/slab.h"

#define RAM_SIZE (64 * MiB)

static struct cache *c4k, *c64;

/* Keep the compiler from pairing up and removing malloc/free. */
static inline void use(void *p)
{
	__asm__ __volatile__("" :: "r"(p) : "memory");
}

__attribute__((noinline, used)) static void loop_cache4k(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = cache_alloc(c4k);

		use(p);
		cache_free(c4k, p);
	}
}

__attribute__((noinline, used)) static void loop_cache64(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = cache_alloc(c64);

		use(p);
		cache_free(c64, p);
	}
}

__attribute__((noinline, used)) static void loop_glibc4k(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = aligned_alloc(4096, 4096);

		use(p);
		free(p);
	}
}

__attribute__((noinline, used)) static void loop_glibc64(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(64);

		use(p);
		free(p);
	}
}

static const struct kind {
	const char *name;
	void (*loop)(long n);
} kinds[] = {
	{ "cache4k", loop_cache4k },
	{ "cache64", loop_cache64 },
	{ "glibc4k", loop_glibc4k },
	{ "glibc64", loop_glibc64 },
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void setup(void)
{
	void *ram = aligned_alloc(4 * MiB, RAM_SIZE);

	if (!ram || page_alloc_add_range((uintptr_t)ram, RAM_SIZE)) {
		fprintf(stderr, "bench_slab: no RAM\n");
		exit(1);
	}
	c4k = cache_create("bench-4k", 4096, 4096, 0, NULL);
	c64 = cache_create("bench-64", 64, 0, 0, NULL);
	if (IS_ERR(c4k) || IS_ERR(c64)) {
		fprintf(stderr, "bench_slab: cache_create failed\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	setup();
	if (argc == 4 && !strcmp(argv[1], "cg")) {
		long n = atol(argv[3]);

		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			if (strcmp(argv[2], kinds[k].name))
				continue;
			kinds[k].loop(1000);    /* warm up outside the measured loop */
			kinds[k].loop(n);
			return 0;
		}
		fprintf(stderr, "bench_slab: unknown kind %s\n", argv[2]);
		return 2;
	}
	if (argc >= 2 && !strcmp(argv[1], "ns")) {
		long n = argc > 2 ? atol(argv[2]) : 10000000;

		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			double best = 1e30;
			bool wanted = argc <= 3;

			/* Only the kinds named after the count, if any. */
			for (int a = 3; a < argc; a++)
				wanted |= !strcmp(argv[a], kinds[k].name);
			if (!wanted)
				continue;

			kinds[k].loop(1000);
			for (int rep = 0; rep < 3; rep++) {
				double t = now_ns();

				kinds[k].loop(n);
				t = (now_ns() - t) / (double)n;
				if (t < best)
					best = t;
			}
			printf("%s %.2f\n", kinds[k].name, best);
		}
		return 0;
	}
	fprintf(stderr, "usage: bench_slab ns [iters] | cg KIND N\n");
	return 2;
}
