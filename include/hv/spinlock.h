/*
 * Ticketless test-and-test-and-set spinlock on GCC atomics, so the same code
 * runs in the hypervisor and in the threaded host tests.
 */
#ifndef HV_SPINLOCK_H
#define HV_SPINLOCK_H

#include "hv/compiler.h"

typedef struct { volatile int locked; } spinlock_t;

#define SPINLOCK_INIT { 0 }

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause" ::: "memory");
#endif
}

static inline void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			cpu_relax();
}

static inline int spin_trylock(spinlock_t *l)
{
	return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
