/*
 * Kernel log. Each call emits whole lines, prefixed with the CPU number, and
 * lines from different CPUs never interleave (the line is formatted into a
 * buffer first and written under the console lock).
 */
#ifndef HV_PRINTK_H
#define HV_PRINTK_H

#include <stdarg.h>
#include "hv/compiler.h"
#include "hv/types.h"

enum log_level {
	LOG_ALWAYS = -1,        /* whatever loglevel= says (test verdicts) */
	LOG_ERR   = 0,
	LOG_WARN  = 1,
	LOG_INFO  = 2,
	LOG_DEBUG = 3,
};

extern int log_level;

__printf(2, 3) void printk(int level, const char *fmt, ...);
void vprintk(int level, const char *fmt, va_list ap);

#include "lib/format.h"                /* snprintf, vsnprintf */

#define pr_err(...)   printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) printk(LOG_DEBUG, __VA_ARGS__)

#endif
