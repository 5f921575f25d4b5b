/*
 * A 16550A UART model (National Semiconductor PC16550D datasheet), enough
 * for Linux's 8250 driver to detect a 16550A and run an interrupt-driven
 * console: the registers at offsets 0-7 of the port (0x3f8 for COM1).
 *
 * Transmission is instantaneous: a THR write hands the byte to tx() and the
 * transmitter is empty again at once (LSR.THRE and TEMT always read 1).
 * Reception goes through a 16-byte FIFO (1 byte with the FIFOs off, as a
 * 16450); when it is full uart_rx() refuses the byte and the VMM keeps it,
 * so input is held back rather than lost.
 *
 * The interrupt output is what a PC's COM port drives onto its ISA IRQ
 * line: an interrupt is pending (IIR bit 0 clear) AND MCR.OUT2 is set (the
 * PC gates the line with OUT2; Linux sets it when it opens the port) AND the
 * UART is not in loopback (which forces OUT2 inactive). irq() is called on
 * every change of that level, never twice with the same value.
 */
#ifndef VMM_UART16550_H
#define VMM_UART16550_H

#include <stdbool.h>
#include <stdint.h>

#define UART_FIFO_SIZE 16

struct uart16550 {
	void (*tx)(void *ctx, uint8_t c);       /* a byte transmitted */
	void (*irq)(void *ctx, bool level);     /* the interrupt output changed */
	void *ctx;

	uint8_t dll, dlm;                       /* divisor latch (LCR.DLAB = 1) */
	uint8_t ier, lcr, mcr, scr;
	uint8_t fcr;                            /* last FCR write: FIFO enable, trigger */
	uint8_t lsr_err;                        /* LSR.OE until LSR is read */
	uint8_t msr_delta;                      /* MSR bits 3:0 until MSR is read */
	bool thre_pending;                      /* the THR-empty interrupt is latched */
	bool irq_out;                           /* the level last reported */

	uint8_t fifo[UART_FIFO_SIZE];           /* receive FIFO, a ring */
	unsigned int head, count;
};

/* Registers (reg 0-7 of uart_read/uart_write). */
enum {
	UART_RBR = 0, UART_THR = 0, UART_DLL = 0,
	UART_IER = 1, UART_DLM = 1,
	UART_IIR = 2, UART_FCR = 2,
	UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

/* Reset state (PC16550D table IV, "Master Reset"); tx and irq may be NULL. */
void uart_init(struct uart16550 *u, void (*tx)(void *ctx, uint8_t c),
	       void (*irq)(void *ctx, bool level), void *ctx);

/* A guest IN from register reg (0-7); some reads have side effects (RBR, IIR, LSR, MSR). */
uint8_t uart_read(struct uart16550 *u, unsigned int reg);

/* A guest OUT to register reg (0-7). */
void uart_write(struct uart16550 *u, unsigned int reg, uint8_t val);

/* A byte arrived on the serial line; false when the FIFO is full or the
 * UART is in loopback (its receiver is then cut off from the line): retry later. */
bool uart_rx(struct uart16550 *u, uint8_t c);

/* The interrupt output as last reported through irq(). */
bool uart_irq_level(const struct uart16550 *u);

#endif
