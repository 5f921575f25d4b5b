/*
 * What console= asks for, parsed (pure: host-tested), and the check that
 * a device address from the firmware or the command line is I/O, not RAM.
 *
 *   console=ITEM[+ITEM...]   (',' separates too, as in console=com1,e9)
 *   auto                     discover (the default): SPCR/DBG2's UART, else
 *                            PCI serial controllers and legacy COM ports;
 *                            and a screen
 *   spcr                     the UART the firmware's SPCR (or DBG2) names
 *   com1..com4, 0xPORT       a UART at an I/O port
 *   pci                      the first PCI serial port
 *   pci@BB:DD.F[/N]          that PCI function's port N (default 0)
 *   mmio,ADDR[,WIDTH]        a memory-mapped UART; WIDTH 8, 16 or 32 bits
 *                            (or 1, 2, 4 bytes): access size and stride
 *   vga, fb                  the VGA text screen, the framebuffer
 *   e9                       also copy every byte to I/O port 0xe9
 */
#ifndef HV_CONSOLE_OPT_H
#define HV_CONSOLE_OPT_H

#include "hv/mb2.h"
#include "hv/types.h"

enum console_item_kind {
	CON_AUTO, CON_SPCR, CON_PORT, CON_PCI, CON_PCI_AT, CON_MMIO, CON_VGA, CON_FB,
};

struct console_item {
	enum console_item_kind kind;
	uint64_t addr;                  /* CON_PORT: the port; CON_MMIO: the address */
	uint8_t width;                  /* CON_MMIO: bytes */
	uint16_t bdf;                   /* CON_PCI_AT */
	uint8_t index;                  /* CON_PCI_AT: the port of a multi-port card */
};

#define CONSOLE_SPEC_MAX 8

struct console_spec {
	unsigned int n;
	struct console_item item[CONSOLE_SPEC_MAX];
	bool e9;
};

/* Parse a console= value into *spec (untouched on error). 0, or -EINVAL
 * with the reason in why (NUL-terminated). */
int console_spec_parse(const char *s, struct console_spec *spec, char *why, size_t whylen);
/* The item as console= spells it ("mmio,0xfe030000,32"), for log lines. */
void console_item_str(const struct console_item *it, char *buf, size_t size);
/*
 * May [base, base + len) be a device's registers or pixels? Not 0, no
 * wrap, below 2^phys_bits, and no byte of it in RAM the memory map calls
 * available. 0, or -EINVAL with the reason in *why.
 */
int console_check_mmio(const struct mb2_mmap_entry *map, size_t n, uint64_t base,
		       uint64_t len, unsigned int phys_bits, const char **why);

#endif
