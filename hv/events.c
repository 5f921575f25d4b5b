/* Deferred work queue (hv/events.h). */
#include "hv/events.h"
#include "hv/errno.h"
#include "hv/kmalloc.h"
#include "hv/spinlock.h"

struct event_queue {
	spinlock_t lock;
	struct work *head, **tail;
	uint64_t queued, ran;
	uint8_t pin_of_line[EVENTS_IRQ_LINES];
};

static struct event_queue *queue;

int events_init(void)
{
	struct event_queue *q = kzalloc(sizeof(*q));

	if (!q)
		return ERR(-ENOMEM);
	q->tail = &q->head;
	for (unsigned int l = 0; l < EVENTS_IRQ_LINES; l++)
		q->pin_of_line[l] = (uint8_t)l;        /* GSI n is pin n, as KVM's default */
	queue = q;
	return 0;
}

int events_irq_pin(unsigned int line)
{
	struct event_queue *q = __atomic_load_n(&queue, __ATOMIC_ACQUIRE);

	if (!q)
		return -EAGAIN;
	return line < EVENTS_IRQ_LINES ? q->pin_of_line[line] : -EINVAL;
}

void events_exit(void)
{
	events_run();
	kfree(queue);
	queue = NULL;
}

int events_queue(struct work *w)
{
	struct event_queue *q = queue;

	if (!q)
		return ERR(-EAGAIN);
	spin_lock(&q->lock);
	if (!w->queued) {
		w->queued = true;
		w->next = NULL;
		*q->tail = w;
		q->tail = &w->next;
		q->queued++;
	}
	spin_unlock(&q->lock);
	return 0;
}

bool events_cancel(struct work *w)
{
	struct event_queue *q = queue;
	bool found = false;

	if (!q)
		return false;
	spin_lock(&q->lock);
	for (struct work **pp = &q->head; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			if (q->tail == &w->next)
				q->tail = pp;
			w->queued = false;
			found = true;
			break;
		}
	spin_unlock(&q->lock);
	return found;
}

unsigned int events_run(void)
{
	struct event_queue *q = queue;
	struct work *list;
	unsigned int n = 0;

	if (!q)
		return 0;
	spin_lock(&q->lock);
	list = q->head;
	q->head = NULL;
	q->tail = &q->head;
	spin_unlock(&q->lock);
	while (list) {
		struct work *w = list;

		list = w->next;
		w->queued = false;
		w->fn(w);
		n++;
	}
	__atomic_fetch_add(&q->ran, n, __ATOMIC_RELAXED);
	return n;
}
