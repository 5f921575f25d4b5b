/* panic(): the one way the hypervisor gives up. */
#include <stdarg.h>
#include "hv/panic.h"
#include "hv/arch.h"
#include "hv/console.h"
#include "hv/notifier.h"
#include "hv/printk.h"
#include "hv/smp.h"
#include <x86/exit_codes.h>

static volatile int panicking = -1;

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
	/* Turn virtualization off everywhere before the machine stops. */
	notifier_call_chain(&panic_notifiers, 0, NULL);
	printk(LOG_ERR, "system halted\n");
	arch_exit(HV_EXIT_PANIC);
}
