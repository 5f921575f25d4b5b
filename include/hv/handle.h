/*
 * Handle tables: what guests hold instead of pointers. A handle carries the
 * table's type, the slot and the slot's generation, so a handle of the
 * wrong type (foreign), of a freed object (stale) or made up is refused.
 */
#ifndef HV_HANDLE_H
#define HV_HANDLE_H

#include "hv/spinlock.h"
#include "hv/types.h"

struct handle_slot {
	void *obj;
	uint32_t gen;
};

struct handle_table {
	spinlock_t lock;
	uint16_t type;                  /* 1..0x7fff */
	uint32_t capacity;
	uint32_t used;
	struct handle_slot *slots;
};

#define HANDLE_TABLE_INIT(t, slots_) { SPINLOCK_INIT, (t), \
	sizeof(slots_) / sizeof((slots_)[0]), 0, (slots_) }

/* A new handle (> 0) for obj, or -ENOSPC when the table is full. */
int64_t handle_alloc(struct handle_table *t, void *obj);
/* The object, or NULL for a stale, foreign or malformed handle. Takes the
 * table lock: call handle_lock first to keep the object from going away. */
void *handle_get(struct handle_table *t, uint64_t h);
/* Release the slot: -ENOENT if h is not live. */
int handle_free(struct handle_table *t, uint64_t h);
void handle_lock(struct handle_table *t);
void handle_unlock(struct handle_table *t);
/* Lookup with the table lock held, or with every writer of the table kept
 * out otherwise (hv/hypercall.c: alloc and free run under its management
 * lock). Layout: type << 48 | generation << 16 | slot. */
#define HANDLE_SLOT_BITS 16

static inline void *handle_get_locked(struct handle_table *t, uint64_t h)
{
	uint32_t slot = h & ((1u << HANDLE_SLOT_BITS) - 1);
	uint32_t gen = (uint32_t)(h >> HANDLE_SLOT_BITS);

	if ((h >> 48) != t->type || slot >= t->capacity || !gen)
		return NULL;
	if (t->slots[slot].gen != gen)
		return NULL;
	return t->slots[slot].obj;
}

#endif
