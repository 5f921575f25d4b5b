/*
 * Host stand-in for the log ring half of hv/console.c, which the hypercall
 * layer (HC_LOG_READ, HV_CAP_LOG) reads: a small real ring that a test
 * fills with logring_write(&host_logring, ...).
 */
#include "hv/console.h"
#include "hv/logring.h"
#include "host_console_stubs.h"

static char ring_buf[8192];
struct logring host_logring = LOGRING_INIT(ring_buf);

size_t console_log_read(uint64_t pos, char *dst, size_t size, uint64_t *next,
			uint64_t *dropped)
{
	return logring_read(&host_logring, pos, dst, size, next, dropped);
}

uint64_t console_log_size(void)
{
	return host_logring.size;
}

uint64_t console_log_head(void)
{
	return host_logring.head;
}

uint64_t console_log_lines_dropped(void)
{
	return host_logring.lines_dropped;
}
