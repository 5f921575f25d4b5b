/*
 * The events stage (kvm_irqfd_init's place): interrupt routing — which
 * IOAPIC pin an IRQ line the root raises (HC_IRQ_LINE) drives — and
 * deferred work: items queued from any CPU, run later by events_run()
 * outside any lock (the async stage's items: a TLB shootdown to retry and
 * the page tables it frees).
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
/* Take an item off the queue if it is there (it will not run). */
bool events_cancel(struct work *w);
/* Run every queued item; returns how many ran. */
unsigned int events_run(void);

/* IRQ lines (GSIs) as the root numbers them (HC_IRQ_LINE), and the IOAPIC
 * pin each drives: GSI n is pin n, KVM's default routing (which ISA IRQ is
 * which GSI is the guest's firmware tables' business: the VMM's MP table).
 * -EINVAL: no such line; -EAGAIN: the events stage is not up. */
#define EVENTS_IRQ_LINES 24
int events_irq_pin(unsigned int line);

#endif
