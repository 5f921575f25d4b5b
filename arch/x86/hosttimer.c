/* Each CPU's local APIC timer, shared (x86/hosttimer.h). */
#include <x86/apic.h>
#include <x86/cpu.h>
#include <x86/hosttimer.h>
#include <x86/percpu.h>
#include <x86/trap.h>
#include <x86/tsc.h>
#include "hv/config.h"
#include "hv/irqflags.h"
#include "hv/smp.h"

static void program(void)
{
	struct hosttimer_cpu *t = &this_cpu()->timer;
	uint64_t when = t->deadline, now = rdtsc();

	if (t->period && (!when || t->next_tick < when))
		when = t->next_tick;
	if (when == t->armed)
		return;
	t->armed = when;
	if (!when)
		apic_timer_stop();
	else
		apic_timer_oneshot(VEC_TIMER, when > now ? when - now : 1);
}

static bool timer_irq(struct trap_frame *tf)
{
	struct hosttimer_cpu *t = &this_cpu()->timer;
	uint64_t now = rdtsc();

	apic_eoi();
	t->armed = 0;
	if (t->deadline && now >= t->deadline)
		t->deadline = 0;        /* the waiter looks at the time itself */
	if (t->period && now >= t->next_tick)
		t->next_tick = now + t->period;
	program();
	return true;
}

void hosttimer_tick(uint64_t period_us)
{
	unsigned long f = local_irq_save();
	struct hosttimer_cpu *t = &this_cpu()->timer;

	trap_register(VEC_TIMER, timer_irq);
	t->period = period_us * tsc_khz() / 1000;
	t->next_tick = rdtsc() + t->period;
	program();
	local_irq_restore(f);
}

void hosttimer_set_deadline(uint64_t deadline)
{
	unsigned long f = local_irq_save();
	struct hosttimer_cpu *t = &this_cpu()->timer;

	/* Nothing else changes what program() would choose: the interrupt
	 * and the tick reprogram themselves. */
	if (deadline != t->deadline) {
		trap_register(VEC_TIMER, timer_irq);
		t->deadline = deadline;
		program();
	}
	local_irq_restore(f);
}
