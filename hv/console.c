/*
 * The console core (hv/console.h): the back ends, the lock that keeps
 * lines whole, the log ring, and the write loop that feeds every back end
 * without waiting on any one of them.
 */
#include "hv/console.h"
#include "hv/console_opt.h"
#include "hv/console_probe.h"
#include "hv/errno.h"
#include "hv/irqflags.h"
#include "hv/logring.h"
#include "hv/printk.h"
#include "hv/spinlock.h"
#include "hv/string.h"
#include "hv/uart.h"
#include <x86/cpu.h>
#include <x86/paging.h>

/*
 * Polls of a console that takes nothing before the rest of the line is
 * dropped on it (about a second of LSR reads on real hardware): a wedged
 * UART must not hang the hypervisor, nor hold the others back for long.
 */
#define STALL_LIMIT     1000000

static spinlock_t console_lock = SPINLOCK_INIT;
static bool console_ready;
static struct console *consoles[CONSOLES_MAX];
static unsigned int nconsoles;
static struct console *input;
static bool screens_on = true;

/* console=; auto unless given. */
static struct console_spec spec = { .n = 1, .item = { { .kind = CON_AUTO } } };

/* Every line the hypervisor logs, from the first (before console_init
 * the ring is all there is: it is written out once consoles exist). */
static char log_buf[LOG_RING_SIZE];
static struct logring hv_log = LOGRING_INIT(log_buf);

int console_parse(const char *value)
{
	char why[192];
	int r = console_spec_parse(value, &spec, why, sizeof(why));

	if (r)
		pr_err("console: %s; discovering the consoles instead (console=auto)\n", why);
	return r;
}

int console_register(struct console *c)
{
	int r;

	if (!c || !c->ops || !c->ops->kind || !c->ops->write)
		return ERR(-EINVAL);
	if (nconsoles == CONSOLES_MAX)
		return ERR(-ENOSPC);
	if (!c->late && c->ops->start && (r = c->ops->start(c)))
		return r;
	c->enabled = !c->late;
	consoles[nconsoles++] = c;
	if (!input && c->ops->getc && c->enabled)
		input = c;
	return 0;
}

static bool active(const struct console *c)
{
	return c->enabled && (screens_on || !c->screen);
}

/*
 * s[0..n) to every active console (only `only`, if given), the caller
 * holding the console lock. Round after round each console takes what it
 * can without waiting. Serial consoles go first; a screen puts the text in
 * its grid at once (RAM) but draws only in rounds where no UART could take
 * a byte (their FIFOs are draining at the baud rate), SCREEN_STEP cells at
 * a time; once the UARTs are done, up to its line_budget more. What is
 * still undrawn waits for console_idle, or the next line.
 */
#define SCREEN_STEP     48
#define IDLE_CHUNK      128             /* cells per lock hold in console_idle */

static bool panicking;                  /* draw everything, now */

static void emit(const char *s, size_t n, struct console *only)
{
	size_t pos[CONSOLES_MAX];
	uint32_t stall[CONSOLES_MAX], spent[CONSOLES_MAX];
	bool done[CONSOLES_MAX];
	unsigned int left = 0, serial_left = 0, i;

	for (i = 0; i < nconsoles; i++) {
		struct console *c = consoles[i];

		done[i] = !active(c) || (only && c != only);
		pos[i] = 0;
		stall[i] = spent[i] = 0;
		if (!done[i]) {
			left++;
			serial_left += !c->screen;
			c->writes++;
		}
	}
	while (left) {
		bool serial_progress = false;

		for (i = 0; i < nconsoles; i++) {       /* serial consoles first */
			struct console *c = consoles[i];
			uint64_t t0;
			size_t k;

			if (done[i] || c->screen)
				continue;
			t0 = rdtsc();
			k = c->ops->write(c, s + pos[i], n - pos[i]);
			c->cycles += rdtsc() - t0;
			pos[i] += k;
			c->bytes += k;
			if (k) {
				stall[i] = 0;
				serial_progress = true;
			} else if (++stall[i] > STALL_LIMIT) {
				c->stalls++;
				pos[i] = n;
			}
			if (pos[i] == n) {
				done[i] = true;
				left--;
				serial_left--;
			}
		}
		for (i = 0; i < nconsoles; i++) {       /* then the screens */
			struct console *c = consoles[i];
			uint64_t t0;

			if (done[i] || !c->screen)
				continue;
			t0 = rdtsc();
			if (pos[i] < n) {
				size_t k = c->ops->write(c, s + pos[i], n - pos[i]);

				pos[i] += k;
				c->bytes += k;
			}
			if (pos[i] == n && (serial_left == 0 || !serial_progress)) {
				bool clean = !c->ops->flush ||
					     c->ops->flush(c, panicking ? UINT32_MAX : SCREEN_STEP);

				if (serial_left == 0)           /* no longer the UARTs' idle time */
					spent[i] += SCREEN_STEP;
				if (clean || (serial_left == 0 && !panicking &&
					      spent[i] >= c->line_budget)) {
					done[i] = true;
					left--;
				}
			}
			c->cycles += rdtsc() - t0;
		}
		if (!serial_progress)
			cpu_relax();
	}
	if (spec.e9 && !only)
		for (size_t k = 0; k < n; k++) {
			if (s[k] == '\n')
				outb(0xe9, '\r');
			outb(0xe9, (uint8_t)s[k]);
		}
}

void console_idle(void)
{
	for (unsigned int i = 0; i < nconsoles; i++) {
		struct console *c = consoles[i];
		unsigned long flags;
		bool done = false;

		if (!c->screen || !c->ops->flush)
			continue;
		while (!done) {
			flags = local_irq_save();
			if (!spin_trylock(&console_lock)) {     /* someone is logging: later */
				local_irq_restore(flags);
				return;
			}
			done = !active(c) || c->ops->flush(c, IDLE_CHUNK);
			spin_unlock(&console_lock);
			local_irq_restore(flags);
		}
	}
}

/* The ring from position `from` to its head, to `only` (NULL: all). */
static void replay(uint64_t from, struct console *only)
{
	char buf[256];
	uint64_t pos = from, dropped;
	size_t n;

	while ((n = logring_read(&hv_log, pos, buf, sizeof(buf), &pos, &dropped)))
		emit(buf, n, only);
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

static void write_locked(const char *s, size_t n, bool root, bool logged)
{
	if (!root && logged)
		logring_write(&hv_log, s, n);
	if (!console_ready)
		return;
	if (!root) {
		if (root_mid_line)
			emit("\n", 1, NULL);
		emit(s, n, NULL);
		if (root_mid_line)
			emit(root_line, root_len, NULL);
		return;
	}
	emit(s, n, NULL);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			root_len = 0;
		else if (root_len < sizeof(root_line))
			root_line[root_len++] = s[i];
	}
	root_mid_line = n && s[n - 1] != '\n';
}

static void locked_write(const char *s, size_t n, bool root, bool logged)
{
	unsigned long flags = local_irq_save();

	spin_lock(&console_lock);
	write_locked(s, n, root, logged);
	spin_unlock(&console_lock);
	local_irq_restore(flags);
}

void console_write(const char *s, size_t n)
{
	locked_write(s, n, false, true);
}

void console_write_root(const char *s, size_t n)
{
	locked_write(s, n, true, false);
}

void console_write_unlogged(const char *s, size_t n)
{
	locked_write(s, n, false, false);
}

static void report(const struct console *c)
{
	pr_info("console: %s: %s%s\n", c->name, c->late ? "from the final page tables on, " : "",
		c == input ? "log and input" : "log");
}

void console_init(void)
{
	unsigned long flags;

	if (console_ready)
		return;
	console_probe(&spec);
	flags = local_irq_save();
	spin_lock(&console_lock);
	console_ready = true;
	replay(0, NULL);                /* what was logged so far */
	spin_unlock(&console_lock);
	local_irq_restore(flags);
	for (unsigned int i = 0; i < nconsoles; i++)
		report(consoles[i]);
	if (!nconsoles)
		pr_err("console: none found%s\n", spec.e9 ? " (the 0xe9 mirror still gets the log)" : "");
}

void console_late_init(void)
{
	for (unsigned int i = 0; i < nconsoles; i++) {
		struct console *c = consoles[i];
		unsigned long flags;
		int r;

		if (!c->mmio_len)
			continue;
		/*
		 * Registers uncached, whatever the MTRRs say; pixels UC- (PCD
		 * without PWT, SDM Vol. 3A 11.12.3), which lets an MTRR that
		 * makes the framebuffer write-combining win. Above 4 GiB
		 * nothing was mapped before.
		 */
		r = paging_set(ALIGN_DOWN(c->mmio_base, PAGE_SIZE),
			       ALIGN_UP(c->mmio_base + c->mmio_len, PAGE_SIZE) -
			       ALIGN_DOWN(c->mmio_base, PAGE_SIZE),
			       c->screen ? (enum page_rights)(PAGE_RW | PTE_PCD) : PAGE_MMIO);
		if (r) {
			pr_err("console: %s: mapping 0x%llx+0x%llx failed (%s)\n", c->name,
			       (unsigned long long)c->mmio_base, (unsigned long long)c->mmio_len,
			       errno_name(r));
			if (!c->late) {
				flags = local_irq_save();
				spin_lock(&console_lock);
				c->enabled = false;
				if (input == c)
					input = NULL;
				spin_unlock(&console_lock);
				local_irq_restore(flags);
			}
			continue;
		}
		if (!c->late)
			continue;
		if (c->ops->start && (r = c->ops->start(c))) {
			pr_err("console: %s: no device answers (%s); not used\n", c->name, errno_name(r));
			continue;
		}
		flags = local_irq_save();
		spin_lock(&console_lock);
		c->enabled = true;
		if (!input && c->ops->getc)
			input = c;
		replay(logring_tail(&hv_log), c);       /* the log so far */
		spin_unlock(&console_lock);
		local_irq_restore(flags);
		pr_info("console: %s: started, %s\n", c->name, c == input ? "log and input" : "log");
	}
}

void console_force_unlock(void)
{
	panicking = true;
	spin_unlock(&console_lock);
}

uint16_t console_port(void)
{
	const struct uart *u;

	if (!input || input->ops != &uart_console_ops)
		return 0;
	u = input->dev;
	return u->space == UART_IO ? (uint16_t)u->base : 0;
}

int console_getc(void)
{
	struct console *c = READ_ONCE(input);

	return c && c->enabled ? c->ops->getc(c) : -1;
}

size_t console_log_read(uint64_t pos, char *dst, size_t size, uint64_t *next,
			uint64_t *dropped)
{
	unsigned long flags = local_irq_save();
	size_t n;

	spin_lock(&console_lock);
	n = logring_read(&hv_log, pos, dst, size, next, dropped);
	spin_unlock(&console_lock);
	local_irq_restore(flags);
	return n;
}

uint64_t console_log_size(void)
{
	return hv_log.size;
}

uint64_t console_log_head(void)
{
	return __atomic_load_n(&hv_log.head, __ATOMIC_RELAXED);
}

uint64_t console_log_lines_dropped(void)
{
	return __atomic_load_n(&hv_log.lines_dropped, __ATOMIC_RELAXED);
}

void console_screens_enable(bool on)
{
	unsigned long flags = local_irq_save();

	spin_lock(&console_lock);
	screens_on = on;
	spin_unlock(&console_lock);
	local_irq_restore(flags);
}

void console_for_each(void (*fn)(const struct console *c, bool is_input, void *arg), void *arg)
{
	for (unsigned int i = 0; i < nconsoles; i++) {
		struct console copy = *consoles[i];     /* fn logs: no lock held */

		fn(&copy, consoles[i] == input, arg);
	}
}
