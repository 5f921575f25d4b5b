/* 8250/16550 UART on an I/O port, polled (the hypervisor takes no UART IRQ). */
#ifndef HV_UART_H
#define HV_UART_H

#include "hv/types.h"

#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8
#define COM3_PORT 0x3e8
#define COM4_PORT 0x2e8

/* Program 115200 8n1, FIFOs on, IRQs off. Returns -ENODEV if no UART answers. */
int uart_init(uint16_t port);
void uart_putc(uint16_t port, char c);
/* A received byte, or -1 when none is waiting. */
int uart_getc(uint16_t port);

#endif
