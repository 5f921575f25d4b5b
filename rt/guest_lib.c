/* Runtime for root partition programs (rt/guest.h). */
#include "guest.h"

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

struct out { char *buf; size_t size, len; };

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct out *o, uint64_t v, int base, int width, char pad, bool neg)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[i++] = '-';
	while (i < width--)
		put(o, pad);
	while (i)
		put(o, tmp[--i]);
}

int gvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		char pad = ' ';
		int width = 0, lng = 0;

		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			lng++, fmt++;
		switch (*fmt) {
		case 'd': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);

			put_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, width, pad, v < 0);
			break;
		}
		case 'u':
			put_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int), 10,
				width, pad, false);
			break;
		case 'x':
			put_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int), 16,
				width, pad, false);
			break;
		case 's':
			for (const char *s = va_arg(ap, const char *); s && *s; s++)
				put(&o, *s);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		default:
			put(&o, *fmt);
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int gsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = gvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void gprintf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	gvsnprintf(buf, sizeof(buf), fmt, ap);
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
