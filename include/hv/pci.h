/*
 * PCI configuration space through the PC's configuration mechanism #1
 * (I/O ports 0xcf8/0xcfc; PCI Local Bus 3.0, 3.2.2.3.2): enough to find
 * devices by class and read their BARs at boot. Not locked: used while
 * one CPU runs, before the root partition (which owns those ports).
 */
#ifndef HV_PCI_H
#define HV_PCI_H

#include "hv/types.h"

/* Bus, device, function in one word, as mechanism #1 addresses them. */
#define PCI_BDF(b, d, f)        ((uint16_t)((b) << 8 | (d) << 3 | (f)))
#define PCI_BUS(bdf)            ((bdf) >> 8)
#define PCI_DEV(bdf)            (((bdf) >> 3) & 0x1f)
#define PCI_FN(bdf)             ((bdf) & 7)

#define PCI_VENDOR_ID           0x00
#define PCI_COMMAND             0x04
#define PCI_CLASS_REV           0x08    /* class << 24 | subclass << 16 | prog-if << 8 | rev */
#define PCI_HEADER_TYPE         0x0e
#define PCI_BAR0                0x10
#define PCI_NR_BARS             6

#define PCI_COMMAND_IO          0x1
#define PCI_COMMAND_MEMORY      0x2

struct pci_bar {
	uint64_t addr;                  /* as the firmware assigned it; 0: unassigned */
	uint64_t size;                  /* 0: no BAR */
	bool io;                        /* an I/O BAR (else memory) */
	bool is64;                      /* the low half of a 64-bit BAR (the next slot is its high half) */
};

uint32_t pci_read32(uint16_t bdf, uint8_t off);
void pci_write32(uint16_t bdf, uint8_t off, uint32_t v);
/* Read the six BARs, sizing each (decoding is off meanwhile). */
void pci_read_bars(uint16_t bdf, struct pci_bar bar[PCI_NR_BARS]);
/* Switch on I/O and/or memory decoding (the firmware may have left them off). */
void pci_enable_decode(uint16_t bdf, bool io, bool mem);
/* Call fn for every function present on buses 0-255, in BDF order; fn
 * returns false to stop. */
void pci_for_each(bool (*fn)(uint16_t bdf, void *arg), void *arg);

#endif
