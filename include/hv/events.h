/*
 * Deferred work (the irqfd/eventfd analogue): work items queued from any
 * CPU, run later by events_run() on a CPU outside any lock, e.g. VM
 * teardown queued from an exit handler.
 */
#ifndef HV_EVENTS_H
#define HV_EVENTS_H

#include "hv/types.h"

struct work {
	void (*fn)(struct work *w);
	struct work *next;
	bool queued;
};

int events_init(void);
/* Runs what is still queued, then frees the queue. */
void events_exit(void);
/* -EAGAIN if the queue is not initialised; queuing twice is a no-op. */
int events_queue(struct work *w);
/* Run every queued item; returns how many ran. */
unsigned int events_run(void);

#endif
