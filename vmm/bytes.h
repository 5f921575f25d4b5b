/*
 * Little-endian fields of boot images and boot structures, read and
 * written byte-wise (no alignment assumed), and a string length: what the
 * loaders (bzimage.c, multiboot.c) share. They build freestanding for the
 * root partition and with libc for the host tests.
 */
#ifndef VMM_BYTES_H
#define VMM_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* The VMM runtime provides these (and the host's libc does). */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

static inline uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static inline size_t vmm_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

#endif
