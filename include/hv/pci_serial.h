/*
 * PCI serial controllers: which functions are 16550-compatible UARTs and
 * where their ports are (class 07h subclass 00h, PCI Code and ID
 * Assignment 1.11, D.8). Pure: the caller reads the configuration space.
 */
#ifndef HV_PCI_SERIAL_H
#define HV_PCI_SERIAL_H

#include "hv/pci.h"
#include "hv/uart.h"

#define PCI_CLASS_COMM          0x07
#define PCI_SUBCLASS_SERIAL     0x00
#define PCI_SERIAL_MAX_PROGIF   0x06    /* 8250, 16450, 16550, 16650, 16750, 16850, 16950 */
#define PCI_SERIAL_MAX_PORTS    8

/* What the match looks at: IDs, class, BARs. */
struct pci_serial_fn {
	uint16_t vendor, device;
	uint8_t class, subclass, progif;
	struct pci_bar bar[PCI_NR_BARS];
};

/* Is it a serial controller at all (class 07h/00h, any prog-if)? */
bool pci_is_serial(uint8_t class, uint8_t subclass);
/*
 * The UART ports of a serial controller, in port order, at most max:
 *  - one I/O BAR (beside a memory BAR, Intel AMT SOL has one): a port
 *    every 8 bytes of it (multi-port cards);
 *  - else consecutive 8-byte I/O BARs: one port each;
 *  - else the first memory BAR: one port, byte registers.
 * Returns the number of ports, or -ENODEV (not 16550-compatible, no usable
 * BAR) / -EINVAL (the BAR is 0: the firmware did not assign it) with the
 * reason in *why. Ports get 115200 baud and the standard clock.
 */
int pci_serial_match(const struct pci_serial_fn *f, struct uart *ports, int max,
		     const char **why);

#endif
