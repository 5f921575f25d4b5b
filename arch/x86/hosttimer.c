/* Each CPU's local APIC timer, shared (x86/hosttimer.h). */
#include <x86/apic.h>
#include <x86/cpu.h>
#include <x86/hosttimer.h>
#include <x86/trap.h>
#include <x86/tsc.h>
#include "hv/config.h"
#include "hv/irqflags.h"
#include "hv/smp.h"

static struct {
	uint64_t period;                /* TSC cycles, 0: no tick */
	uint64_t next_tick;
	uint64_t deadline;              /* 0: none */
	uint64_t armed;                 /* what the timer is set for, 0: stopped */
} timers[NR_CPUS];

static void program(void)
{
	unsigned int cpu = smp_processor_id();
	uint64_t when = timers[cpu].deadline, now = rdtsc();

	if (timers[cpu].period && (!when || timers[cpu].next_tick < when))
		when = timers[cpu].next_tick;
	if (when == timers[cpu].armed)
		return;
	timers[cpu].armed = when;
	if (!when)
		apic_timer_stop();
	else
		apic_timer_oneshot(VEC_TIMER, when > now ? when - now : 1);
}

static bool timer_irq(struct trap_frame *tf)
{
	unsigned int cpu = smp_processor_id();
	uint64_t now = rdtsc();

	apic_eoi();
	timers[cpu].armed = 0;
	if (timers[cpu].deadline && now >= timers[cpu].deadline)
		timers[cpu].deadline = 0;       /* the waiter looks at the time itself */
	if (timers[cpu].period && now >= timers[cpu].next_tick)
		timers[cpu].next_tick = now + timers[cpu].period;
	program();
	return true;
}

void hosttimer_tick(uint64_t period_us)
{
	unsigned long f = local_irq_save();
	unsigned int cpu = smp_processor_id();

	trap_register(VEC_TIMER, timer_irq);
	timers[cpu].period = period_us * tsc_khz() / 1000;
	timers[cpu].next_tick = rdtsc() + timers[cpu].period;
	program();
	local_irq_restore(f);
}

void hosttimer_set_deadline(uint64_t deadline)
{
	unsigned long f = local_irq_save();

	trap_register(VEC_TIMER, timer_irq);
	timers[smp_processor_id()].deadline = deadline;
	program();
	local_irq_restore(f);
}
