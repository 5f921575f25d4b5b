/*
 * SPCR and DBG2: the serial port the firmware names (hv/spcr.h).
 *
 * Microsoft's "Serial Port Console Redirection Table" (revisions 2-4) and
 * "Debug Port Table 2"; the address of the port is an ACPI Generic Address
 * Structure (ACPI 6.5, 5.2.3.2). Fields are read with get_le*: the tables
 * are packed and the GAS sits at odd offsets.
 */
#include "hv/spcr.h"
#include "hv/errno.h"
#include "hv/string.h"
#include "hv/unaligned.h"

#define HDR_LEN                 36
#define GAS_LEN                 12

/* SPCR field offsets. */
#define SPCR_TYPE               36
#define SPCR_ADDR               40
#define SPCR_BAUD               58
#define SPCR_PCI_DEVICE         64
#define SPCR_PCI_VENDOR         66
#define SPCR_PCI_BUS            68
#define SPCR_PCI_DEV            69
#define SPCR_PCI_FN             70
#define SPCR_CLOCK              76      /* revision 3 */
#define SPCR_PRECISE_BAUD       80      /* revision 4 */

/* DBG2: the table, then device information structures. */
#define DBG2_INFO_OFFSET        36
#define DBG2_INFO_COUNT         40
#define DBG2_MIN_LEN            44
#define DEV_LEN                 1
#define DEV_NR_GAS              3
#define DEV_PORT_TYPE           12
#define DEV_PORT_SUBTYPE        14
#define DEV_GAS_OFFSET          18
#define DEV_MIN_LEN             22

static const struct { uint16_t type; const char *name; } type_names[] = {
	{ 0x00, "16550" }, { 0x01, "16550 subset" }, { 0x02, "MAX311xE SPI UART" },
	{ 0x03, "ARM PL011" }, { 0x04, "MSM8x60" }, { 0x05, "NVIDIA 16550" },
	{ 0x06, "TI OMAP" }, { 0x08, "APM88xxxx" }, { 0x09, "MSM8974" },
	{ 0x0a, "SAM5250" }, { 0x0b, "Intel USIF" }, { 0x0c, "i.MX 6" },
	{ 0x0d, "ARM SBSA 32-bit" }, { 0x0e, "ARM SBSA" }, { 0x0f, "ARM DCC" },
	{ 0x10, "BCM2835" }, { 0x11, "SDM845 1.8432 MHz" }, { 0x12, "16550 (GAS)" },
	{ 0x13, "SDM845 7.372 MHz" }, { 0x14, "Intel LPSS" }, { 0x15, "RISC-V SBI" },
};

const char *spcr_type_name(uint16_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	return "unknown";
}

static bool is_16550(uint16_t type)
{
	switch (type) {
	case SPCR_16550:
	case SPCR_16550_SUBSET:
	case SPCR_16550_NVIDIA:
	case SPCR_16550_GAS:
	case SPCR_INTEL_LPSS:           /* a DesignWare 8250, 32-bit registers */
		return true;
	default:
		return false;
	}
}

static int table_check(const uint8_t *t, size_t len, const char *sig, size_t min,
		       const char **why)
{
	uint8_t sum = 0;

	if (!t || len < HDR_LEN || memcmp(t, sig, 4) != 0) {
		*why = "not the right table";
		return ERR(-EINVAL);
	}
	if (get_le32(t + 4) != len) {
		*why = "length field does not match the table";
		return ERR(-EINVAL);
	}
	if (len < min) {
		*why = "table too short";
		return ERR(-EINVAL);
	}
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + t[i]);
	if (sum) {
		*why = "bad checksum";
		return ERR(-EINVAL);
	}
	return 0;
}

/* A GAS naming a 16550's registers -> where and how to reach them. */
static int gas_to_uart(const uint8_t *gas, struct uart *u, const char **why)
{
	uint8_t space = gas[0], bits = gas[1], access = gas[3];
	uint64_t addr = get_le64(gas + 4);

	if (!addr) {
		*why = "address 0: console redirection is off";
		return -ENODEV;
	}
	memset(u, 0, sizeof(*u));
	u->base = addr;
	if (space == ACPI_GAS_IO) {
		if (addr > 0xffff - (UART_REGS - 1)) {
			*why = "I/O address above 0xfff8";
			return ERR(-EINVAL);
		}
		u->space = UART_IO;
		u->width = 1;
		return 0;
	}
	if (space != ACPI_GAS_MEMORY) {
		*why = "address space neither memory nor I/O";
		return ERR(-EOPNOTSUPP);
	}
	u->space = UART_MMIO;
	switch (access) {
	case 1: u->width = 1; break;
	case 2: u->width = 2; break;
	case 3: u->width = 4; break;
	case 0:                         /* undefined: the register width decides */
		u->width = bits == 32 ? 4 : bits == 16 ? 2 : 1;
		break;
	default:
		*why = "access width above 32 bits";
		return ERR(-EOPNOTSUPP);
	}
	if (addr > UINT64_MAX - uart_span(u)) {
		*why = "address range wraps";
		return ERR(-EINVAL);
	}
	return 0;
}

static uint32_t spcr_baud(uint8_t code)
{
	switch (code) {
	case 3: return 9600;
	case 4: return 19200;
	case 6: return 57600;
	case 7: return 115200;
	default: return 0;              /* 0: "as is"; others are not defined */
	}
}

int spcr_parse(const void *table, size_t len, struct spcr_port *out, const char **why)
{
	const uint8_t *t = table;
	int r;

	r = table_check(t, len, "SPCR", SPCR_MIN_LEN, why);
	if (r)
		return r;
	memset(out, 0, sizeof(*out));
	out->type = t[SPCR_TYPE];
	if (!is_16550(out->type)) {
		*why = "interface type is not a 16550";
		return ERR(-EOPNOTSUPP);
	}
	r = gas_to_uart(t + SPCR_ADDR, &out->uart, why);
	if (r)
		return r;
	out->uart.baud = spcr_baud(t[SPCR_BAUD]);
	if (t[8] >= 3)
		out->uart.clock = get_le32(t + SPCR_CLOCK);
	if (t[8] >= 4 && len >= SPCR_PRECISE_BAUD + 4 && get_le32(t + SPCR_PRECISE_BAUD))
		out->uart.baud = get_le32(t + SPCR_PRECISE_BAUD);
	if (get_le16(t + SPCR_PCI_VENDOR) != 0xffff && get_le16(t + SPCR_PCI_DEVICE) != 0xffff) {
		out->pci = true;
		out->pci_bus = t[SPCR_PCI_BUS];
		out->pci_dev = t[SPCR_PCI_DEV];
		out->pci_fn = t[SPCR_PCI_FN];
	}
	/* An LPSS UART's clock is no 1.8432 MHz: without the table's clock,
	 * keep the divisor the firmware programmed. */
	if (out->type == SPCR_INTEL_LPSS && !out->uart.clock)
		out->uart.baud = 0;
	return 0;
}

int dbg2_parse(const void *table, size_t len, struct spcr_port *out, const char **why)
{
	const uint8_t *t = table;
	uint32_t off, count;
	int r, err = -ENODEV;

	r = table_check(t, len, "DBG2", DBG2_MIN_LEN, why);
	if (r)
		return r;
	off = get_le32(t + DBG2_INFO_OFFSET);
	count = get_le32(t + DBG2_INFO_COUNT);
	*why = "no serial port listed";
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *d;
		uint16_t dlen, gas_off;

		if (off < DBG2_MIN_LEN || off > len || len - off < DEV_MIN_LEN) {
			*why = "device entry runs past the table";
			return ERR(-EINVAL);
		}
		d = t + off;
		dlen = get_le16(d + DEV_LEN);
		if (dlen < DEV_MIN_LEN || dlen > len - off) {
			*why = "device entry length out of bounds";
			return ERR(-EINVAL);
		}
		off += dlen;
		if (get_le16(d + DEV_PORT_TYPE) != DBG2_PORT_SERIAL)
			continue;
		memset(out, 0, sizeof(*out));
		out->type = get_le16(d + DEV_PORT_SUBTYPE);
		if (!is_16550(out->type)) {
			*why = "interface type is not a 16550";
			err = ERR(-EOPNOTSUPP);
			continue;
		}
		gas_off = get_le16(d + DEV_GAS_OFFSET);
		if (!d[DEV_NR_GAS] || gas_off < DEV_MIN_LEN || gas_off > dlen ||
		    dlen - gas_off < GAS_LEN) {
			*why = "register address outside its device entry";
			err = ERR(-EINVAL);
			continue;
		}
		r = gas_to_uart(d + gas_off, &out->uart, why);
		if (r) {
			err = r;
			continue;
		}
		out->uart.baud = out->type == SPCR_INTEL_LPSS ? 0 : UART_BAUD_DEFAULT;
		return 0;
	}
	return err;
}
