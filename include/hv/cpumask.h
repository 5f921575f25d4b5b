/*
 * Sets of CPU numbers: a bitmap of NR_CPUS bits.
 *
 * A CPU number >= NR_CPUS passed to a single-CPU operation (set, clear,
 * test and their atomic forms) is a caller bug and panics via BUG_ON, so
 * nothing is ever written outside the bitmap and the bug is not hidden.
 * Bits at and above NR_CPUS are never set by any operation here.
 *
 * The plain operations are not atomic; use the *_atomic forms on a mask
 * other CPUs modify concurrently.
 */
#ifndef HV_CPUMASK_H
#define HV_CPUMASK_H

#include "hv/compiler.h"
#include "hv/config.h"
#include "hv/panic.h"
#include "hv/types.h"

#define CPUMASK_WORD_BITS 64
#define CPUMASK_WORDS     ((NR_CPUS + CPUMASK_WORD_BITS - 1) / CPUMASK_WORD_BITS)

typedef struct cpumask {
	uint64_t bits[CPUMASK_WORDS];
} cpumask_t;

#define CPUMASK_INIT { { 0 } }

static inline uint64_t *cpumask_word(cpumask_t *m, unsigned int cpu)
{
	BUG_ON(cpu >= NR_CPUS);
	return &m->bits[cpu / CPUMASK_WORD_BITS];
}

static inline uint64_t cpumask_bit(unsigned int cpu)
{
	return 1ULL << (cpu % CPUMASK_WORD_BITS);
}

static inline void cpumask_set(cpumask_t *m, unsigned int cpu)
{
	*cpumask_word(m, cpu) |= cpumask_bit(cpu);
}

static inline void cpumask_clear(cpumask_t *m, unsigned int cpu)
{
	*cpumask_word(m, cpu) &= ~cpumask_bit(cpu);
}

static inline bool cpumask_test(const cpumask_t *m, unsigned int cpu)
{
	BUG_ON(cpu >= NR_CPUS);
	return (m->bits[cpu / CPUMASK_WORD_BITS] & cpumask_bit(cpu)) != 0;
}

/* Atomic forms: full barriers (sequentially consistent). */
static inline void cpumask_set_atomic(cpumask_t *m, unsigned int cpu)
{
	__atomic_fetch_or(cpumask_word(m, cpu), cpumask_bit(cpu), __ATOMIC_SEQ_CST);
}

static inline void cpumask_clear_atomic(cpumask_t *m, unsigned int cpu)
{
	__atomic_fetch_and(cpumask_word(m, cpu), ~cpumask_bit(cpu),
			   __ATOMIC_SEQ_CST);
}

/* Set the bit; returns whether it was already set. */
static inline bool cpumask_test_and_set_atomic(cpumask_t *m, unsigned int cpu)
{
	return (__atomic_fetch_or(cpumask_word(m, cpu), cpumask_bit(cpu),
				  __ATOMIC_SEQ_CST) & cpumask_bit(cpu)) != 0;
}

/* Clear the bit; returns whether it was set. */
static inline bool cpumask_test_and_clear_atomic(cpumask_t *m, unsigned int cpu)
{
	return (__atomic_fetch_and(cpumask_word(m, cpu), ~cpumask_bit(cpu),
				   __ATOMIC_SEQ_CST) & cpumask_bit(cpu)) != 0;
}

static inline bool cpumask_test_atomic(const cpumask_t *m, unsigned int cpu)
{
	BUG_ON(cpu >= NR_CPUS);
	return (__atomic_load_n(&m->bits[cpu / CPUMASK_WORD_BITS],
				__ATOMIC_ACQUIRE) & cpumask_bit(cpu)) != 0;
}

static inline void cpumask_clear_all(cpumask_t *m)
{
	for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
		m->bits[i] = 0;
}

/* Every CPU 0..NR_CPUS-1. */
static inline void cpumask_set_all(cpumask_t *m)
{
	for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
		m->bits[i] = ~0ULL;
	if (NR_CPUS % CPUMASK_WORD_BITS)
		m->bits[CPUMASK_WORDS - 1] =
			(1ULL << (NR_CPUS % CPUMASK_WORD_BITS)) - 1;
}

static inline void cpumask_copy(cpumask_t *dst, const cpumask_t *src)
{
	*dst = *src;
}

/* dst = a & b, a | b, a & ~b. dst may be a or b. */
static inline void cpumask_and(cpumask_t *dst, const cpumask_t *a,
			       const cpumask_t *b)
{
	for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
		dst->bits[i] = a->bits[i] & b->bits[i];
}

static inline void cpumask_or(cpumask_t *dst, const cpumask_t *a,
			      const cpumask_t *b)
{
	for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
		dst->bits[i] = a->bits[i] | b->bits[i];
}

static inline void cpumask_andnot(cpumask_t *dst, const cpumask_t *a,
				  const cpumask_t *b)
{
	for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
		dst->bits[i] = a->bits[i] & ~b->bits[i];
}

static inline bool cpumask_equal(const cpumask_t *a, const cpumask_t *b)
{
	for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
		if (a->bits[i] != b->bits[i])
			return false;
	return true;
}

static inline bool cpumask_empty(const cpumask_t *m)
{
	for (unsigned int i = 0; i < CPUMASK_WORDS; i++)
		if (m->bits[i])
			return false;
	return true;
}

/* Number of CPUs in the mask. */
unsigned int cpumask_weight(const cpumask_t *m);

/* Lowest CPU in the mask, or NR_CPUS if empty. */
unsigned int cpumask_first(const cpumask_t *m);

/* Lowest CPU in the mask above `cpu`, or NR_CPUS if none (also for cpu >= NR_CPUS - 1). */
unsigned int cpumask_next(unsigned int cpu, const cpumask_t *m);

/*
 * Write the mask as ranges ("0-3,8,10-11"; "" if empty) into buf, always
 * NUL-terminated when size > 0. Returns the length the full text needs.
 */
size_t cpumask_format(char *buf, size_t size, const cpumask_t *m);

/* Iterate `cpu` (an unsigned int lvalue) over the CPUs in `mask`, ascending. */
#define for_each_cpu(cpu, mask) \
	for ((cpu) = cpumask_first(mask); (cpu) < NR_CPUS; \
	     (cpu) = cpumask_next((cpu), (mask)))

#endif
