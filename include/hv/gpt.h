/*
 * Guest-physical page tables: the second-level translation (Intel EPT, AMD
 * nested paging) from a VM's guest-physical addresses to host memory. The
 * walk is generic; the vendor gives the entry format.
 */
#ifndef HV_GPT_H
#define HV_GPT_H

#include "hv/types.h"

#define GPT_WRITE (1u << 0)
#define GPT_EXEC  (1u << 1)

struct gpt_format {
	/* A leaf mapping hpa at level (0: 4 KiB, 1: 2 MiB, 2: 1 GiB). */
	uint64_t (*leaf)(uint64_t hpa, unsigned int level, unsigned int flags);
	/* An entry pointing at the next-level table. */
	uint64_t (*table)(uint64_t hpa);
	bool (*present)(uint64_t e);
	bool (*large)(uint64_t e);      /* a leaf above level 0 */
	unsigned int max_leaf_level;    /* 2 with 1 GiB pages, else 1 */
};

struct gpt {
	uint64_t *root;                 /* the 4-level table (PML4 / EPT PML4) */
	const struct gpt_format *fmt;
	uint64_t table_pages;
	uint64_t *deferred;             /* tables unlinked, not yet freed */
};

#define GPT_ADDR_MASK 0x000ffffffffff000ULL

int gpt_init(struct gpt *g, const struct gpt_format *fmt);
/* Free every table (not the memory mapped): nothing may run the VM. */
void gpt_destroy(struct gpt *g);
/* Map [gpa, gpa+len) to [hpa, ...): page-aligned; large pages where both
 * sides are aligned. -ENOMEM leaves what was mapped so far (unmap it).
 * Tables a large leaf replaces are unlinked, not freed: gpt_release. */
int gpt_map(struct gpt *g, uint64_t gpa, uint64_t hpa, uint64_t len, unsigned int flags);
/* Remove [gpa, gpa+len); large pages partly inside are split first, and
 * if that runs out of memory (-ENOMEM) nothing was unmapped. */
int gpt_unmap(struct gpt *g, uint64_t gpa, uint64_t len);
/* Free the tables map/unmap unlinked, once no CPU can walk them any more
 * (after the TLB shootdown of vm_set_region). */
void gpt_release(struct gpt *g);
/* The host address gpa maps to, or ~0 when unmapped (tests, diagnostics). */
uint64_t gpt_translate(const struct gpt *g, uint64_t gpa);

#endif
