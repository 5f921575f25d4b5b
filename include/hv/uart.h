/*
 * 8250/16550 UART, polled (the hypervisor takes no UART IRQ), behind an
 * I/O port or memory-mapped. One struct describes where the registers are,
 * whoever found them: the legacy COM ports, ACPI's SPCR/DBG2, a PCI serial
 * controller, or console=.
 */
#ifndef HV_UART_H
#define HV_UART_H

#include "hv/types.h"

#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8
#define COM3_PORT 0x3e8
#define COM4_PORT 0x2e8

#define UART_CLOCK_DEFAULT      1843200         /* Hz: 115200 with divisor 1 */
#define UART_BAUD_DEFAULT       115200
#define UART_REGS               8               /* registers, each `width` apart */

enum uart_space {
	UART_IO,                        /* base is an I/O port, byte registers */
	UART_MMIO,                      /* base is a physical address */
};

struct uart {
	enum uart_space space;
	uint8_t width;                  /* MMIO: access width and register stride, 1, 2 or 4 */
	uint8_t fifo;                   /* bytes the transmitter takes at once (uart_init) */
	bool cr_sent;                   /* uart_write: the CR of a CR LF went out */
	uint64_t base;
	uint32_t baud;                  /* 0: keep the divisor the firmware set */
	uint32_t clock;                 /* input clock in Hz; 0: UART_CLOCK_DEFAULT */
};

/* Bytes of address space the registers span (for mapping). */
static inline uint64_t uart_span(const struct uart *u)
{
	return u->space == UART_IO ? UART_REGS : (uint64_t)UART_REGS * u->width;
}

/* Is something there? The scratch register keeps what is written to it
 * (an absent legacy port reads back 0xff). Changes nothing else. */
bool uart_probe(const struct uart *u);
/* Program 8n1 at u->baud, FIFOs on, IRQs off; then check the UART in
 * loopback mode. 0, or -ENODEV when no UART answers. */
int uart_init(struct uart *u);
/* Write what the transmitter takes now without waiting (up to its FIFO),
 * LF as CR LF; returns the bytes of s taken, 0 while it is busy. */
size_t uart_write(struct uart *u, const char *s, size_t n);
/* A received byte, or -1 when none is waiting. */
int uart_getc(const struct uart *u);

struct console_ops;
/* The UART as a console (console->dev is its struct uart). */
extern const struct console_ops uart_console_ops;

#endif
