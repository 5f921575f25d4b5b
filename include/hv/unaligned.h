/* Reads of little-endian fields at any alignment (firmware tables, boot
 * information): memcpy keeps them free of alignment UB. */
#ifndef HV_UNALIGNED_H
#define HV_UNALIGNED_H

#include "hv/string.h"
#include "hv/types.h"

static inline uint16_t get_le16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

#endif
