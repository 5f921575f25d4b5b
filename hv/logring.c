/* The log ring (hv/logring.h). */
#include "hv/logring.h"
#include "hv/compiler.h"
#include "hv/string.h"

static uint32_t count_newlines(const char *p, size_t n)
{
	uint32_t k = 0;

	while (n--)
		k += *p++ == '\n';
	return k;
}

void logring_write(struct logring *r, const char *s, size_t n)
{
	uint32_t mask = r->size - 1;

	if (n >= r->size) {
		/* Everything held goes, and the start of s: count their lines,
		 * then keep the last size bytes of s. */
		for (uint64_t p = logring_tail(r); p < r->head; p++)
			r->lines_dropped += r->buf[p & mask] == '\n';
		r->lines_dropped += count_newlines(s, n - r->size);
		r->head += n - r->size;
		s += n - r->size;
		n = r->size;
		for (size_t i = 0; i < n; i++)
			r->buf[(r->head + i) & mask] = s[i];
		r->head += n;
		return;
	}
	while (n) {
		uint32_t off = (uint32_t)(r->head & mask);
		size_t chunk = MIN(n, (size_t)(r->size - off));

		if (r->head >= r->size)         /* these bytes overwrite the oldest */
			r->lines_dropped += count_newlines(r->buf + off, chunk);
		memcpy(r->buf + off, s, chunk);
		r->head += chunk;
		s += chunk;
		n -= chunk;
	}
}

uint64_t logring_tail(const struct logring *r)
{
	return r->head > r->size ? r->head - r->size : 0;
}

size_t logring_read(const struct logring *r, uint64_t pos, char *dst, size_t size,
		    uint64_t *next, uint64_t *dropped)
{
	uint64_t tail = logring_tail(r), start = pos < tail ? tail : pos;
	uint32_t mask = r->size - 1;
	size_t n, done = 0;

	*dropped = start - pos;
	if (start >= r->head) {
		*next = start;
		return 0;
	}
	n = (size_t)MIN((uint64_t)size, r->head - start);
	while (done < n) {
		uint32_t off = (uint32_t)((start + done) & mask);
		size_t chunk = MIN(n - done, (size_t)(r->size - off));

		memcpy(dst + done, r->buf + off, chunk);
		done += chunk;
	}
	*next = start + n;
	return n;
}
