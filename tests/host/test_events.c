/* The events stage: deferred work (queue, cancel, run) and the IRQ-line
 * routing HC_IRQ_LINE goes through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include "hv/errno.h"
#include "hv/events.h"
#include "hv/kmalloc.h"
#include "hv/page_alloc.h"
#include "hv/slab.h"

#define RAM (4u << 20)

static int ran;

static void count(struct work *w)
{
	ran++;
}

static int setup(void **state)
{
	static void *ram;

	page_alloc_reset();
	slab_reset();
	if (!ram)
		ram = aligned_alloc(4u << 20, RAM);
	assert_int_equal(page_alloc_add_range((uint64_t)ram, RAM), 0);
	assert_int_equal(kmalloc_init(), 0);
	ran = 0;
	return 0;
}

static void routing(void **state)
{
	assert_int_equal(events_irq_pin(4), -EAGAIN);   /* the stage is not up */
	assert_int_equal(events_init(), 0);
	for (unsigned int l = 0; l < EVENTS_IRQ_LINES; l++)
		assert_int_equal(events_irq_pin(l), (int)l);
	assert_int_equal(events_irq_pin(EVENTS_IRQ_LINES), -EINVAL);
	assert_int_equal(events_irq_pin(~0u), -EINVAL);
	events_exit();
	assert_int_equal(events_irq_pin(0), -EAGAIN);
}

static void queue_cancel_run(void **state)
{
	struct work a = { .fn = count }, b = { .fn = count }, c = { .fn = count };

	assert_int_equal(events_queue(&a), -EAGAIN);
	assert_int_equal(events_init(), 0);
	assert_int_equal(events_queue(&a), 0);
	assert_int_equal(events_queue(&a), 0);          /* twice: once */
	assert_int_equal(events_queue(&b), 0);
	assert_int_equal(events_queue(&c), 0);
	assert_true(events_cancel(&c));                 /* the tail */
	assert_false(events_cancel(&c));
	assert_true(events_cancel(&a));                 /* the head */
	assert_int_equal(events_queue(&c), 0);          /* the tail pointer still right */
	assert_int_equal(events_run(), 2);
	assert_int_equal(ran, 2);
	assert_int_equal(events_run(), 0);
	events_exit();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(routing, setup),
		cmocka_unit_test_setup(queue_cancel_run, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
