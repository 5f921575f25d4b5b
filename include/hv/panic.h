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
#endif
