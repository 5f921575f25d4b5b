/*
 * The console: where log lines go. Every console found (a UART named by
 * ACPI's SPCR/DBG2, PCI serial controllers, legacy COM ports, the VGA text
 * screen, a UEFI framebuffer; or what console= names) gets every line, and
 * every line also goes into the log ring (hv/logring.h). Input comes from
 * the first serial console. Lines are written whole under one lock, so
 * lines of different CPUs never mix, on any console.
 *
 * Each console is a back end behind struct console_ops; the write path
 * hands a line to all of them in turn without waiting on any. Serial
 * consoles come first: a screen draws only while the UARTs are busy
 * sending, then a bounded number of cells per line (line_budget); what is
 * left is drawn when CPU 0 idles (console_idle). So the screen never holds
 * the serial output back (docs/debugging.md, "Consoles").
 */
#ifndef HV_CONSOLE_H
#define HV_CONSOLE_H

#include "hv/types.h"

struct console;

struct console_ops {
	const char *kind;                       /* "uart", "vga", "fb" */
	/* Optional: bring the device up (its registers are reachable now);
	 * 0, or a negative error and the console is not used. */
	int (*start)(struct console *c);
	/* Take what the device accepts now from s[0..n), without waiting;
	 * returns the bytes taken (0: busy, try again). */
	size_t (*write)(struct console *c, const char *s, size_t n);
	/* Optional: carry on with deferred work (a screen's drawing), at most
	 * `budget` cells of it; true when nothing is left. */
	bool (*flush)(struct console *c, uint32_t budget);
	/* Optional: a byte typed on it, or -1. Serial consoles have it. */
	int (*getc)(struct console *c);
};

#define CONSOLE_NAME_MAX        64
#define CONSOLES_MAX             8

struct console {
	const struct console_ops *ops;
	void *dev;                              /* the driver's state */
	char name[CONSOLE_NAME_MAX];            /* where it is, for log lines */
	bool screen;                            /* VGA or framebuffer */
	uint32_t line_budget;                   /* screen: cells drawn per line after the UARTs */
	bool enabled;
	/* Memory-mapped registers or pixels, mapped uncached once the final
	 * page tables exist; above 4 GiB (beyond the boot map) the console
	 * starts only then (console_late_init), with the log so far. */
	uint64_t mmio_base, mmio_len;
	bool late;
	/* Statistics (console lock). */
	uint64_t writes, bytes, cycles;         /* lines, bytes, TSC cycles in its ops */
	uint64_t stalls;                        /* lines cut short: the device stopped taking bytes */
};

/* console= value (docs/booting.md): see hv/console_opt.h. */
int console_parse(const char *spec);
/* Find and start the consoles console= asks for (console=auto: discover
 * them), then write out what was logged so far. */
void console_init(void);
/* Once the final page tables exist: map the consoles' MMIO uncached and
 * start those that lie above 4 GiB. */
void console_late_init(void);
/* Add a console (console_init's discovery) and start it, unless it is
 * late. Rejects one without ops, kind or write: 0, -EINVAL, -ENOSPC, or
 * what its start returned. */
int console_register(struct console *c);
/* Write a whole buffer under the console lock (one line never interleaves). */
void console_write(const char *s, size_t n);
/* The root's output (HC_CONSOLE_WRITE): kept apart from the hypervisor's
 * lines even when it ends mid-line. Not in the log ring. */
void console_write_root(const char *s, size_t n);
/* To the consoles only, not into the log ring (dmesg showing the ring). */
void console_write_unlogged(const char *s, size_t n);
/* After a panic: take the lock from whoever holds it, others are stopped;
 * from now on every line is drawn on the screens in full. */
void console_force_unlock(void);
/* Idle time (CPU 0's idle loop): draw what the screens still owe. */
void console_idle(void);
/* The input console's I/O port, 0 if it has none. */
uint16_t console_port(void);
/* A byte typed on the console, or -1. */
int console_getc(void);

/* The log ring under the console lock: as logring_read. */
size_t console_log_read(uint64_t pos, char *dst, size_t size, uint64_t *next,
			uint64_t *dropped);
/* Bytes the ring holds; position after the last byte logged; lines
 * overwritten so far. */
uint64_t console_log_size(void);
uint64_t console_log_head(void);
uint64_t console_log_lines_dropped(void);
/* Turn the screens off or back on (the debug console's logbench). */
void console_screens_enable(bool on);
/* Call fn for each console (the debug console's `consoles`). */
void console_for_each(void (*fn)(const struct console *c, bool input, void *arg), void *arg);

#endif
