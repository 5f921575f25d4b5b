/*
 * 16550A UART model. The registers are a small state machine whose
 * interrupt output is recomputed in one place, uart_update_irq(), after
 * every access (the shape of kvmtool's hw/serial.c).
 *
 * References: PC16550D datasheet (register descriptions, table II/IV, the
 * IIR priority table), and what Linux's 8250 driver checks
 * (drivers/tty/serial/8250/8250_port.c: autoconfig() and the THRE test in
 * serial8250_do_startup()). Where the datasheet leaves a choice, QEMU's
 * hw/char/serial.c is followed, since Linux is known to be happy with it.
 */
#include "uart16550.h"

#include <stddef.h>

void *memset(void *dst, int c, size_t n);

#define IER_ERBFI   0x01        /* received data available (and timeout) */
#define IER_ETBEI   0x02        /* transmitter holding register empty */
#define IER_ELSI    0x04        /* receiver line status */
#define IER_EDSSI   0x08        /* modem status */
#define IER_MASK    0x0f        /* bits 7:4 read 0 (Linux's XScale UUE probe) */

/* IIR interrupt IDs in priority order (datasheet table IV), highest first. */
#define IIR_NONE    0x01
#define IIR_RLS     0x06        /* overrun (parity, framing, break: never here) */
#define IIR_RDA     0x04        /* FIFO at its trigger level */
#define IIR_TIMEOUT 0x0c        /* FIFO below the trigger level, not empty */
#define IIR_THRE    0x02
#define IIR_MSI     0x00
#define IIR_FIFO    0xc0        /* bits 7:6 set: FIFOs enabled (a 16550A) */

#define FCR_ENABLE  0x01
#define FCR_CLR_RX  0x02
#define FCR_CLR_TX  0x04
#define FCR_TRIGGER 0xc0        /* RX trigger level: 1, 4, 8, 14 bytes */

#define LCR_DLAB    0x80

#define MCR_DTR     0x01
#define MCR_RTS     0x02
#define MCR_OUT1    0x04
#define MCR_OUT2    0x08
#define MCR_LOOP    0x10
#define MCR_MASK    0x1f

#define LSR_DR      0x01
#define LSR_OE      0x02
#define LSR_THRE    0x20
#define LSR_TEMT    0x40

#define MSR_DCTS    0x01
#define MSR_DDSR    0x02
#define MSR_TERI    0x04
#define MSR_DDCD    0x08
#define MSR_CTS     0x10
#define MSR_DSR     0x20
#define MSR_RI      0x40
#define MSR_DCD     0x80

static bool fifo_on(const struct uart16550 *u) { return u->fcr & FCR_ENABLE; }

/* With the FIFOs off the receiver holds one byte, as a 16450. */
static unsigned int rx_capacity(const struct uart16550 *u)
{
	return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

static unsigned int rx_trigger(const struct uart16550 *u)
{
	static const unsigned char level[4] = { 1, 4, 8, 14 };

	return fifo_on(u) ? level[u->fcr >> 6] : 1;
}

/*
 * The modem status inputs (MSR 7:4). In loopback the outputs feed them
 * (datasheet, MCR bit 4): RTS -> CTS, DTR -> DSR, OUT1 -> RI, OUT2 -> DCD.
 * Linux's autoconfig writes MCR = LOOP | OUT2 | RTS and wants 0x90 back.
 * Otherwise a terminal is always attached and ready: CTS, DSR, DCD.
 */
static uint8_t modem_lines(const struct uart16550 *u)
{
	uint8_t m = u->mcr;

	if (!(m & MCR_LOOP))
		return MSR_CTS | MSR_DSR | MSR_DCD;
	return (m & MCR_RTS ? MSR_CTS : 0) | (m & MCR_DTR ? MSR_DSR : 0) |
	       (m & MCR_OUT1 ? MSR_RI : 0) | (m & MCR_OUT2 ? MSR_DCD : 0);
}

/* The highest-priority pending interrupt that IER enables. */
static uint8_t iir_id(const struct uart16550 *u)
{
	if ((u->ier & IER_ELSI) && u->lsr_err)
		return IIR_RLS;
	/*
	 * A FIFO below its trigger level interrupts after four character
	 * times without traffic; bytes reach us in bursts from the VMM, so
	 * that timeout is taken as already expired.
	 */
	if ((u->ier & IER_ERBFI) && u->count)
		return u->count >= rx_trigger(u) ? IIR_RDA : IIR_TIMEOUT;
	if ((u->ier & IER_ETBEI) && u->thre_pending)
		return IIR_THRE;
	if ((u->ier & IER_EDSSI) && u->msr_delta)
		return IIR_MSI;
	return IIR_NONE;
}

/* The only place the interrupt output changes; irq() hears each change once. */
static void uart_update_irq(struct uart16550 *u)
{
	bool level = iir_id(u) != IIR_NONE && (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;

	if (level == u->irq_out)
		return;
	u->irq_out = level;
	if (u->irq)
		u->irq(u->ctx, level);
}

/* Into the receive FIFO; false (and nothing changes) when it is full. */
static bool rx_push(struct uart16550 *u, uint8_t c)
{
	if (u->count >= rx_capacity(u))
		return false;
	u->fifo[(u->head + u->count) % UART_FIFO_SIZE] = c;
	u->count++;
	return true;
}

static void rx_clear(struct uart16550 *u)
{
	u->head = 0;
	u->count = 0;
}

/* A change on the modem inputs latches the delta bits (MSR 3:0). */
static void set_mcr(struct uart16550 *u, uint8_t val)
{
	uint8_t old = modem_lines(u), now, x;

	u->mcr = val & MCR_MASK;
	now = modem_lines(u);
	x = old ^ now;
	u->msr_delta |= (x & MSR_CTS ? MSR_DCTS : 0) | (x & MSR_DSR ? MSR_DDSR : 0) |
			(x & MSR_DCD ? MSR_DDCD : 0) |
			((old & MSR_RI) && !(now & MSR_RI) ? MSR_TERI : 0); /* RI's trailing edge */
}

/*
 * Enabling ETBEI while THR is empty raises the THRE interrupt even if an
 * IIR read had cleared it (not in the datasheet; real 16550s do it, QEMU
 * models it, and Linux's startup test wants it: IER = THRI, read IIR,
 * IER = 0, IER = THRI, read IIR again must show THRE).
 */
static void set_ier(struct uart16550 *u, uint8_t val)
{
	uint8_t changed = (u->ier ^ val) & IER_MASK;

	u->ier = val & IER_MASK;
	if (changed & IER_ETBEI)
		u->thre_pending = u->ier & IER_ETBEI;
}

static void set_fcr(struct uart16550 *u, uint8_t val)
{
	/* Turning the FIFOs on or off empties them (datasheet, FCR bit 0). */
	if ((val ^ u->fcr) & FCR_ENABLE)
		rx_clear(u);
	if (val & FCR_CLR_RX)
		rx_clear(u);
	if (val & FCR_CLR_TX)
		u->thre_pending = true;         /* the (always empty) TX FIFO is reset: THR empty */
	u->fcr = val & FCR_ENABLE ? val & (FCR_ENABLE | FCR_TRIGGER) : 0;
}

/*
 * A THR write clears the THRE interrupt; the byte leaves at once, so THR is
 * empty again and the interrupt re-arms. The output drops and rises in
 * between, as QEMU's does: an edge-triggered IOAPIC pin sees each byte's
 * THRE. In loopback the byte goes to the receiver instead of the line; a
 * full FIFO then loses it and flags an overrun.
 */
static void transmit(struct uart16550 *u, uint8_t c)
{
	u->thre_pending = false;
	uart_update_irq(u);
	if (u->mcr & MCR_LOOP) {
		if (!rx_push(u, c))
			u->lsr_err |= LSR_OE;
	} else if (u->tx) {
		u->tx(u->ctx, c);
	}
	u->thre_pending = true;
}

void uart_init(struct uart16550 *u, void (*tx)(void *ctx, uint8_t c),
	       void (*irq)(void *ctx, bool level), void *ctx)
{
	memset(u, 0, sizeof(*u));
	u->tx = tx;
	u->irq = irq;
	u->ctx = ctx;
	u->dll = 12;                            /* 9600 baud from 1.8432 MHz: the BIOS default */
}

uint8_t uart_read(struct uart16550 *u, unsigned int reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t v = 0xff, id;

	switch (reg) {
	case UART_RBR:
		if (dlab) {
			v = u->dll;
		} else if (u->count) {
			v = u->fifo[u->head];
			u->head = (u->head + 1) % UART_FIFO_SIZE;
			u->count--;
		} else {
			v = 0;
		}
		break;
	case UART_IER:
		v = dlab ? u->dlm : u->ier;
		break;
	case UART_IIR:
		/* Reading IIR while it reports THRE is what clears THRE. */
		id = iir_id(u);
		if (id == IIR_THRE)
			u->thre_pending = false;
		v = id | (fifo_on(u) ? IIR_FIFO : 0);
		break;
	case UART_LCR:
		v = u->lcr;
		break;
	case UART_MCR:
		v = u->mcr;
		break;
	case UART_LSR:
		v = (u->count ? LSR_DR : 0) | u->lsr_err | LSR_THRE | LSR_TEMT;
		u->lsr_err = 0;                 /* error bits clear on read */
		break;
	case UART_MSR:
		v = modem_lines(u) | u->msr_delta;
		u->msr_delta = 0;               /* delta bits clear on read */
		break;
	case UART_SCR:
		v = u->scr;
		break;
	}
	uart_update_irq(u);
	return v;
}

void uart_write(struct uart16550 *u, unsigned int reg, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case UART_THR:
		if (dlab)
			u->dll = val;
		else
			transmit(u, val);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = val;
		else
			set_ier(u, val);
		break;
	case UART_FCR:
		set_fcr(u, val);
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		set_mcr(u, val);
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default:                                /* LSR, MSR: read-only */
		break;
	}
	uart_update_irq(u);
}

bool uart_rx(struct uart16550 *u, uint8_t c)
{
	if ((u->mcr & MCR_LOOP) || !rx_push(u, c))
		return false;
	uart_update_irq(u);
	return true;
}

bool uart_irq_level(const struct uart16550 *u)
{
	return u->irq_out;
}
