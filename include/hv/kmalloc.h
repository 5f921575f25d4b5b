/*
 * General-purpose allocation: power-of-two size classes (16 .. 2048 bytes)
 * on slab caches; bigger requests get whole pages. Objects of a class are
 * aligned to the class size; bigger blocks to a page.
 */
#ifndef HV_KMALLOC_H
#define HV_KMALLOC_H

#include "hv/types.h"

#define KMALLOC_MIN_SIZE  16
#define KMALLOC_MAX_CLASS 2048  /* above: page allocator */

/* Create the size-class caches; 0 or -ENOMEM. Once at boot, after the
 * page allocator has memory (host tests: after each slab_reset). */
int kmalloc_init(void);

/* size bytes (0 gives a minimal object), or NULL when memory is exhausted
 * or size exceeds the largest buddy block. */
void *kmalloc(size_t size);
/* As kmalloc, zero-filled. */
void *kzalloc(size_t size);
/* Return kmalloc memory; NULL is ignored, any other pointer panics. */
void kfree(const void *p);

#endif
