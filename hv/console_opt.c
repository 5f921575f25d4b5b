/* console= and device address checks (hv/console_opt.h). */
#include "hv/console_opt.h"
#include "hv/errno.h"
#include "hv/printk.h"
#include "hv/string.h"
#include "hv/uart.h"

static bool tok_is(const char *t, size_t n, const char *word)
{
	return n == strlen(word) && !strncmp(t, word, n);
}

static int hexdig(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A number: 0x hex or decimal, all of t[0..n), at most max. */
static bool number(const char *t, size_t n, uint64_t max, uint64_t *out)
{
	bool hex = n > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
	uint64_t v = 0, base = hex ? 16 : 10;
	size_t i = hex ? 2 : 0;

	if (i == n)
		return false;
	for (; i < n; i++) {
		int d = hexdig(t[i]);

		if (d < 0 || (uint64_t)d >= base || (uint64_t)d > max ||
		    v > (max - (uint64_t)d) / base)
			return false;
		v = v * base + (uint64_t)d;
	}
	*out = v;
	return true;
}

/* Hex digits t[0..n), at most max. */
static bool hexnum(const char *t, size_t n, unsigned int max, unsigned int *out)
{
	unsigned int v = 0;

	if (!n || n > 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d = hexdig(t[i]);

		if (d < 0)
			return false;
		v = v * 16 + (unsigned int)d;
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static const char *find(const char *t, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] == c)
			return t + i;
	return NULL;
}

/* "BB:DD.F" or "BB:DD.F/N". */
static bool parse_bdf(const char *t, size_t n, struct console_item *it)
{
	const char *colon = find(t, n, ':'), *dot, *slash, *end = t + n;
	unsigned int b, d, f, idx = 0;

	if (!colon)
		return false;
	dot = find(colon, (size_t)(end - colon), '.');
	if (!dot)
		return false;
	slash = find(dot, (size_t)(end - dot), '/');
	if (slash) {
		uint64_t v;

		if (!number(slash + 1, (size_t)(end - slash - 1), 7, &v))
			return false;
		idx = (unsigned int)v;
		end = slash;
	}
	if (!hexnum(t, (size_t)(colon - t), 0xff, &b) ||
	    !hexnum(colon + 1, (size_t)(dot - colon - 1), 0x1f, &d) ||
	    !hexnum(dot + 1, (size_t)(end - dot - 1), 7, &f))
		return false;
	it->bdf = (uint16_t)(b << 8 | d << 3 | f);
	it->index = (uint8_t)idx;
	return true;
}

static size_t toklen(const char *s)
{
	size_t n = 0;

	while (s[n] && s[n] != '+' && s[n] != ',')
		n++;
	return n;
}

int console_spec_parse(const char *s, struct console_spec *spec, char *why, size_t whylen)
{
	static const struct { const char *name; enum console_item_kind kind; uint16_t port; } words[] = {
		{ "auto", CON_AUTO, 0 }, { "spcr", CON_SPCR, 0 }, { "pci", CON_PCI, 0 },
		{ "vga", CON_VGA, 0 }, { "fb", CON_FB, 0 },
		{ "com1", CON_PORT, COM1_PORT }, { "com2", CON_PORT, COM2_PORT },
		{ "com3", CON_PORT, COM3_PORT }, { "com4", CON_PORT, COM4_PORT },
	};
	struct console_spec out = { 0 };

	if (why && whylen)
		why[0] = '\0';
	if (!s || !*s) {
		snprintf(why, whylen, "empty");
		return -EINVAL;
	}
	while (*s) {
		size_t n = toklen(s);
		struct console_item it = { 0 };
		bool known = false;
		uint64_t v;

		if (!n) {
			snprintf(why, whylen, "empty item");
			return -EINVAL;
		}
		for (size_t i = 0; i < ARRAY_SIZE(words); i++)
			if (tok_is(s, n, words[i].name)) {
				it.kind = words[i].kind;
				it.addr = words[i].port;
				known = true;
			}
		if (tok_is(s, n, "e9")) {
			out.e9 = true;
			goto next;
		}
		if (!known && n > 4 && !strncmp(s, "pci@", 4)) {
			if (!parse_bdf(s + 4, n - 4, &it)) {
				snprintf(why, whylen, "'%.*s': not pci@BB:DD.F[/N] (hex bus, device, function)",
					 (int)n, s);
				return -EINVAL;
			}
			it.kind = CON_PCI_AT;
			known = true;
		}
		if (!known && tok_is(s, n, "mmio")) {
			const char *a = s + n + !!s[n];
			size_t an = toklen(a);

			if (!s[n] || !number(a, an, UINT64_MAX, &v) || !v) {
				snprintf(why, whylen, "mmio needs an address: mmio,0xADDR[,WIDTH]");
				return -EINVAL;
			}
			it.kind = CON_MMIO;
			it.addr = v;
			it.width = 1;
			s = a;
			n = an;
			if (s[n]) {             /* an optional width */
				const char *w = s + n + 1;
				size_t wn = toklen(w);

				if (number(w, wn, 64, &v) && wn <= 2) {
					switch (v) {
					case 1: case 8: it.width = 1; break;
					case 2: case 16: it.width = 2; break;
					case 4: case 32: it.width = 4; break;
					default:
						snprintf(why, whylen, "mmio width %.*s: 8, 16 or 32 bits",
							 (int)wn, w);
						return -EINVAL;
					}
					s = w;
					n = wn;
				}
			}
			known = true;
		}
		if (!known && n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
			if (!number(s, n, 0xffff, &v) || !v || v > 0xffff - (UART_REGS - 1)) {
				snprintf(why, whylen, "'%.*s': an I/O port is 0x1-0xfff8", (int)n, s);
				return -EINVAL;
			}
			it.kind = CON_PORT;
			it.addr = v;
			known = true;
		}
		if (!known) {
			snprintf(why, whylen, "'%.*s': unknown console (auto, spcr, com1-com4, 0xPORT, "
				 "pci, pci@BB:DD.F, mmio,ADDR[,WIDTH], vga, fb, e9)", (int)n, s);
			return -EINVAL;
		}
		if (out.n == CONSOLE_SPEC_MAX) {
			snprintf(why, whylen, "more than %u consoles", CONSOLE_SPEC_MAX);
			return -EINVAL;
		}
		out.item[out.n++] = it;
next:
		if (s[n] && !s[n + 1]) {        /* "com1+": a separator and nothing */
			snprintf(why, whylen, "empty item");
			return -EINVAL;
		}
		s += n + !!s[n];
	}
	if (!out.n)                     /* just "e9": the default consoles, mirrored */
		out.item[out.n++] = (struct console_item){ .kind = CON_AUTO };
	*spec = out;
	return 0;
}

void console_item_str(const struct console_item *it, char *buf, size_t size)
{
	switch (it->kind) {
	case CON_AUTO: snprintf(buf, size, "auto"); break;
	case CON_SPCR: snprintf(buf, size, "spcr"); break;
	case CON_PORT: snprintf(buf, size, "0x%llx", (unsigned long long)it->addr); break;
	case CON_PCI: snprintf(buf, size, "pci"); break;
	case CON_PCI_AT:
		snprintf(buf, size, "pci@%02x:%02x.%x/%u", it->bdf >> 8, (it->bdf >> 3) & 0x1f,
			 it->bdf & 7, it->index);
		break;
	case CON_MMIO:
		snprintf(buf, size, "mmio,0x%llx,%u", (unsigned long long)it->addr, it->width * 8);
		break;
	case CON_VGA: snprintf(buf, size, "vga"); break;
	case CON_FB: snprintf(buf, size, "fb"); break;
	}
}

int console_check_mmio(const struct mb2_mmap_entry *map, size_t n, uint64_t base,
		       uint64_t len, unsigned int phys_bits, const char **why)
{
	uint64_t end;

	if (!base) {
		*why = "address 0";
		return -EINVAL;
	}
	if (!len || base > UINT64_MAX - len) {
		*why = "the range wraps past 2^64";
		return -EINVAL;
	}
	end = base + len;
	if (phys_bits < 64 && end > (1ULL << phys_bits)) {
		*why = "above the CPU's physical address width";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t b = map[i].base, e = b + map[i].len;

		if (map[i].type != MB2_MMAP_AVAILABLE || e < b)
			continue;
		if (base < e && end > b) {
			*why = "it is RAM, not I/O (the memory map says available)";
			return -EINVAL;
		}
	}
	return 0;
}
