/* 8250/16550 UART driver, polled. */
#include "hv/uart.h"
#include "hv/errno.h"
#include <x86/cpu.h>

enum {
	UART_DATA = 0, UART_IER = 1, UART_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5,
	UART_DLL = 0, UART_DLM = 1,
};

#define LSR_DATA_READY  0x01
#define LSR_THR_EMPTY   0x20
#define LCR_DLAB        0x80
#define LCR_8N1         0x03
#define MCR_DTR_RTS     0x03
#define MCR_LOOPBACK    0x10

int uart_init(uint16_t port)
{
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, 1);               /* 115200 / 1 */
	outb(port + UART_DLM, 0);
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, 0xc7);            /* enable + clear FIFOs, 14-byte threshold */

	/* Loopback self-check: an absent UART reads back 0xff, not our byte. */
	outb(port + UART_MCR, MCR_LOOPBACK | MCR_DTR_RTS);
	outb(port + UART_DATA, 0xa5);
	for (int i = 0; i < 1000 && !(inb(port + UART_LSR) & LSR_DATA_READY); i++)
		;
	bool ok = inb(port + UART_DATA) == 0xa5;

	outb(port + UART_MCR, MCR_DTR_RTS);
	return ok ? 0 : -ENODEV;
}

void uart_putc(uint16_t port, char c)
{
	/* Bounded wait: a wedged or absent UART must not hang the hypervisor. */
	for (int i = 0; i < 1000000; i++)
		if (inb(port + UART_LSR) & LSR_THR_EMPTY)
			break;
	outb(port + UART_DATA, (uint8_t)c);
}

int uart_getc(uint16_t port)
{
	if (!(inb(port + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(port + UART_DATA);
}
