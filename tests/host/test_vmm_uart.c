/* 16550A model: what Linux's 8250 driver probes and relies on. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/uart16550.h"

/* What the UART did: bytes sent and every irq() call. */
struct sink {
	uint8_t tx[256];
	unsigned int ntx;
	bool levels[256];
	unsigned int nirq;
};

static struct sink sink;
static struct uart16550 uart;

static void on_tx(void *ctx, uint8_t c)
{
	struct sink *s = ctx;

	assert_true(s->ntx < sizeof(s->tx));
	s->tx[s->ntx++] = c;
}

static void on_irq(void *ctx, bool level)
{
	struct sink *s = ctx;

	assert_true(s->nirq < 256);
	/* Only changes are reported: never the same level twice in a row. */
	assert_true(s->nirq ? s->levels[s->nirq - 1] != level : level);
	s->levels[s->nirq++] = level;
}

static int setup(void **state)
{
	memset(&sink, 0, sizeof(sink));
	uart_init(&uart, on_tx, on_irq, &sink);
	return 0;
}

static uint8_t rd(unsigned int reg) { return uart_read(&uart, reg); }
static void wr(unsigned int reg, uint8_t v) { uart_write(&uart, reg, v); }

/* Interrupts reach the line only with MCR.OUT2, as on a PC. */
static void enable_line(void) { wr(UART_MCR, 0x0b); }  /* DTR RTS OUT2 */

static void test_reset_state(void **state)
{
	assert_int_equal(rd(UART_IER), 0);
	assert_int_equal(rd(UART_IIR), 0x01);
	assert_int_equal(rd(UART_LCR), 0);
	assert_int_equal(rd(UART_MCR), 0);
	assert_int_equal(rd(UART_LSR), 0x60);           /* THRE | TEMT */
	assert_int_equal(rd(UART_MSR), 0xb0);           /* DCD DSR CTS, no deltas */
	assert_false(uart_irq_level(&uart));
	assert_int_equal(sink.nirq, 0);
}

/* The sequence of autoconfig() in drivers/tty/serial/8250/8250_port.c. */
static void test_linux_autoconfig(void **state)
{
	uint8_t scratch, scratch2, scratch3, save_mcr, status1;

	/* Existence test through IER: only bits 3:0 exist. */
	scratch = rd(UART_IER);
	wr(UART_IER, 0);
	scratch2 = rd(UART_IER) & 0x0f;
	wr(UART_IER, 0x0f);
	scratch3 = rd(UART_IER) & 0x0f;
	wr(UART_IER, scratch);
	assert_int_equal(scratch2, 0);
	assert_int_equal(scratch3, 0x0f);

	/* Loopback: MCR = LOOP | OUT2 | RTS must read MSR 7:4 = DCD | CTS. */
	save_mcr = rd(UART_MCR);
	wr(UART_MCR, 0x10 | 0x0a);
	status1 = rd(UART_MSR) & 0xf0;
	wr(UART_MCR, save_mcr);
	assert_int_equal(status1, 0x90);

	/* EFR = 0 under LCR 0xbf is an FCR write of 0 here; then the FIFO test. */
	wr(UART_LCR, 0xbf);
	wr(UART_FCR, 0);
	wr(UART_LCR, 0);
	wr(UART_FCR, 0x01);
	assert_int_equal(rd(UART_IIR) >> 6, 3);         /* 16550A */

	/* autoconfig_16550a(): no EFR (reg 2 with DLAB reads IIR, not 0) ... */
	wr(UART_LCR, 0x80);
	assert_int_not_equal(rd(UART_IIR), 0);
	wr(UART_LCR, 0xbf);
	assert_int_not_equal(rd(UART_IIR), 0);
	/* ... not a 16750: IIR bit 5 stays clear with the 64-byte FIFO bit, DLAB or not ... */
	wr(UART_LCR, 0);
	wr(UART_FCR, 0x21);
	assert_int_equal(rd(UART_IIR) >> 5, 6);
	wr(UART_LCR, 0x80);
	wr(UART_FCR, 0x21);
	assert_int_equal(rd(UART_IIR) >> 5, 6);
	wr(UART_FCR, 0x01);
	wr(UART_LCR, 0);
	/* ... and not an XScale: IER bit 6 (UUE) does not stick. */
	wr(UART_IER, 0x40);
	assert_int_equal(rd(UART_IER) & 0x40, 0);
	wr(UART_IER, 0);

	/* The scratch register holds what is written (the 8250/16450 test). */
	wr(UART_SCR, 0xa5);
	assert_int_equal(rd(UART_SCR), 0xa5);
	wr(UART_SCR, 0x5a);
	assert_int_equal(rd(UART_SCR), 0x5a);
	assert_int_equal(sink.ntx, 0);
	assert_int_equal(sink.nirq, 0);                 /* no OUT2: the line stayed low */
}

static void test_dlab(void **state)
{
	wr(UART_IER, 0x05);
	wr(UART_LCR, 0x83);                             /* DLAB, 8 bits */
	wr(UART_DLL, 0x01);
	wr(UART_DLM, 0x00);
	assert_int_equal(rd(UART_DLL), 0x01);
	assert_int_equal(rd(UART_DLM), 0x00);
	wr(UART_LCR, 0x03);
	assert_int_equal(rd(UART_IER), 0x05);           /* IER untouched by DLM writes */
	assert_int_equal(rd(UART_LCR), 0x03);
	assert_int_equal(sink.ntx, 0);                  /* the DLL write sent nothing */
	wr(UART_THR, 'x');
	assert_int_equal(sink.ntx, 1);
	assert_int_equal(sink.tx[0], 'x');
	wr(UART_LCR, 0x83);
	assert_int_equal(rd(UART_DLL), 0x01);
}

static void test_transmit(void **state)
{
	const char *msg = "hello";

	for (const char *p = msg; *p; p++) {
		assert_true(rd(UART_LSR) & 0x20);       /* polled console: wait for THRE */
		wr(UART_THR, (uint8_t)*p);
	}
	assert_int_equal(sink.ntx, 5);
	assert_memory_equal(sink.tx, msg, 5);
	assert_int_equal(rd(UART_LSR), 0x60);
	assert_int_equal(sink.nirq, 0);                 /* IER 0: no interrupt */
}

/* THRE: raised by enabling ETBEI, cleared by an IIR read that reports it or a THR write. */
static void test_thre_interrupt(void **state)
{
	enable_line();
	wr(UART_IER, 0x02);
	assert_true(uart_irq_level(&uart));
	assert_int_equal(sink.nirq, 1);
	assert_int_equal(rd(UART_IIR), 0x02);           /* THRE, FIFOs off */
	assert_false(uart_irq_level(&uart));            /* the read cleared it */
	assert_int_equal(rd(UART_IIR), 0x01);
	assert_int_equal(sink.nirq, 2);

	/* Linux's startup test: IER off and on again re-raises THRE. */
	wr(UART_IER, 0);
	wr(UART_IER, 0x02);
	assert_int_equal(rd(UART_IIR), 0x02);
	/* Without toggling, writing the same IER does not. */
	wr(UART_IER, 0x02);
	assert_int_equal(rd(UART_IIR), 0x01);

	/* A THR write: the byte leaves at once and THRE re-arms, with an edge. */
	sink.nirq = 0;
	wr(UART_THR, 'a');
	assert_true(uart_irq_level(&uart));
	assert_int_equal(sink.nirq, 1);
	/* Another write while pending: the line drops and rises again. */
	wr(UART_THR, 'b');
	assert_int_equal(sink.nirq, 3);
	assert_false(sink.levels[1]);
	assert_true(sink.levels[2]);
	assert_true(uart_irq_level(&uart));
	/* The driver's stop_tx: ETBEI off lowers the line. */
	wr(UART_IER, 0);
	assert_false(uart_irq_level(&uart));
	assert_int_equal(sink.nirq, 4);
	assert_int_equal(sink.ntx, 2);
}

static void test_out2_gates_line(void **state)
{
	wr(UART_IER, 0x02);
	assert_int_equal(rd(UART_IIR) & 0x0f, 0x02);    /* pending inside the UART ... */
	wr(UART_IER, 0);
	wr(UART_IER, 0x02);
	assert_false(uart_irq_level(&uart));            /* ... but not on the line */
	enable_line();
	assert_true(uart_irq_level(&uart));
	wr(UART_MCR, 0x1b);                             /* loopback cuts it off */
	assert_false(uart_irq_level(&uart));
	wr(UART_MCR, 0x0b);
	assert_true(uart_irq_level(&uart));
	assert_int_equal(sink.nirq, 3);
}

static void test_rx_interrupt_and_order(void **state)
{
	enable_line();
	wr(UART_FCR, 0x01);                             /* FIFO on, trigger 1 */
	wr(UART_IER, 0x01);
	assert_false(uart_irq_level(&uart));
	assert_int_equal(rd(UART_LSR) & 0x01, 0);
	assert_true(uart_rx(&uart, 'a'));
	assert_true(uart_irq_level(&uart));
	assert_true(uart_rx(&uart, 'b'));
	assert_true(uart_rx(&uart, 'c'));
	assert_int_equal(sink.nirq, 1);
	assert_int_equal(rd(UART_IIR), 0xc4);           /* received data, FIFOs on */
	assert_true(uart_irq_level(&uart));             /* an IIR read does not clear it */
	assert_int_equal(rd(UART_LSR), 0x61);
	assert_int_equal(rd(UART_RBR), 'a');
	assert_int_equal(rd(UART_RBR), 'b');
	assert_true(uart_irq_level(&uart));
	assert_int_equal(rd(UART_RBR), 'c');
	assert_false(uart_irq_level(&uart));            /* empty: the interrupt goes */
	assert_int_equal(rd(UART_LSR), 0x60);
	assert_int_equal(rd(UART_IIR), 0xc1);
	assert_int_equal(sink.nirq, 2);
}

/* Below the trigger level the 16550 reports a character timeout. */
static void test_rx_trigger_and_timeout(void **state)
{
	enable_line();
	wr(UART_FCR, 0x81);                             /* trigger 8, as Linux sets */
	wr(UART_IER, 0x01);
	assert_true(uart_rx(&uart, '1'));
	assert_int_equal(rd(UART_IIR), 0xcc);
	for (int i = 0; i < 7; i++)
		assert_true(uart_rx(&uart, 'x'));
	assert_int_equal(rd(UART_IIR), 0xc4);
	wr(UART_FCR, 0x83);                             /* clear RX */
	assert_int_equal(rd(UART_LSR) & 0x01, 0);
	assert_false(uart_irq_level(&uart));
}

static void test_rx_fifo_full(void **state)
{
	wr(UART_FCR, 0x07);
	for (int i = 0; i < UART_FIFO_SIZE; i++)
		assert_true(uart_rx(&uart, (uint8_t)i));
	assert_false(uart_rx(&uart, 0xee));             /* full: refused, not overrun */
	assert_int_equal(rd(UART_LSR), 0x61);
	for (int i = 0; i < UART_FIFO_SIZE; i++)
		assert_int_equal(rd(UART_RBR), i);
	assert_int_equal(rd(UART_LSR), 0x60);
	assert_true(uart_rx(&uart, 0x42));
	assert_int_equal(rd(UART_RBR), 0x42);
}

/* FIFOs off: a 16450's single receive holding register. */
static void test_rx_no_fifo(void **state)
{
	assert_int_equal(rd(UART_IIR) & 0xc0, 0);
	assert_true(uart_rx(&uart, 'a'));
	assert_false(uart_rx(&uart, 'b'));
	assert_int_equal(rd(UART_RBR), 'a');
	assert_true(uart_rx(&uart, 'c'));
	/* Turning the FIFOs on empties them. */
	wr(UART_FCR, 0x01);
	assert_int_equal(rd(UART_LSR) & 0x01, 0);
}

/* Loopback: THR goes to the receiver; a full FIFO overruns (OE, line status interrupt). */
static void test_loopback_and_overrun(void **state)
{
	wr(UART_FCR, 0x01);
	wr(UART_MCR, 0x10);
	assert_false(uart_rx(&uart, 'z'));              /* the line is cut off */
	for (int i = 0; i < UART_FIFO_SIZE + 1; i++)
		wr(UART_THR, (uint8_t)('A' + i));
	assert_int_equal(sink.ntx, 0);
	wr(UART_IER, 0x05);                             /* ELSI | ERBFI */
	assert_int_equal(rd(UART_IIR), 0xc6);           /* line status first */
	assert_int_equal(rd(UART_LSR), 0x63);           /* OE | DR */
	assert_int_equal(rd(UART_LSR), 0x61);           /* OE cleared by the read */
	assert_int_equal(rd(UART_IIR), 0xc4);
	for (int i = 0; i < UART_FIFO_SIZE; i++)
		assert_int_equal(rd(UART_RBR), 'A' + i);  /* the 17th byte was lost */
	wr(UART_MCR, 0);
	wr(UART_THR, '!');
	assert_int_equal(sink.ntx, 1);
}

/* Modem status: loopback drives the inputs, changes latch delta bits and MSI. */
static void test_modem_status(void **state)
{
	wr(UART_IER, 0x08);
	wr(UART_MCR, 0x10 | 0x08);                      /* loop, OUT2 */
	assert_int_equal(rd(UART_IIR), 0x00);           /* modem status pending */
	assert_int_equal(rd(UART_MSR), 0x80 | 0x01 | 0x02); /* DCD; CTS and DSR dropped */
	assert_int_equal(rd(UART_IIR), 0x01);
	wr(UART_MCR, 0x10 | 0x0f);
	assert_int_equal(rd(UART_MSR), 0xf0 | 0x01 | 0x02);
	wr(UART_MCR, 0x10 | 0x0b);                      /* OUT1 off: RI's trailing edge */
	assert_int_equal(rd(UART_MSR), 0xb0 | 0x04);
	wr(UART_MCR, 0x0b);
	assert_int_equal(rd(UART_MSR), 0xb0);           /* back to the line: no change */
	assert_true(uart_irq_level(&uart) == false);
}

/* Priority: line status > received data > THRE > modem status. */
static void test_priority(void **state)
{
	enable_line();
	wr(UART_FCR, 0x01);
	wr(UART_IER, 0x0f);
	wr(UART_MCR, 0x19);                             /* loop; RTS off drops CTS */
	for (int i = 0; i < UART_FIFO_SIZE + 1; i++)
		wr(UART_THR, 'x');
	wr(UART_MCR, 0x0b);                             /* CTS back: DCTS latched */
	assert_int_equal(rd(UART_IIR) & 0x0f, 0x06);
	rd(UART_LSR);
	assert_int_equal(rd(UART_IIR) & 0x0f, 0x04);
	for (int i = 0; i < UART_FIFO_SIZE; i++)
		rd(UART_RBR);
	assert_int_equal(rd(UART_IIR) & 0x0f, 0x02);
	assert_int_equal(rd(UART_IIR) & 0x0f, 0x00);
	rd(UART_MSR);
	assert_int_equal(rd(UART_IIR) & 0x0f, 0x01);
	assert_false(uart_irq_level(&uart));
}

static void test_bad_register(void **state)
{
	assert_int_equal(rd(8), 0xff);
	wr(8, 0x12);
	wr(UART_LSR, 0);                                /* read-only */
	assert_int_equal(rd(UART_LSR), 0x60);
	uart_init(&uart, NULL, NULL, NULL);             /* no callbacks: fine */
	wr(UART_MCR, 0x08);
	wr(UART_IER, 0x02);
	wr(UART_THR, 'q');
	assert_true(uart_irq_level(&uart));
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reset_state),
		T(test_linux_autoconfig),
		T(test_dlab),
		T(test_transmit),
		T(test_thre_interrupt),
		T(test_out2_gates_line),
		T(test_rx_interrupt_and_order),
		T(test_rx_trigger_and_timeout),
		T(test_rx_fifo_full),
		T(test_rx_no_fifo),
		T(test_loopback_and_overrun),
		T(test_modem_status),
		T(test_priority),
		T(test_bad_register),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
