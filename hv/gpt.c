/* Guest-physical page tables (hv/gpt.h). 4 levels, 512 entries each. */
#include "hv/gpt.h"
#include "hv/errno.h"
#include "hv/page_alloc.h"

#define SHIFT(l)  (12 + 9 * (l))
#define SIZE(l)   (1ULL << SHIFT(l))
#define INDEX(a, l) (((a) >> SHIFT(l)) & 511)

int gpt_init(struct gpt *g, const struct gpt_format *fmt)
{
	g->fmt = fmt;
	g->deferred = NULL;
	g->root = page_zalloc(0);
	g->table_pages = g->root ? 1 : 0;
	return g->root ? 0 : ERR(-ENOMEM);
}

/* Free a table and those below it: at once when nothing can use them
 * (destroy), or onto g->deferred while another CPU's paging-structure
 * caches may still hold them (gpt_release frees them after the TLB
 * shootdown). The list is threaded through the pages themselves. */
static void free_table(struct gpt *g, uint64_t *t, int level, bool defer)
{
	if (level > 0)
		for (int i = 0; i < 512; i++)
			if (g->fmt->present(t[i]) && !g->fmt->large(t[i]))
				free_table(g, (uint64_t *)(t[i] & GPT_ADDR_MASK), level - 1, defer);
	g->table_pages--;
	if (defer) {
		t[0] = (uint64_t)g->deferred;
		g->deferred = t;
	} else {
		page_free(t, 0);
	}
}

void gpt_release(struct gpt *g)
{
	while (g->deferred) {
		uint64_t *t = g->deferred;

		g->deferred = (uint64_t *)t[0];
		page_free(t, 0);
	}
}

void gpt_destroy(struct gpt *g)
{
	gpt_release(g);
	if (g->root)
		free_table(g, g->root, 3, false);
	g->root = NULL;
	g->table_pages = 0;
}

/* The entry for gpa at `level`, creating tables (and splitting large pages
 * in the way, keeping their mapping) down to it. */
static uint64_t *walk(struct gpt *g, uint64_t gpa, int level)
{
	uint64_t *t = g->root;

	for (int l = 3; l > level; l--) {
		uint64_t *e = &t[INDEX(gpa, l)];

		if (!g->fmt->present(*e) || g->fmt->large(*e)) {
			uint64_t *next = page_zalloc(0);

			if (!next)
				return NULL;
			g->table_pages++;
			if (g->fmt->present(*e)) {      /* split: l-1 leaves, same rights */
				uint64_t base = *e & GPT_ADDR_MASK & ~(SIZE(l) - 1);

				/* Large mappings are only made read-write-execute
				 * (root memory, regions), so the pieces are too. */
				for (int i = 0; i < 512; i++)
					next[i] = g->fmt->leaf(base + i * SIZE(l - 1), l - 1,
							       GPT_WRITE | GPT_EXEC);
			}
			*e = g->fmt->table((uint64_t)next);
		}
		t = (uint64_t *)(*e & GPT_ADDR_MASK);
	}
	return &t[INDEX(gpa, level)];
}

int gpt_map(struct gpt *g, uint64_t gpa, uint64_t hpa, uint64_t len, unsigned int flags)
{
	uint64_t end = gpa + len;

	if (!IS_ALIGNED(gpa | hpa | len, PAGE_SIZE) || end < gpa)
		return ERR(-EINVAL);
	while (gpa < end) {
		int level = 0;

		for (int l = (int)g->fmt->max_leaf_level; l > 0; l--)
			if (IS_ALIGNED(gpa | hpa, SIZE(l)) && end - gpa >= SIZE(l)) {
				level = l;
				break;
			}
		uint64_t *e = walk(g, gpa, level);

		if (!e)
			return ERR(-ENOMEM);
		if (level && g->fmt->present(*e) && !g->fmt->large(*e))
			free_table(g, (uint64_t *)(*e & GPT_ADDR_MASK), level - 1, true);
		*e = g->fmt->leaf(hpa, (unsigned int)level, flags);
		gpa += SIZE(level);
		hpa += SIZE(level);
	}
	return 0;
}

/* Split the large pages that straddle an end of [gpa, end): the only
 * step of an unmap that allocates, done first so that a failure leaves
 * every mapping as it was (splitting keeps the translation). */
static int split_edge(struct gpt *g, uint64_t gpa)
{
	const uint64_t *t = g->root;

	for (int l = 3; l > 0; l--) {
		uint64_t e = t[INDEX(gpa, l)];

		if (!g->fmt->present(e))
			return 0;
		if (g->fmt->large(e))
			return IS_ALIGNED(gpa, SIZE(l)) || walk(g, gpa, 0) ? 0 : ERR(-ENOMEM);
		t = (const uint64_t *)(e & GPT_ADDR_MASK);
	}
	return 0;
}

int gpt_unmap(struct gpt *g, uint64_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;
	int r;

	if (!IS_ALIGNED(gpa | len, PAGE_SIZE) || end < gpa)
		return ERR(-EINVAL);
	if (len && ((r = split_edge(g, gpa)) || (end & GPT_ADDR_MASK && (r = split_edge(g, end)))))
		return r;
	while (gpa < end) {
		uint64_t *t = g->root, *e = NULL;
		int l;

		/* Find the entry covering gpa; stop early over holes. */
		for (l = 3; l >= 0; l--) {
			e = &t[INDEX(gpa, l)];
			if (!g->fmt->present(*e) || l == 0 || g->fmt->large(*e))
				break;
			t = (uint64_t *)(*e & GPT_ADDR_MASK);
		}
		if (!g->fmt->present(*e)) {             /* hole: skip to its end */
			gpa = ALIGN_DOWN(gpa, SIZE(l)) + SIZE(l);
			continue;
		}
		if (l > 0 && (!IS_ALIGNED(gpa, SIZE(l)) || end - gpa < SIZE(l))) {
			e = walk(g, gpa, 0);            /* partly inside: split */
			if (!e)
				return ERR(-ENOMEM);
			l = 0;
		}
		*e = 0;
		gpa += SIZE(l);
	}
	return 0;
}

uint64_t gpt_translate(const struct gpt *g, uint64_t gpa)
{
	const uint64_t *t = g->root;

	for (int l = 3; l >= 0; l--) {
		uint64_t e = t[INDEX(gpa, l)];

		if (!g->fmt->present(e))
			return ~0ULL;
		if (l == 0 || g->fmt->large(e))
			return (e & GPT_ADDR_MASK & ~(SIZE(l) - 1)) + (gpa & (SIZE(l) - 1));
		t = (const uint64_t *)(e & GPT_ADDR_MASK);
	}
	return ~0ULL;
}
