/* panic(): the one way the hypervisor gives up. */
#include <stdarg.h>
#include "hv/panic.h"
#include "hv/arch.h"
#include "hv/console.h"
#include "hv/notifier.h"
#include "hv/options.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include "hv/config.h"
#include <x86/exit_codes.h>

static volatile int panicking = -1;
int (*panic_cpu_hook)(void);
/* What each CPU's hardware read back after its emergency hook: 0 off, 1
 * on, -1 inconsistent; PANIC_HW_UNKNOWN until that CPU has reported, so a
 * CPU that never stopped counts as unknown, never as off. */
#define PANIC_HW_UNKNOWN (-100)
static int cpu_state_after[NR_CPUS] = { [0 ... NR_CPUS - 1] = PANIC_HW_UNKNOWN };
static int cpus_stopped;
static bool panic_halt;

CMDLINE_OPTION(panic_halt, "panic_halt", cmdline_handle_bool, &panic_halt,
	       "test: after a panic halt every CPU instead of ending the run (for a monitor to inspect)");

static void run_hook(void)
{
	int (*hook)(void) = panic_cpu_hook;

	__atomic_store_n(&cpu_state_after[smp_processor_id()], hook ? hook() : 0, __ATOMIC_SEQ_CST);
}

void panic_stop_this_cpu(void)
{
	run_hook();
	__atomic_fetch_add(&cpus_stopped, 1, __ATOMIC_SEQ_CST);
	arch_halt();
}

/* Wait (bounded) for the other CPUs to stop, then say what the hardware of
 * each CPU that reported reads back; a CPU that did not report is counted
 * apart, never as off. */
static void report_others(void)
{
	unsigned int others = smp_num_online() - 1, cpu, on = 0, off = 0, unknown = 0;

	for (uint64_t spin = 0; spin < 200000000ULL &&
	     __atomic_load_n(&cpus_stopped, __ATOMIC_SEQ_CST) < (int)others; spin++)
		__asm__ __volatile__("pause");
	for_each_cpu(cpu, &cpu_online_mask) {
		int st = __atomic_load_n(&cpu_state_after[cpu], __ATOMIC_SEQ_CST);

		if (st == PANIC_HW_UNKNOWN)
			unknown++;
		else if (st == 0)
			off++;
		else
			on++;
	}
	if (panic_cpu_hook)
		printk(LOG_ERR, "panic: %d of %u other CPUs stopped; virtualization still on in %u CPUs, off in %u, unknown in %u\n",
		       __atomic_load_n(&cpus_stopped, __ATOMIC_SEQ_CST), others, on, off, unknown);
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
	if (panic_halt)
		arch_halt();
	arch_exit(HV_EXIT_PANIC);
}
