/* Handle tables (hv/handle.h). Layout: type << 48 | generation << 16 | slot. */
#include "hv/handle.h"
#include "hv/errno.h"

#define SLOT_BITS 16
#define GEN_BITS  32

static uint64_t encode(uint16_t type, uint32_t gen, uint32_t slot)
{
	return (uint64_t)type << 48 | (uint64_t)gen << SLOT_BITS | slot;
}

void handle_lock(struct handle_table *t)
{
	spin_lock(&t->lock);
}

void handle_unlock(struct handle_table *t)
{
	spin_unlock(&t->lock);
}

int64_t handle_alloc(struct handle_table *t, void *obj)
{
	int64_t h = 0;

	spin_lock(&t->lock);
	for (uint32_t i = 0; i < t->capacity && i < (1u << SLOT_BITS); i++) {
		struct handle_slot *s = &t->slots[i];

		if (s->obj)
			continue;
		if (!s->gen)
			s->gen = 1;     /* generation 0 never appears in a handle */
		s->obj = obj;
		t->used++;
		h = (int64_t)encode(t->type, s->gen, i);
		break;
	}
	spin_unlock(&t->lock);
	return h ? h : ERR(-ENOSPC);
}

void *handle_get(struct handle_table *t, uint64_t h)
{
	void *obj;

	spin_lock(&t->lock);
	obj = handle_get_locked(t, h);
	spin_unlock(&t->lock);
	return obj;
}

int handle_free(struct handle_table *t, uint64_t h)
{
	int r = -ENOENT;

	spin_lock(&t->lock);
	if (handle_get_locked(t, h)) {
		struct handle_slot *s = &t->slots[h & ((1u << SLOT_BITS) - 1)];

		s->obj = NULL;
		/* A new generation makes every copy of the old handle stale. */
		if (++s->gen == 0)
			s->gen = 1;
		t->used--;
		r = 0;
	}
	spin_unlock(&t->lock);
	return r ? ERR(r) : 0;
}
