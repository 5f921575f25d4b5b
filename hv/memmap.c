/*
 * Usable RAM computation.
 *
 * Works as a sweep over addresses with no scratch storage (the inputs can be
 * as long as the caller likes and early boot has no allocator): take each
 * maximal run of available memory in address order, then walk it emitting
 * the gaps between blockers (non-available entries, reserved ranges), each
 * gap shrunk inward to whole pages. Shrinking per gap is the same as
 * shrinking the whole result, because a page lies inside a gap exactly when
 * it lies inside available memory and inside no blocker. O(n^2) per output
 * range; n is a few hundred at most.
 *
 * Ranges are half-open [start, end) with end clamped to UINT64_MAX; the last
 * byte of the address space is never RAM.
 */
#include "hv/memmap.h"
#include "hv/compiler.h"
#include "hv/errno.h"
#include "hv/printk.h"

struct memmap_in {
	const struct mb2_mmap_entry *e;
	size_t n;
	const struct mem_range *res;
	size_t n_res;
};

/* True when base + len wraps (ending exactly at 2^64 counts: not representable). */
static bool memmap_wraps(uint64_t base, uint64_t len)
{
	return len > UINT64_MAX - base;
}

/* Available entry i as [*s, *t); false if it is not usable input. */
static bool memmap_avail(const struct memmap_in *in, size_t i,
			 uint64_t *s, uint64_t *t)
{
	const struct mb2_mmap_entry *m = &in->e[i];

	if (m->type != MB2_MMAP_AVAILABLE || m->len == 0 ||
	    memmap_wraps(m->base, m->len))
		return false;
	*s = m->base;
	*t = m->base + m->len;
	return true;
}

/* Blocker i (map entries of other types first, then reserved ranges). */
static bool memmap_blocker(const struct memmap_in *in, size_t i,
			   uint64_t *s, uint64_t *t)
{
	uint64_t base, len;

	if (i < in->n) {
		if (in->e[i].type == MB2_MMAP_AVAILABLE)
			return false;
		base = in->e[i].base;
		len = in->e[i].len;
	} else {
		base = in->res[i - in->n].base;
		len = in->res[i - in->n].len;
	}
	if (len == 0)
		return false;
	*s = base;
	*t = memmap_wraps(base, len) ? UINT64_MAX : base + len;
	return true;
}

static void memmap_warn_bad(const struct memmap_in *in)
{
	size_t i;

	for (i = 0; i < in->n; i++) {
		const struct mb2_mmap_entry *m = &in->e[i];

		if (m->len == 0)
			pr_warn("memmap: entry %zu at 0x%llx has zero length, ignored\n",
				i, (unsigned long long)m->base);
		else if (memmap_wraps(m->base, m->len))
			pr_warn("memmap: entry %zu 0x%llx+0x%llx wraps, %s\n", i,
				(unsigned long long)m->base,
				(unsigned long long)m->len,
				m->type == MB2_MMAP_AVAILABLE ? "ignored"
							     : "clamped");
	}
	for (i = 0; i < in->n_res; i++)
		if (memmap_wraps(in->res[i].base, in->res[i].len))
			pr_warn("memmap: reserved range 0x%llx+0x%llx wraps, clamped\n",
				(unsigned long long)in->res[i].base,
				(unsigned long long)in->res[i].len);
}

/*
 * The next maximal run of available memory starting above `cursor`
 * (overlapping or touching entries merged). False when there is none.
 */
static bool memmap_next_run(const struct memmap_in *in, uint64_t cursor,
			    uint64_t *a, uint64_t *b)
{
	uint64_t s, t, lo = 0, hi = 0;
	bool found = false, grew;
	size_t i;

	/* Every entry ending above cursor starts above it: runs are maximal. */
	for (i = 0; i < in->n; i++)
		if (memmap_avail(in, i, &s, &t) && t > cursor &&
		    (!found || s < lo)) {
			lo = s;
			hi = t;
			found = true;
		}
	if (!found)
		return false;
	do {
		grew = false;
		for (i = 0; i < in->n; i++)
			if (memmap_avail(in, i, &s, &t) && s <= hi && t > hi &&
			    t > lo) {
				hi = t;
				grew = true;
			}
	} while (grew);
	*a = lo;
	*b = hi;
	return true;
}

/* Whole pages in [s, t) as out; false when none. */
static bool memmap_pages(uint64_t s, uint64_t t, struct mem_range *out)
{
	uint64_t lo, hi;

	if (s > UINT64_MAX - (PAGE_SIZE - 1))
		return false;
	lo = ALIGN_UP(s, PAGE_SIZE);
	hi = ALIGN_DOWN(t, PAGE_SIZE);
	if (lo >= hi)
		return false;
	out->base = lo;
	out->len = hi - lo;
	return true;
}

int memmap_usable(const struct mb2_mmap_entry *e, size_t n,
		  const struct mem_range *reserved, size_t n_res,
		  struct mem_range *out, size_t max_out)
{
	struct memmap_in in = { e, n, reserved, n_res };
	size_t nb = n + n_res, count = 0, i;
	uint64_t a, b, cursor = 0;

	if ((n && !e) || (n_res && !reserved) || (max_out && !out))
		return ERR(-EINVAL);
	memmap_warn_bad(&in);

	while (memmap_next_run(&in, cursor, &a, &b)) {
		uint64_t c = a;

		cursor = b;
		while (c < b) {
			uint64_t s, t, next = b;
			struct mem_range piece;
			bool moved;

			/* Step over every blocker covering c (they may chain). */
			do {
				moved = false;
				for (i = 0; i < nb; i++)
					if (memmap_blocker(&in, i, &s, &t) &&
					    s <= c && t > c) {
						c = t;
						moved = true;
					}
			} while (moved && c < b);
			if (c >= b)
				break;
			for (i = 0; i < nb; i++)
				if (memmap_blocker(&in, i, &s, &t) && s > c && s < next)
					next = s;
			if (memmap_pages(c, next, &piece)) {
				if (count == max_out)
					return ERR(-ENOSPC);
				out[count++] = piece;
			}
			c = next;
		}
	}
	return (int)count;
}

uint64_t memmap_low_page(const struct mem_range *r, size_t n, uint64_t limit)
{
	uint64_t best = 0;

	for (size_t i = 0; r && i < n; i++) {
		uint64_t b = ALIGN_UP(MAX(r[i].base, (uint64_t)PAGE_SIZE), PAGE_SIZE);
		uint64_t e = r[i].base + r[i].len;

		if (e < r[i].base || e > limit)         /* a wrapped or long range ends at limit */
			e = limit;
		e = ALIGN_DOWN(e, PAGE_SIZE);
		if (e > b && e - PAGE_SIZE > best)
			best = e - PAGE_SIZE;
	}
	return best;
}

uint64_t memmap_total(const struct mem_range *r, size_t n)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; r && i < n; i++)
		sum += r[i].len;
	return sum;
}
