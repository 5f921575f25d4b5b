/*
 * The log ring: every byte the hypervisor logged, from the first line on,
 * in a fixed-size buffer. When it is full the oldest bytes are overwritten
 * and counted. Positions are bytes since boot, so a reader can say where
 * it stopped and learn what it missed (the debug console's dmesg, the
 * root's HC_LOG_READ). Not locked: the console lock serialises every use.
 */
#ifndef HV_LOGRING_H
#define HV_LOGRING_H

#include "hv/types.h"

#define LOG_RING_SIZE   (64 * 1024)     /* the hypervisor's ring (hv/console.c) */

struct logring {
	char *buf;
	uint32_t size;                  /* a power of two */
	uint64_t head;                  /* bytes written since boot */
	uint64_t lines_dropped;         /* line ends overwritten */
};

#define LOGRING_INIT(b) { .buf = (b), .size = sizeof(b) }

/* Append s[0..n); beyond the size, the oldest bytes go. */
void logring_write(struct logring *r, const char *s, size_t n);
/* The oldest position still held (0 until the ring first wraps). */
uint64_t logring_tail(const struct logring *r);
/*
 * Copy up to size bytes from position pos on into dst. Bytes before the
 * tail are gone: the copy starts at the tail and *dropped says how many
 * were skipped. *next is the position after the last byte copied (pos
 * itself past the head: nothing is there yet). Returns the bytes copied.
 */
size_t logring_read(const struct logring *r, uint64_t pos, char *dst, size_t size,
		    uint64_t *next, uint64_t *dropped);

#endif
