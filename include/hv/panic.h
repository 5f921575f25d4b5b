/* Fatal errors: print, stop every other CPU, backtrace, halt. Never returns. */
#ifndef HV_PANIC_H
#define HV_PANIC_H

#include "hv/compiler.h"

__printf(1, 2) __noreturn void panic(const char *fmt, ...);

#define BUG_ON(c) \
	do { if (unlikely(c)) panic("BUG: %s at %s:%d", #c, __FILE__, __LINE__); } while (0)

#endif

#ifndef HV_PANIC_IN_PROGRESS
#define HV_PANIC_IN_PROGRESS
#include <stdbool.h>
/* True once some CPU has called panic(). */
bool panic_in_progress(void);

/*
 * Run on every CPU when one panics, before it halts: turns virtualization
 * off (VMCLEAR + VMXOFF, or EFER.SVME clear) and returns the hardware state
 * read back afterwards (1 on, 0 off). Set by the staged init.
 */
extern int (*panic_cpu_hook)(void);
/* The NMI handler's part: run the hook, report, halt this CPU. */
__noreturn void panic_stop_this_cpu(void);
#endif
