/* Memory snapshots (hv/leakcheck.h). */
#include "hv/leakcheck.h"
#include "hv/errno.h"
#include "hv/irqflags.h"
#include "hv/page_alloc.h"
#include "hv/printk.h"
#include "hv/slab.h"
#include "hv/smp.h"
#include "hv/spinlock.h"
#include "hv/string.h"

struct mem_snapshot boot_baseline;

static int shrink(void *arg)
{
	slab_shrink();
	return 0;
}

/*
 * Shrink rounds: one CPU at a time empties every CPU's magazines by a
 * cross-CPU call. A snapshot needs a round that started after it was asked
 * for; when one finishes while a CPU waits for the lock, that CPU uses it
 * instead of broadcasting again, so statistics from every CPU at once cost
 * one broadcast, not one each. Waiting for the lock serves this CPU's own
 * mailbox, so the CPU running the round is never kept waiting by us.
 */
static spinlock_t round_lock = SPINLOCK_INIT;
static uint64_t rounds_started, rounds_done;
static unsigned int round_unshrunk;     /* CPUs that did not answer the last round */

static unsigned int shrink_everywhere(void)
{
	static int results[NR_CPUS];
	unsigned long flags = local_irq_save();
	uint64_t asked = __atomic_load_n(&rounds_started, __ATOMIC_ACQUIRE);
	unsigned int missed = 0, cpu;

	for (;;) {
		if (__atomic_load_n(&rounds_done, __ATOMIC_ACQUIRE) > asked) {
			missed = __atomic_load_n(&round_unshrunk, __ATOMIC_ACQUIRE);
			break;
		}
		if (spin_trylock(&round_lock)) {
			if (__atomic_load_n(&rounds_done, __ATOMIC_ACQUIRE) > asked) {
				missed = round_unshrunk;
			} else {
				uint64_t round = ++rounds_started;

				for (cpu = 0; cpu < NR_CPUS; cpu++)
					results[cpu] = 0;
				smp_call_function_all(shrink, NULL, results);
				for (cpu = 0; cpu < NR_CPUS; cpu++)
					missed += results[cpu] != 0;
				__atomic_store_n(&round_unshrunk, missed, __ATOMIC_RELEASE);
				__atomic_store_n(&rounds_done, round, __ATOMIC_RELEASE);
			}
			spin_unlock(&round_lock);
			break;
		}
		smp_call_serve();
		cpu_relax();
	}
	local_irq_restore(flags);
	return missed;
}

static void count_cache(const struct cache_stats *st, void *arg)
{
	struct mem_snapshot *s = arg;

	if (!st->bookkeeping)
		s->slab_objects += st->in_use;
	if (s->caches < MEMSNAP_CACHES) {
		struct memsnap_cache *c = &s->cache[s->caches];

		size_t n = strnlen(st->name, sizeof(c->name) - 1);

		memcpy(c->name, st->name, n);
		c->name[n] = '\0';
		c->in_use = st->in_use;
		c->slabs = st->slabs;
	}
	s->caches++;
}

void mem_count(struct mem_snapshot *s)
{
	struct page_stats ps;

	s->unshrunk = 0;
	page_get_stats(&ps);
	s->free_pages = ps.free_pages;
	s->free_sig = ps.free_sig;
	s->slab_objects = 0;
	s->caches = 0;
	cache_for_each(count_cache, s);
}

unsigned int mem_snapshot(struct mem_snapshot *s)
{
	unsigned int missed = shrink_everywhere();

	mem_count(s);
	s->unshrunk = missed;
	return missed;
}

static const struct memsnap_cache *find_cache(const struct mem_snapshot *s, const char *name)
{
	for (uint64_t i = 0; i < s->caches && i < MEMSNAP_CACHES; i++)
		if (!strcmp(s->cache[i].name, name))
			return &s->cache[i];
	return NULL;
}

/* Log each cache whose objects or slabs differ, or that came or went. */
static unsigned int compare_caches(const struct mem_snapshot *a, const struct mem_snapshot *b,
				   const char *what)
{
	unsigned int diffs = 0;

	for (uint64_t i = 0; i < b->caches && i < MEMSNAP_CACHES; i++) {
		const struct memsnap_cache *n = &b->cache[i], *o = find_cache(a, n->name);

		if (!o) {
			pr_err("leakcheck: %s: cache '%s' is new (%lu objects, %lu slabs)\n", what,
			       n->name, n->in_use, n->slabs);
			diffs++;
		} else if (o->in_use != n->in_use || o->slabs != n->slabs) {
			pr_err("leakcheck: %s: cache '%s': objects %lu -> %lu, slabs %lu -> %lu\n",
			       what, n->name, o->in_use, n->in_use, o->slabs, n->slabs);
			diffs++;
		}
	}
	for (uint64_t i = 0; i < a->caches && i < MEMSNAP_CACHES; i++)
		if (!find_cache(b, a->cache[i].name)) {
			pr_err("leakcheck: %s: cache '%s' is gone\n", what, a->cache[i].name);
			diffs++;
		}
	return diffs;
}

int mem_compare(const struct mem_snapshot *before, const char *what)
{
	static struct mem_snapshot now;         /* big: not on the stack */
	unsigned int diffs;

	mem_snapshot(&now);
	if (before->unshrunk || now.unshrunk) {
		pr_err("leakcheck: %s: not comparable: %u CPUs did not empty their caches\n",
		       what, before->unshrunk + now.unshrunk);
		return ERR(-ETIMEDOUT);
	}
	diffs = compare_caches(before, &now, what);
	if (now.free_pages == before->free_pages && now.slab_objects == before->slab_objects &&
	    now.caches == before->caches && now.free_sig == before->free_sig && !diffs) {
		pr_info("leakcheck: %s: %lu free pages (the same pages), %lu slab objects in %lu caches (each as before)\n",
			what, now.free_pages, now.slab_objects, now.caches);
		return 0;
	}
	pr_err("leakcheck: %s: free pages %lu -> %lu%s, slab objects %lu -> %lu, caches %lu -> %lu\n",
	       what, before->free_pages, now.free_pages,
	       now.free_sig != before->free_sig ? " (other pages free)" : "",
	       before->slab_objects, now.slab_objects, before->caches, now.caches);
	return ERR(-EIO);
}
