/* Console sinks and the lock that keeps lines whole. */
#include "hv/console.h"
#include "hv/errno.h"
#include "hv/spinlock.h"
#include "hv/string.h"
#include "hv/uart.h"
#include "hv/irqflags.h"
#include <x86/cpu.h>

static uint16_t uart_port = COM1_PORT;
static bool uart_ok;
static bool mirror_e9;
static spinlock_t console_lock = SPINLOCK_INIT;
static bool console_ready;

/* Lines logged before console_init (while options are parsed) wait here. */
static char early_buf[4096];
static size_t early_len;

static int parse_port(const char *s, size_t n, uint16_t *port)
{
	static const struct { const char *name; uint16_t port; } names[] = {
		{ "com1", COM1_PORT }, { "com2", COM2_PORT },
		{ "com3", COM3_PORT }, { "com4", COM4_PORT },
	};
	unsigned long v = 0;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (n == strlen(names[i].name) && !strncmp(s, names[i].name, n)) {
			*port = names[i].port;
			return 0;
		}
	if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -EINVAL;
	for (size_t i = 2; i < n; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0 || v > 0xfff)
			return -EINVAL;
		v = v * 16 + d;
	}
	if (v == 0 || v > 0xfff8)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int console_parse(const char *spec)
{
	uint16_t port = uart_port;
	bool e9 = false;

	if (!spec || !*spec)
		return -EINVAL;
	while (*spec) {
		const char *comma = strchr(spec, ',');
		size_t n = comma ? (size_t)(comma - spec) : strlen(spec);

		if (n == 2 && !strncmp(spec, "e9", 2))
			e9 = true;
		else if (parse_port(spec, n, &port))
			return -EINVAL;
		spec += n + (comma ? 1 : 0);
	}
	uart_port = port;
	mirror_e9 = e9;
	return 0;
}

void console_init(void)
{
	uart_ok = uart_init(uart_port) == 0;
	console_ready = true;
	console_write(early_buf, early_len);
	early_len = 0;
}

uint16_t console_port(void)
{
	return uart_port;
}

static void emit(char c)
{
	if (uart_ok)
		uart_putc(uart_port, c);
	if (mirror_e9)
		outb(0xe9, (uint8_t)c);
}

/*
 * The root's output (a VMM's guest consoles) can end mid-line (a shell
 * prompt). Its unfinished line is remembered: a hypervisor line that comes
 * meanwhile starts on a line of its own, and the root's line is shown
 * again after it, so neither is cut into the other.
 */
static char root_line[256];
static size_t root_len;                 /* bytes of the root's unfinished line */
static bool root_mid_line;              /* the console cursor is inside it */

static void emit_str(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			emit('\r');
		emit(s[i]);
	}
}

static void write_locked(const char *s, size_t n, bool root)
{
	if (!console_ready) {
		size_t room = sizeof(early_buf) - early_len;

		n = n < room ? n : room;
		memcpy(early_buf + early_len, s, n);
		early_len += n;
		return;
	}
	if (!root) {
		if (root_mid_line)
			emit_str("\n", 1);
		emit_str(s, n);
		if (root_mid_line)
			emit_str(root_line, root_len);
		return;
	}
	emit_str(s, n);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			root_len = 0;
		else if (root_len < sizeof(root_line))
			root_line[root_len++] = s[i];
	}
	root_mid_line = n && s[n - 1] != '\n';
}

void console_write(const char *s, size_t n)
{
	unsigned long flags = local_irq_save();

	spin_lock(&console_lock);
	write_locked(s, n, false);
	spin_unlock(&console_lock);
	local_irq_restore(flags);
}

void console_write_root(const char *s, size_t n)
{
	unsigned long flags = local_irq_save();

	spin_lock(&console_lock);
	write_locked(s, n, true);
	spin_unlock(&console_lock);
	local_irq_restore(flags);
}

void console_force_unlock(void)
{
	spin_unlock(&console_lock);
}

int console_getc(void)
{
	return uart_ok ? uart_getc(uart_port) : -1;
}
