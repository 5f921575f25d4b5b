/* Runtime for root partition programs (rt/guest.h). */
#include "guest.h"
#include "lib/format.h"

static bool intel;

void guest_init(void)
{
	uint32_t a, b, c, d;

	cpuid(0, &a, &b, &c, &d);
	intel = b == 0x756e6547;        /* "Genu" */
}

bool guest_is_intel(void)
{
	return intel;
}

int64_t hcall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	int64_t ret;

	if (intel)
		__asm__ __volatile__("vmcall" : "=a"(ret)
				     : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3) : "memory");
	else
		__asm__ __volatile__("vmmcall" : "=a"(ret)
				     : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3) : "memory");
	return ret;
}

/* REP STOSB / MOVSB: one instruction per call, fast on every x86 (and
 * under emulators, which run them as a loop of their own). */
void *gmemset(void *d, int c, size_t n)
{
	void *p = d;

	__asm__ __volatile__("rep stosb" : "+D"(p), "+c"(n) : "a"(c) : "memory");
	return d;
}

void *gmemcpy(void *d, const void *s, size_t n)
{
	void *p = d;

	__asm__ __volatile__("rep movsb" : "+D"(p), "+S"(s), "+c"(n) :: "memory");
	return d;
}

void *gmemmove(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;

	if (p <= q || p >= q + n)
		return gmemcpy(d, s, n);
	while (n--)
		p[n] = q[n];
	return d;
}

int gmemcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

/* The compiler may emit calls to these. */
void *memset(void *d, int c, size_t n) __attribute__((alias("gmemset")));
void *memcpy(void *d, const void *s, size_t n) __attribute__((alias("gmemcpy")));
void *memmove(void *d, const void *s, size_t n) __attribute__((alias("gmemmove")));
int memcmp(const void *a, const void *b, size_t n) __attribute__((alias("gmemcmp")));

static void serial_putc(char c)
{
	for (int i = 0; i < 100000 && !(inb(0x3f8 + 5) & 0x20); i++)
		;
	outb(0x3f8, (uint8_t)c);
}

void gputs(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s);
	}
}

void gprintf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	gputs(buf);
}

void guest_exit(bool pass)
{
	outb(0xf4, pass ? 0x10 : 0x11);
	for (const char *s = "Shutdown"; *s; s++)
		outb(0x8900, (uint8_t)*s);
	for (;;)
		__asm__ __volatile__("hlt");
}

static size_t length(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

/* Where `key` stands at the start of a word of s, followed by `end`. */
static const char *find_word(const char *s, const char *key, char end)
{
	size_t n = length(key);

	for (const char *p = s; *p; p++)
		if ((p == s || p[-1] == ' ') && !gmemcmp(p, key, n) &&
		    (p[n] == end || (end == ' ' && !p[n])))
			return p + n;
	return NULL;
}

bool has_word(const char *s, const char *word)
{
	return find_word(s, word, ' ') != NULL;
}

uint64_t option_value(const char *s, const char *key, uint64_t def)
{
	const char *p = find_word(s, key, '=');
	uint64_t v = 0;

	if (!p)
		return def;
	for (p++; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return v ? v : def;
}

uint64_t guest_tsc_khz(const struct hv_root_info *info)
{
	const uint16_t latch = 11932;           /* 1193182 Hz / 100: 10 ms */
	uint64_t t0, t1;

	if (info->api_version >= 2 && info->tsc_khz)
		return info->tsc_khz;
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0);
	outb(0x42, latch & 0xff);
	outb(0x42, latch >> 8);
	t0 = rdtsc();
	while (!(inb(0x61) & 0x20) && rdtsc() - t0 < (1ULL << 36))
		;
	t1 = rdtsc();
	return (t1 - t0) / 10 ? (t1 - t0) / 10 : 1000000;
}
