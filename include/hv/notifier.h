/*
 * Notifier chains: ordered lists of callbacks for an event (a CPU going
 * online or offline, reboot, panic, suspend). Higher priority runs first.
 */
#ifndef HV_NOTIFIER_H
#define HV_NOTIFIER_H

#include "hv/spinlock.h"
#include "hv/types.h"

struct notifier_block {
	/* Return 0, or a negative error to stop the chain (notifier_call_chain
	 * returns it). */
	int (*call)(struct notifier_block *nb, unsigned long action, void *data);
	int priority;
	struct notifier_block *next;
};

struct notifier_chain {
	spinlock_t lock;
	struct notifier_block *head;
};

#define NOTIFIER_CHAIN_INIT { SPINLOCK_INIT, NULL }

/* -EEXIST if nb is already registered on this chain. */
int notifier_register(struct notifier_chain *c, struct notifier_block *nb);
/* -ENOENT if nb is not on this chain. */
int notifier_unregister(struct notifier_chain *c, struct notifier_block *nb);
/* Call each block in order; stop at and return the first error. Callbacks
 * run without the chain lock, so they may take other locks; chains change
 * only at init and teardown, never concurrently with a call. */
int notifier_call_chain(struct notifier_chain *c, unsigned long action, void *data);

/* The system-wide chains. */
extern struct notifier_chain panic_notifiers;
extern struct notifier_chain reboot_notifiers;

#endif
