/* printk: one formatted line, with CPU prefix, written whole. */
#include <stdarg.h>
#include "hv/printk.h"
#include "hv/console.h"
#include "hv/smp.h"

int log_level = LOG_INFO;

static const char *const level_tag[] = {
	[LOG_ERR] = "error: ", [LOG_WARN] = "warning: ",
	[LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
};

void vprintk(int level, const char *fmt, va_list ap)
{
	char line[512];
	int n;

	if (level > log_level)
		return;
	n = snprintf(line, sizeof(line), "[cpu%u] %s", smp_processor_id(),
		     level < 0 ? "" : level_tag[level > LOG_DEBUG ? LOG_DEBUG : level]);
	n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;       /* truncated: still end the line */
	if (line[n - 1] != '\n')
		line[n++] = '\n';
	console_write(line, n);
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}
