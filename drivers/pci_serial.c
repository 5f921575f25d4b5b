/*
 * PCI serial controllers (hv/pci_serial.h). The BAR rules are the ones
 * Linux's 8250_pci falls back on for boards it has no entry for
 * (serial_pci_guess_board), which also cover Intel AMT's Serial-over-LAN
 * function (one 8-byte I/O BAR beside a memory BAR) and QEMU's pci-serial,
 * pci-serial-2x and pci-serial-4x.
 */
#include "hv/pci_serial.h"
#include "hv/errno.h"
#include "hv/string.h"

#define PORT_SPAN 8

bool pci_is_serial(uint8_t class, uint8_t subclass)
{
	return class == PCI_CLASS_COMM && subclass == PCI_SUBCLASS_SERIAL;
}

static void port(struct uart *u, enum uart_space space, uint64_t base)
{
	memset(u, 0, sizeof(*u));
	u->space = space;
	u->base = base;
	u->width = 1;
	u->baud = UART_BAUD_DEFAULT;
}

int pci_serial_match(const struct pci_serial_fn *f, struct uart *ports, int max,
		     const char **why)
{
	int nio = 0, nmem = 0, first_io = -1, first_mem = -1, n = 0;


	if (!pci_is_serial(f->class, f->subclass)) {
		*why = "not a serial controller";
		return -ENODEV;
	}
	if (f->progif > PCI_SERIAL_MAX_PROGIF) {
		*why = "not 16550-compatible (prog-if above 06h)";
		return -ENODEV;
	}
	for (int i = 0; i < PCI_NR_BARS; i++) {
		if (!f->bar[i].size)
			continue;
		if (f->bar[i].io) {
			nio++;
			if (first_io < 0)
				first_io = i;
		} else {
			nmem++;
			if (first_mem < 0)
				first_mem = i;
		}
	}
	if (nio == 1) {
		const struct pci_bar *b = &f->bar[first_io];

		if (!b->addr) {
			*why = "its I/O BAR is 0 (not assigned by the firmware)";
			return ERR(-EINVAL);
		}
		if (b->size < PORT_SPAN) {
			*why = "its I/O BAR is smaller than a UART";
			return ERR(-ENODEV);
		}
		for (uint64_t off = 0; off + PORT_SPAN <= b->size && n < max; off += PORT_SPAN)
			port(&ports[n++], UART_IO, b->addr + off);
		return n;
	}
	if (nio > 1) {                  /* a port per BAR: 8-byte I/O BARs in a row */
		for (int i = first_io; i < PCI_NR_BARS && n < max; i++) {
			const struct pci_bar *b = &f->bar[i];

			if (!b->io || b->size != PORT_SPAN)
				break;
			if (!b->addr) {
				*why = "one of its I/O BARs is 0 (not assigned by the firmware)";
				return ERR(-EINVAL);
			}
			port(&ports[n++], UART_IO, b->addr);
		}
		if (n > 1)
			return n;
		*why = "several I/O BARs, not one 8-byte BAR per port";
		return ERR(-ENODEV);
	}
	if (nmem) {
		const struct pci_bar *b = &f->bar[first_mem];

		if (!b->addr) {
			*why = "its memory BAR is 0 (not assigned by the firmware)";
			return ERR(-EINVAL);
		}
		if (b->size < PORT_SPAN) {
			*why = "its memory BAR is smaller than a UART";
			return ERR(-ENODEV);
		}
		port(&ports[0], UART_MMIO, b->addr);
		return 1;
	}
	*why = "no BAR";
	return ERR(-ENODEV);
}
