/* 8250/16550 UART driver, polled, on I/O ports or MMIO (hv/uart.h). */
#include "hv/uart.h"
#include "hv/console.h"
#include "hv/errno.h"
#include <x86/cpu.h>

enum {
	UART_DATA = 0, UART_IER = 1, UART_FCR = 2, UART_IIR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_SCR = 7,
	UART_DLL = 0, UART_DLM = 1,
};

#define LSR_DATA_READY  0x01
#define LSR_THR_EMPTY   0x20            /* with FIFOs on: the transmit FIFO is empty */
#define LCR_DLAB        0x80
#define LCR_8N1         0x03
#define MCR_DTR_RTS     0x03
#define MCR_LOOPBACK    0x10
#define FCR_ENABLE      0xc7            /* enable + clear FIFOs, 14-byte RX threshold */
#define IIR_FIFO_ON     0xc0            /* both bits: a 16550A's working FIFOs */
#define FIFO_16550A     16

static uint8_t rd(const struct uart *u, unsigned int reg)
{
	volatile void *p;

	if (u->space == UART_IO)
		return inb((uint16_t)(u->base + reg));
	p = (volatile void *)(uintptr_t)(u->base + (uint64_t)reg * u->width);
	switch (u->width) {
	case 4: return (uint8_t)*(volatile uint32_t *)p;
	case 2: return (uint8_t)*(volatile uint16_t *)p;
	default: return *(volatile uint8_t *)p;
	}
}

static void wr(const struct uart *u, unsigned int reg, uint8_t v)
{
	volatile void *p;

	if (u->space == UART_IO) {
		outb((uint16_t)(u->base + reg), v);
		return;
	}
	p = (volatile void *)(uintptr_t)(u->base + (uint64_t)reg * u->width);
	switch (u->width) {
	case 4: *(volatile uint32_t *)p = v; break;
	case 2: *(volatile uint16_t *)p = v; break;
	default: *(volatile uint8_t *)p = v; break;
	}
}

bool uart_probe(const struct uart *u)
{
	uint8_t old = rd(u, UART_SCR);
	bool ok;

	wr(u, UART_SCR, 0x5a);
	ok = rd(u, UART_SCR) == 0x5a;
	wr(u, UART_SCR, 0xa5);
	ok = ok && rd(u, UART_SCR) == 0xa5;
	wr(u, UART_SCR, old);
	return ok;
}

int uart_init(struct uart *u)
{
	uint32_t clock = u->clock ? u->clock : UART_CLOCK_DEFAULT;
	bool ok;

	wr(u, UART_IER, 0);
	if (u->baud) {
		uint32_t div = clock / (16 * u->baud);

		if (!div)
			div = 1;
		wr(u, UART_LCR, LCR_DLAB);
		wr(u, UART_DLL, (uint8_t)div);
		wr(u, UART_DLM, (uint8_t)(div >> 8));
	}
	wr(u, UART_LCR, LCR_8N1);
	wr(u, UART_FCR, FCR_ENABLE);
	u->fifo = (rd(u, UART_IIR) & IIR_FIFO_ON) == IIR_FIFO_ON ? FIFO_16550A : 1;
	u->cr_sent = false;

	/* Loopback self-check: an absent UART reads back 0xff, not our byte. */
	wr(u, UART_MCR, MCR_LOOPBACK | MCR_DTR_RTS);
	wr(u, UART_DATA, 0xa5);
	for (int i = 0; i < 1000 && !(rd(u, UART_LSR) & LSR_DATA_READY); i++)
		;
	ok = rd(u, UART_DATA) == 0xa5;
	wr(u, UART_MCR, MCR_DTR_RTS);
	while (rd(u, UART_LSR) & LSR_DATA_READY && rd(u, UART_LSR) != 0xff)
		(void)rd(u, UART_DATA);         /* nothing of the test stays as input */
	return ok ? 0 : -ENODEV;
}

size_t uart_write(struct uart *u, const char *s, size_t n)
{
	unsigned int room;
	size_t i = 0;

	if (!n || !(rd(u, UART_LSR) & LSR_THR_EMPTY))
		return 0;
	for (room = u->fifo; room && i < n; room--) {
		if (s[i] == '\n' && !u->cr_sent) {
			wr(u, UART_DATA, '\r');
			u->cr_sent = true;
			continue;
		}
		wr(u, UART_DATA, (uint8_t)s[i++]);
		u->cr_sent = false;
	}
	return i;
}

int uart_getc(const struct uart *u)
{
	uint8_t lsr = rd(u, UART_LSR);

	/* 0xff: nothing there (a PCI card that went away reads all ones). */
	if (lsr == 0xff || !(lsr & LSR_DATA_READY))
		return -1;
	return rd(u, UART_DATA);
}

static int uart_con_start(struct console *c)
{
	return uart_init(c->dev);
}

static size_t uart_con_write(struct console *c, const char *s, size_t n)
{
	return uart_write(c->dev, s, n);
}

static int uart_con_getc(struct console *c)
{
	return uart_getc(c->dev);
}

const struct console_ops uart_console_ops = {
	.kind = "uart",
	.start = uart_con_start,
	.write = uart_con_write,
	.getc = uart_con_getc,
};
