/* PCI configuration space, mechanism #1 (hv/pci.h). */
#include "hv/pci.h"
#include <x86/cpu.h>

#define PCI_CONF_ADDR   0xcf8
#define PCI_CONF_DATA   0xcfc
#define PCI_ENABLE      0x80000000u

uint32_t pci_read32(uint16_t bdf, uint8_t off)
{
	outl(PCI_CONF_ADDR, PCI_ENABLE | (uint32_t)bdf << 8 | (off & 0xfc));
	return inl(PCI_CONF_DATA);
}

void pci_write32(uint16_t bdf, uint8_t off, uint32_t v)
{
	outl(PCI_CONF_ADDR, PCI_ENABLE | (uint32_t)bdf << 8 | (off & 0xfc));
	outl(PCI_CONF_DATA, v);
}

void pci_read_bars(uint16_t bdf, struct pci_bar bar[PCI_NR_BARS])
{
	uint32_t cmd = pci_read32(bdf, PCI_COMMAND);

	/* Sizing moves the BAR for a moment: no decoding meanwhile. */
	pci_write32(bdf, PCI_COMMAND, cmd & ~(uint32_t)(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (int i = 0; i < PCI_NR_BARS; i++) {
		uint8_t off = PCI_BAR0 + 4 * i;
		uint32_t v = pci_read32(bdf, off), sz;

		bar[i] = (struct pci_bar){ 0 };
		pci_write32(bdf, off, 0xffffffff);
		sz = pci_read32(bdf, off);
		pci_write32(bdf, off, v);
		if (v & 1) {                    /* I/O: bits 31:2 */
			sz &= ~3u;
			bar[i].io = true;
			bar[i].addr = v & ~3u;
			bar[i].size = sz ? (uint32_t)(~sz + 1) & 0xffff : 0;
			continue;
		}
		bar[i].addr = v & ~0xfu;
		if ((v & 6) == 4 && i + 1 < PCI_NR_BARS) {     /* 64-bit: the next BAR is the high half */
			uint32_t hi = pci_read32(bdf, off + 4), szhi;
			uint64_t mask;

			pci_write32(bdf, off + 4, 0xffffffff);
			szhi = pci_read32(bdf, off + 4);
			pci_write32(bdf, off + 4, hi);
			bar[i].addr |= (uint64_t)hi << 32;
			mask = (uint64_t)szhi << 32 | (sz & ~0xfu);
			bar[i].size = mask ? ~mask + 1 : 0;
			bar[i].is64 = true;
			i++;
			bar[i] = (struct pci_bar){ 0 };
			continue;
		}
		sz &= ~0xfu;
		bar[i].size = sz ? (uint32_t)(~sz + 1) : 0;
	}
	pci_write32(bdf, PCI_COMMAND, cmd);
}

void pci_enable_decode(uint16_t bdf, bool io, bool mem)
{
	uint32_t cmd = pci_read32(bdf, PCI_COMMAND) & 0xffff;
	uint32_t want = cmd | (io ? PCI_COMMAND_IO : 0) | (mem ? PCI_COMMAND_MEMORY : 0);

	if (want != cmd)
		pci_write32(bdf, PCI_COMMAND, want);   /* status bits (high half) stay 0: no write-1-clear */
}

void pci_for_each(bool (*fn)(uint16_t bdf, void *arg), void *arg)
{
	for (unsigned int bus = 0; bus < 256; bus++)
		for (unsigned int dev = 0; dev < 32; dev++) {
			unsigned int nfn = 1;

			for (unsigned int f = 0; f < nfn; f++) {
				uint16_t bdf = PCI_BDF(bus, dev, f);
				uint32_t id = pci_read32(bdf, PCI_VENDOR_ID);

				if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0) {
					if (f == 0)
						break;
					continue;
				}
				if (f == 0 && (pci_read32(bdf, PCI_HEADER_TYPE & ~3) >> 16) & 0x80)
					nfn = 8;        /* multi-function device */
				if (!fn(bdf, arg))
					return;
			}
		}
}
