/* cpumask: every operation, word boundaries, out-of-range CPUs, atomics. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hv/cpumask.h"
#include "host_stubs.h"

#if NR_CPUS < 130
#error "the edge cases below assume NR_CPUS >= 130"
#endif

static const unsigned int edges[] = { 0, 1, 63, 64, 65, 127, 128, NR_CPUS - 1 };
#define N_EDGES (sizeof(edges) / sizeof(edges[0]))

static void test_set_clear_test(void **state)
{
	cpumask_t m = CPUMASK_INIT;
	size_t i, j;

	(void)state;
	assert_true(cpumask_empty(&m));
	for (i = 0; i < N_EDGES; i++) {
		cpumask_set(&m, edges[i]);
		assert_true(cpumask_test(&m, edges[i]));
		assert_int_equal(cpumask_weight(&m), i + 1);
	}
	for (i = 0; i < N_EDGES; i++) {
		cpumask_clear(&m, edges[i]);
		assert_false(cpumask_test(&m, edges[i]));
		for (j = i + 1; j < N_EDGES; j++)
			assert_true(cpumask_test(&m, edges[j]));
	}
	assert_true(cpumask_empty(&m));
	/* Neighbouring bits are untouched. */
	cpumask_set(&m, 64);
	assert_false(cpumask_test(&m, 63));
	assert_false(cpumask_test(&m, 65));
	assert_int_equal(m.bits[1], 1);
	assert_int_equal(m.bits[0], 0);
}

static void expect_bug(void (*fn)(cpumask_t *, unsigned int), unsigned int cpu)
{
	static cpumask_t m;

	cpumask_clear_all(&m);
	if (!setjmp(host_panic_jmp)) {
		host_panic_armed = true;
		fn(&m, cpu);
		fail_msg("no BUG for cpu %u", cpu);
	}
	assert_non_null(strstr(host_panic_msg, "BUG: cpu >= NR_CPUS"));
	assert_true(cpumask_empty(&m));
}

static void do_set(cpumask_t *m, unsigned int c) { cpumask_set(m, c); }
static void do_clear(cpumask_t *m, unsigned int c) { cpumask_clear(m, c); }
static void do_test(cpumask_t *m, unsigned int c) { (void)cpumask_test(m, c); }
static void do_set_atomic(cpumask_t *m, unsigned int c) { cpumask_set_atomic(m, c); }
static void do_clear_atomic(cpumask_t *m, unsigned int c) { cpumask_clear_atomic(m, c); }
static void do_tas(cpumask_t *m, unsigned int c) { (void)cpumask_test_and_set_atomic(m, c); }
static void do_tac(cpumask_t *m, unsigned int c) { (void)cpumask_test_and_clear_atomic(m, c); }
static void do_test_atomic(cpumask_t *m, unsigned int c) { (void)cpumask_test_atomic(m, c); }

static void test_out_of_range_bugs(void **state)
{
	void (*const fns[])(cpumask_t *, unsigned int) = {
		do_set, do_clear, do_test, do_set_atomic, do_clear_atomic,
		do_tas, do_tac, do_test_atomic,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		expect_bug(fns[i], NR_CPUS);
		expect_bug(fns[i], NR_CPUS + 64);
		expect_bug(fns[i], (unsigned int)-1);
	}
}

static void test_atomic_ops(void **state)
{
	cpumask_t m = CPUMASK_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < N_EDGES; i++) {
		assert_false(cpumask_test_and_set_atomic(&m, edges[i]));
		assert_true(cpumask_test_and_set_atomic(&m, edges[i]));
		assert_true(cpumask_test_atomic(&m, edges[i]));
	}
	assert_int_equal(cpumask_weight(&m), N_EDGES);
	for (i = 0; i < N_EDGES; i++) {
		assert_true(cpumask_test_and_clear_atomic(&m, edges[i]));
		assert_false(cpumask_test_and_clear_atomic(&m, edges[i]));
	}
	cpumask_set_atomic(&m, 127);
	assert_true(cpumask_test(&m, 127));
	cpumask_clear_atomic(&m, 127);
	assert_true(cpumask_empty(&m));
}

static cpumask_t shared;

/* Thread `id` owns cpus id, id+8, ...: neighbours share every word. */
static void *setter(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg, cpu;

	for (cpu = id; cpu < NR_CPUS; cpu += 8)
		cpumask_set_atomic(&shared, cpu);
	return NULL;
}

static void *clearer(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg, cpu;

	for (cpu = id; cpu < NR_CPUS; cpu += 8)
		cpumask_clear_atomic(&shared, cpu);
	return NULL;
}

static void run8(void *(*fn)(void *))
{
	pthread_t t[8];
	unsigned int i;

	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fn, (void *)(uintptr_t)i), 0);
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
}

/* No update is lost when CPUs change bits of the same word concurrently. */
static void test_atomic_threads(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 50; round++) {
		cpumask_clear_all(&shared);
		run8(setter);
		assert_int_equal(cpumask_weight(&shared), NR_CPUS);
		run8(clearer);
		assert_true(cpumask_empty(&shared));
	}
}

/* Exactly one of many racing threads wins a test-and-set. */
static cpumask_t claim;
static int claim_wins;

static void *claimer(void *arg)
{
	unsigned int cpu;

	(void)arg;
	for (cpu = 0; cpu < NR_CPUS; cpu++)
		if (!cpumask_test_and_set_atomic(&claim, cpu))
			__atomic_fetch_add(&claim_wins, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void test_test_and_set_one_winner(void **state)
{
	pthread_t t[8];
	int i;

	(void)state;
	cpumask_clear_all(&claim);
	claim_wins = 0;
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, claimer, NULL), 0);
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(claim_wins, NR_CPUS);
	assert_int_equal(cpumask_weight(&claim), NR_CPUS);
}

static void test_all_and_copy(void **state)
{
	cpumask_t a, b;
	unsigned int cpu, n = 0;

	(void)state;
	cpumask_set_all(&a);
	assert_int_equal(cpumask_weight(&a), NR_CPUS);
	assert_int_equal(cpumask_first(&a), 0);
	for_each_cpu(cpu, &a)
		assert_int_equal(cpu, n++);
	assert_int_equal(n, NR_CPUS);
	cpumask_copy(&b, &a);
	assert_true(cpumask_equal(&a, &b));
	cpumask_clear(&b, NR_CPUS - 1);
	assert_false(cpumask_equal(&a, &b));
	cpumask_clear_all(&a);
	assert_true(cpumask_empty(&a));
	assert_int_equal(cpumask_weight(&a), 0);
}

static void test_and_or_andnot(void **state)
{
	cpumask_t a = CPUMASK_INIT, b = CPUMASK_INIT, d;

	(void)state;
	cpumask_set(&a, 0);
	cpumask_set(&a, 63);
	cpumask_set(&a, 64);
	cpumask_set(&b, 64);
	cpumask_set(&b, NR_CPUS - 1);

	cpumask_and(&d, &a, &b);
	assert_int_equal(cpumask_weight(&d), 1);
	assert_true(cpumask_test(&d, 64));

	cpumask_or(&d, &a, &b);
	assert_int_equal(cpumask_weight(&d), 4);
	assert_true(cpumask_test(&d, NR_CPUS - 1));

	cpumask_andnot(&d, &a, &b);
	assert_int_equal(cpumask_weight(&d), 2);
	assert_true(cpumask_test(&d, 0));
	assert_true(cpumask_test(&d, 63));
	assert_false(cpumask_test(&d, 64));

	/* dst aliasing a source. */
	cpumask_or(&a, &a, &b);
	assert_int_equal(cpumask_weight(&a), 4);
	cpumask_andnot(&a, &a, &a);
	assert_true(cpumask_empty(&a));
}

static void test_first_next(void **state)
{
	cpumask_t m = CPUMASK_INIT;
	unsigned int cpu, got[N_EDGES], n = 0;

	(void)state;
	assert_int_equal(cpumask_first(&m), NR_CPUS);
	assert_int_equal(cpumask_next(0, &m), NR_CPUS);
	for_each_cpu(cpu, &m)
		fail();

	for (n = 0; n < N_EDGES; n++)
		cpumask_set(&m, edges[n]);
	assert_int_equal(cpumask_first(&m), 0);
	assert_int_equal(cpumask_next(0, &m), 1);
	assert_int_equal(cpumask_next(1, &m), 63);
	assert_int_equal(cpumask_next(63, &m), 64);
	assert_int_equal(cpumask_next(65, &m), 127);
	assert_int_equal(cpumask_next(128, &m), NR_CPUS - 1);
	assert_int_equal(cpumask_next(NR_CPUS - 1, &m), NR_CPUS);
	assert_int_equal(cpumask_next(NR_CPUS, &m), NR_CPUS);
	assert_int_equal(cpumask_next(~0u, &m), NR_CPUS);

	n = 0;
	for_each_cpu(cpu, &m)
		got[n++] = cpu;
	assert_int_equal(n, N_EDGES);
	assert_memory_equal(got, edges, sizeof(edges));

	cpumask_clear_all(&m);
	cpumask_set(&m, NR_CPUS - 1);
	assert_int_equal(cpumask_first(&m), NR_CPUS - 1);
}

static void test_format(void **state)
{
	cpumask_t m = CPUMASK_INIT;
	char buf[64], want[64], all[16];
	unsigned int i;

	(void)state;
	assert_int_equal(cpumask_format(buf, sizeof(buf), &m), 0);
	assert_string_equal(buf, "");
	for (i = 0; i < 4; i++)
		cpumask_set(&m, i);
	cpumask_set(&m, 8);
	cpumask_set(&m, 63);
	cpumask_set(&m, 64);
	cpumask_set(&m, NR_CPUS - 1);
	snprintf(want, sizeof(want), "0-3,8,63-64,%u", NR_CPUS - 1);
	assert_int_equal(cpumask_format(buf, sizeof(buf), &m), strlen(want));
	assert_string_equal(buf, want);
	/* Short buffer: truncated, terminated, full length reported. */
	assert_int_equal(cpumask_format(buf, 6, &m), strlen(want));
	assert_string_equal(buf, "0-3,8");
	assert_int_equal(cpumask_format(NULL, 0, &m), strlen(want));
	cpumask_set_all(&m);
	snprintf(all, sizeof(all), "0-%u", NR_CPUS - 1);
	assert_int_equal(cpumask_format(buf, sizeof(buf), &m), strlen(all));
	assert_string_equal(buf, all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_clear_test),
		cmocka_unit_test(test_out_of_range_bugs),
		cmocka_unit_test(test_atomic_ops),
		cmocka_unit_test(test_atomic_threads),
		cmocka_unit_test(test_test_and_set_one_winner),
		cmocka_unit_test(test_all_and_copy),
		cmocka_unit_test(test_and_or_andnot),
		cmocka_unit_test(test_first_next),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
