/* panic(): the one way the hypervisor gives up. */
#include <stdarg.h>
#include "hv/panic.h"
#include "hv/arch.h"
#include "hv/console.h"
#include "hv/notifier.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/config.h"
#include <x86/exit_codes.h>

static volatile int panicking = -1;
int (*panic_cpu_hook)(void);
static int cpu_state_after[NR_CPUS];
static int cpus_stopped;

static void run_hook(void)
{
	int (*hook)(void) = panic_cpu_hook;

	cpu_state_after[smp_processor_id()] = hook ? hook() : 0;
}

void panic_stop_this_cpu(void)
{
	run_hook();
	__atomic_fetch_add(&cpus_stopped, 1, __ATOMIC_SEQ_CST);
	arch_halt();
}

/* Wait (bounded) for the other CPUs to stop, then say what their
 * virtualization hardware reads back. */
static void report_others(void)
{
	unsigned int others = smp_num_online() - 1, cpu, still_on = 0;

	for (uint64_t spin = 0; spin < 200000000ULL &&
	     __atomic_load_n(&cpus_stopped, __ATOMIC_SEQ_CST) < (int)others; spin++)
		__asm__ __volatile__("pause");
	for_each_cpu(cpu, &cpu_online_mask)
		still_on += cpu_state_after[cpu] != 0;
	if (panic_cpu_hook)
		printk(LOG_ERR, "panic: %d of %u other CPUs stopped; virtualization still on in %u CPUs\n",
		       __atomic_load_n(&cpus_stopped, __ATOMIC_SEQ_CST), others, still_on);
}

bool panic_in_progress(void)
{
	return panicking >= 0;
}

void panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int me = (int)smp_processor_id();
	int expected = -1;

	/* Only the first CPU to panic reports; a second one just stops. */
	if (!__atomic_compare_exchange_n(&panicking, &expected, me, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) &&
	    expected != me)
		arch_halt();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	arch_stop_other_cpus();
	console_force_unlock();
	printk(LOG_ERR, "PANIC: %s\n", msg);
	arch_backtrace(0);
	/* Virtualization off here; the other CPUs do the same from their NMI. */
	run_hook();
	report_others();
	notifier_call_chain(&panic_notifiers, 0, NULL);
	printk(LOG_ERR, "system halted\n");
	arch_exit(HV_EXIT_PANIC);
}
