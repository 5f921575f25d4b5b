/* The cpumask operations that scan the whole bitmap. */
#include "hv/cpumask.h"
#include "hv/printk.h"

/*
 * Bit count by hand: with -mgeneral-regs-only and no POPCNT in the target
 * ISA, __builtin_popcountll becomes a call to libgcc, which the image does
 * not link.
 */
static unsigned int cpumask_popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned int)((x * 0x0101010101010101ULL) >> 56);
}

unsigned int cpumask_weight(const cpumask_t *m)
{
	unsigned int i, n = 0;

	for (i = 0; i < CPUMASK_WORDS; i++)
		n += cpumask_popcount64(m->bits[i]);
	return n;
}

/* Lowest set bit at or above `from`, or NR_CPUS. */
static unsigned int cpumask_find_from(const cpumask_t *m, unsigned int from)
{
	unsigned int w;
	uint64_t word;

	if (from >= NR_CPUS)
		return NR_CPUS;
	w = from / CPUMASK_WORD_BITS;
	/* Drop the bits below `from` in its word, then scan whole words. */
	word = m->bits[w] & (~0ULL << (from % CPUMASK_WORD_BITS));
	for (;;) {
		if (word) {
			unsigned int cpu = w * CPUMASK_WORD_BITS +
					   (unsigned int)__builtin_ctzll(word);

			return cpu < NR_CPUS ? cpu : NR_CPUS;
		}
		if (++w >= CPUMASK_WORDS)
			return NR_CPUS;
		word = m->bits[w];
	}
}

unsigned int cpumask_first(const cpumask_t *m)
{
	return cpumask_find_from(m, 0);
}

unsigned int cpumask_next(unsigned int cpu, const cpumask_t *m)
{
	if (cpu >= NR_CPUS - 1)
		return NR_CPUS;
	return cpumask_find_from(m, cpu + 1);
}

size_t cpumask_format(char *buf, size_t size, const cpumask_t *m)
{
	size_t len = 0;
	unsigned int cpu = cpumask_first(m);

	if (size)
		buf[0] = '\0';
	while (cpu < NR_CPUS) {
		unsigned int end = cpu;
		int n;

		while (end + 1 < NR_CPUS && cpumask_test(m, end + 1))
			end++;
		n = end == cpu
			? snprintf(len < size ? buf + len : NULL,
				   len < size ? size - len : 0, "%s%u",
				   len ? "," : "", cpu)
			: snprintf(len < size ? buf + len : NULL,
				   len < size ? size - len : 0, "%s%u-%u",
				   len ? "," : "", cpu, end);
		if (n > 0)
			len += (size_t)n;
		cpu = cpumask_next(end, m);
	}
	return len;
}
