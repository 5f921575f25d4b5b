/* Host implementations of printk, panic, err_trace and smp_processor_id. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "hv/printk.h"
#include "hv/panic.h"
#include "hv/errno.h"
#include "hv/smp.h"
#include "host_stubs.h"

char host_log[65536];
static size_t host_log_len;
static pthread_mutex_t host_log_lock = PTHREAD_MUTEX_INITIALIZER;
jmp_buf host_panic_jmp;
volatile bool host_panic_armed;
char host_panic_msg[1024];
__thread unsigned int host_cpu_id;
int log_level = LOG_DEBUG;

void host_log_clear(void)
{
	pthread_mutex_lock(&host_log_lock);
	host_log_len = 0;
	host_log[0] = '\0';
	pthread_mutex_unlock(&host_log_lock);
}

bool host_log_contains(const char *needle)
{
	return strstr(host_log, needle) != NULL;
}

void vprintk(int level, const char *fmt, va_list ap)
{
	char line[1024];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (n < 0)
		return;
	if (getenv("HV_TEST_VERBOSE"))
		fprintf(stderr, "[log%d] %s", level, line);
	pthread_mutex_lock(&host_log_lock);
	size_t len = strlen(line);
	if (host_log_len + len + 2 < sizeof(host_log)) {
		memcpy(host_log + host_log_len, line, len);
		host_log_len += len;
		if (len == 0 || line[len - 1] != '\n')
			host_log[host_log_len++] = '\n';
		host_log[host_log_len] = '\0';
	}
	pthread_mutex_unlock(&host_log_lock);
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(host_panic_msg, sizeof(host_panic_msg), fmt, ap);
	va_end(ap);
	printk(LOG_ERR, "PANIC: %s\n", host_panic_msg);
	if (host_panic_armed) {
		host_panic_armed = false;
		longjmp(host_panic_jmp, 1);
	}
	fprintf(stderr, "unexpected panic: %s\n", host_panic_msg);
	abort();
}

int err_trace(int err, const char *file, int line)
{
	(void)file;
	(void)line;
	return err;
}

unsigned int smp_processor_id(void)
{
	return host_cpu_id;
}
