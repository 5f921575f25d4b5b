/*
 * Which PCI functions are 16550 UARTs and where their ports are
 * (drivers/pci_serial.c): QEMU's pci-serial cards, Intel AMT SOL, a card
 * with a BAR per port, an MMIO-only UART, and what is refused: another
 * class, a prog-if past the 16950, a BAR the firmware left at 0, no BAR.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "hv/errno.h"
#include "hv/pci_serial.h"

static struct pci_serial_fn serial_fn(uint16_t vendor, uint16_t device, uint8_t progif)
{
	return (struct pci_serial_fn){ .vendor = vendor, .device = device,
				       .class = PCI_CLASS_COMM, .subclass = PCI_SUBCLASS_SERIAL,
				       .progif = progif };
}

static void io_bar(struct pci_serial_fn *f, int i, uint64_t addr, uint64_t size)
{
	f->bar[i] = (struct pci_bar){ .addr = addr, .size = size, .io = true };
}

static void mem_bar(struct pci_serial_fn *f, int i, uint64_t addr, uint64_t size)
{
	f->bar[i] = (struct pci_bar){ .addr = addr, .size = size };
}

/* QEMU -device pci-serial: 1b36:0002, one 8-byte I/O BAR. */
static void qemu_pci_serial(void **state)
{
	struct pci_serial_fn f = serial_fn(0x1b36, 0x0002, 2);
	struct uart p[PCI_SERIAL_MAX_PORTS];
	const char *why = NULL;

	io_bar(&f, 0, 0xc050, 8);
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), 1);
	assert_int_equal(p[0].space, UART_IO);
	assert_int_equal(p[0].base, 0xc050);
	assert_int_equal(p[0].width, 1);
	assert_int_equal(p[0].baud, 115200);
	assert_int_equal(p[0].clock, 0);
}

/* pci-serial-2x / -4x: one I/O BAR, a port every 8 bytes. */
static void qemu_multiport(void **state)
{
	struct pci_serial_fn f = serial_fn(0x1b36, 0x0004, 2);
	struct uart p[PCI_SERIAL_MAX_PORTS];
	const char *why;

	io_bar(&f, 0, 0xc000, 32);
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(p[i].base, 0xc000 + 8 * i);
	/* The caller's array bounds the ports. */
	assert_int_equal(pci_serial_match(&f, p, 1, &why), 1);
	/* A 256-byte BAR: at most what fits in the array. */
	io_bar(&f, 0, 0xd000, 256);
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), PCI_SERIAL_MAX_PORTS);
}

/* Intel AMT SOL (the KT function, 00:16.3): 8-byte I/O BAR0 and a 4 KiB
 * memory BAR1; the UART is the I/O one. */
static void intel_amt_sol(void **state)
{
	struct pci_serial_fn f = serial_fn(0x8086, 0xa13d, 2);
	struct uart p[PCI_SERIAL_MAX_PORTS];
	const char *why;

	io_bar(&f, 0, 0xf0e0, 8);
	mem_bar(&f, 1, 0xdf12c000, 4096);
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), 1);
	assert_int_equal(p[0].space, UART_IO);
	assert_int_equal(p[0].base, 0xf0e0);
}

/* A card with an 8-byte I/O BAR per port. */
static void bar_per_port(void **state)
{
	struct pci_serial_fn f = serial_fn(0x9710, 0x9865, 2);
	struct uart p[PCI_SERIAL_MAX_PORTS];
	const char *why;

	for (int i = 0; i < 3; i++)
		io_bar(&f, i, 0xe000 + 0x100 * (uint64_t)i, 8);
	io_bar(&f, 4, 0xe800, 16);      /* after a gap: not a port */
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), 3);
	assert_int_equal(p[2].base, 0xe200);
	/* Two I/O BARs of other sizes: no rule fits. */
	memset(f.bar, 0, sizeof(f.bar));
	io_bar(&f, 0, 0xe000, 16);
	io_bar(&f, 1, 0xe100, 16);
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), -ENODEV);
	assert_string_equal(why, "several I/O BARs, not one 8-byte BAR per port");
}

static void mmio_only(void **state)
{
	struct pci_serial_fn f = serial_fn(0x1c00, 0x3253, 2);
	struct uart p[PCI_SERIAL_MAX_PORTS];
	const char *why;

	mem_bar(&f, 0, 0x4000001000ULL, 4096);  /* a 64-bit BAR above 4 GiB */
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), 1);
	assert_int_equal(p[0].space, UART_MMIO);
	assert_int_equal(p[0].base, 0x4000001000ULL);
	assert_int_equal(p[0].width, 1);
}

static void bar_of_zero(void **state)
{
	struct pci_serial_fn f = serial_fn(0x1b36, 0x0002, 2);
	struct uart p[PCI_SERIAL_MAX_PORTS];
	const char *why;

	io_bar(&f, 0, 0, 8);
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), -EINVAL);
	assert_string_equal(why, "its I/O BAR is 0 (not assigned by the firmware)");
	memset(f.bar, 0, sizeof(f.bar));
	mem_bar(&f, 2, 0, 4096);
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), -EINVAL);
	assert_string_equal(why, "its memory BAR is 0 (not assigned by the firmware)");
	memset(f.bar, 0, sizeof(f.bar));
	io_bar(&f, 0, 0xe000, 8);
	io_bar(&f, 1, 0, 8);
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), -EINVAL);
}

static void refused(void **state)
{
	struct pci_serial_fn f = serial_fn(0x1b36, 0x0002, 7);  /* prog-if past the 16950 */
	struct uart p[PCI_SERIAL_MAX_PORTS];
	const char *why;

	io_bar(&f, 0, 0xc050, 8);
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), -ENODEV);
	assert_string_equal(why, "not 16550-compatible (prog-if above 06h)");
	for (uint8_t pi = 0; pi <= PCI_SERIAL_MAX_PROGIF; pi++) {
		f.progif = pi;
		assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), 1);
	}
	f.subclass = 0x01;              /* a parallel port */
	assert_false(pci_is_serial(f.class, f.subclass));
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), -ENODEV);
	f = serial_fn(0x1b36, 0x0002, 2);
	f.class = 0x02;                 /* a network card */
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), -ENODEV);
	f = serial_fn(0x1b36, 0x0002, 2);    /* no BAR at all */
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), -ENODEV);
	assert_string_equal(why, "no BAR");
	io_bar(&f, 0, 0xc000, 4);       /* too small for a UART */
	assert_int_equal(pci_serial_match(&f, p, PCI_SERIAL_MAX_PORTS, &why), -ENODEV);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_pci_serial),
		cmocka_unit_test(qemu_multiport),
		cmocka_unit_test(intel_amt_sol),
		cmocka_unit_test(bar_per_port),
		cmocka_unit_test(mmio_only),
		cmocka_unit_test(bar_of_zero),
		cmocka_unit_test(refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
