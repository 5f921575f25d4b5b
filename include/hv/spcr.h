/*
 * The serial port the firmware names: ACPI's SPCR (Serial Port Console
 * Redirection) and DBG2 (Debug Port Table 2) tables, both Microsoft
 * specifications that ACPI reserves the signatures for. Only the 16550
 * family is usable here; the other interface types (PL011 and the rest)
 * are named in the reason a table is refused.
 *
 * The parsers take a whole table (header included, as acpi_table_map
 * returns it) and check its signature, length and checksum themselves.
 */
#ifndef HV_SPCR_H
#define HV_SPCR_H

#include "hv/types.h"
#include "hv/uart.h"

/* Interface types (SPCR) = DBG2 serial port subtypes. */
#define SPCR_16550              0x00    /* full 16550 */
#define SPCR_16550_SUBSET       0x01    /* the 16450 subset (DBGP revision 1) */
#define SPCR_PL011              0x03
#define SPCR_16550_NVIDIA       0x05
#define SPCR_SBSA_32BIT         0x0d
#define SPCR_SBSA               0x0e
#define SPCR_16550_GAS          0x12    /* 16550 with the GAS's access size */
#define SPCR_INTEL_LPSS         0x14

#define DBG2_PORT_SERIAL        0x8000

/* GAS address space IDs (ACPI 5.2.3.2). */
#define ACPI_GAS_MEMORY         0
#define ACPI_GAS_IO             1

#define SPCR_MIN_LEN            80      /* revision 2 */

/* A usable port, and what the table said about it. */
struct spcr_port {
	struct uart uart;               /* space, base, width, baud, clock */
	uint16_t type;                  /* interface type / DBG2 subtype */
	bool pci;                       /* a PCI device (SPCR names its BDF) */
	uint8_t pci_bus, pci_dev, pci_fn;
};

/*
 * Parse an SPCR table of len bytes. 0 with *out filled, or -EINVAL (not an
 * SPCR, too short, bad checksum, a GAS that does not fit), -ENODEV (console
 * redirection off: address 0), -EOPNOTSUPP (not a 16550, or an address
 * space other than memory or I/O); *why says which in words.
 */
int spcr_parse(const void *table, size_t len, struct spcr_port *out, const char **why);
/* The first usable 16550 serial port of a DBG2 table, as spcr_parse;
 * -ENODEV when it lists none (why names the last one refused). */
int dbg2_parse(const void *table, size_t len, struct spcr_port *out, const char **why);
/* "16550", "ARM PL011", ... for log lines ("type 0x7" when unknown). */
const char *spcr_type_name(uint16_t type);

#endif
