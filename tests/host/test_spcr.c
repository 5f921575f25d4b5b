/*
 * SPCR and DBG2 parsing (drivers/spcr.c): good tables, every way a table
 * can be wrong (truncated, length, checksum, signature), each interface
 * type, each register access width, the baud codes and clock; and the
 * whole path through acpi_find_table on a fake physical memory, where a
 * table with a bad checksum is refused before the parser sees it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/acpi.h"
#include "hv/errno.h"
#include "hv/spcr.h"
#include "host_stubs.h"

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void fix_sum(uint8_t *t, size_t len)
{
	uint8_t s = 0;

	t[9] = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + t[i]);
	t[9] = (uint8_t)-s;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memset(t, 0, len);
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "HVTEST", 6);
}

static void gas(uint8_t *g, uint8_t space, uint8_t bits, uint8_t access, uint64_t addr)
{
	g[0] = space;
	g[1] = bits;
	g[2] = 0;
	g[3] = access;
	put64(g + 4, addr);
}

/* An SPCR of revision rev (80 bytes; 88 from revision 4). */
static size_t spcr(uint8_t *t, uint8_t rev, uint8_t type, uint8_t space, uint8_t bits,
		   uint8_t access, uint64_t addr, uint8_t baud)
{
	size_t len = rev >= 4 ? 88 : 80;

	header(t, "SPCR", (uint32_t)len, rev);
	t[36] = type;
	gas(t + 40, space, bits, access, addr);
	t[58] = baud;
	put16(t + 64, 0xffff);          /* not a PCI device */
	put16(t + 66, 0xffff);
	fix_sum(t, len);
	return len;
}

static void spcr_io_com2(void **state)
{
	uint8_t t[128];
	size_t len = spcr(t, 2, SPCR_16550, ACPI_GAS_IO, 8, 1, 0x2f8, 7);
	struct spcr_port p;
	const char *why = NULL;

	assert_int_equal(spcr_parse(t, len, &p, &why), 0);
	assert_int_equal(p.uart.space, UART_IO);
	assert_int_equal(p.uart.base, 0x2f8);
	assert_int_equal(p.uart.width, 1);
	assert_int_equal(p.uart.baud, 115200);
	assert_int_equal(p.uart.clock, 0);
	assert_int_equal(p.type, SPCR_16550);
	assert_false(p.pci);
	assert_string_equal(spcr_type_name(p.type), "16550");
}

static void spcr_baud_codes(void **state)
{
	static const struct { uint8_t code; uint32_t baud; } codes[] = {
		{ 0, 0 }, { 3, 9600 }, { 4, 19200 }, { 6, 57600 }, { 7, 115200 }, { 5, 0 }, { 99, 0 },
	};
	uint8_t t[128];
	struct spcr_port p;
	const char *why;

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		size_t len = spcr(t, 2, SPCR_16550, ACPI_GAS_IO, 8, 1, 0x3f8, codes[i].code);

		assert_int_equal(spcr_parse(t, len, &p, &why), 0);
		assert_int_equal(p.uart.baud, codes[i].baud);
	}
}

/* Revision 3 adds the UART clock, revision 4 a precise baud rate. */
static void spcr_clock_and_precise_baud(void **state)
{
	uint8_t t[128];
	struct spcr_port p;
	const char *why;
	size_t len = spcr(t, 4, SPCR_16550, ACPI_GAS_MEMORY, 32, 3, 0xfe030000, 7);

	put32(t + 76, 48000000);
	put32(t + 80, 1500000);
	fix_sum(t, len);
	assert_int_equal(spcr_parse(t, len, &p, &why), 0);
	assert_int_equal(p.uart.clock, 48000000);
	assert_int_equal(p.uart.baud, 1500000);
	/* Revision 2: the same bytes are reserved and ignored. */
	t[8] = 2;
	fix_sum(t, len);
	assert_int_equal(spcr_parse(t, len, &p, &why), 0);
	assert_int_equal(p.uart.clock, 0);
	assert_int_equal(p.uart.baud, 115200);
}

static void spcr_mmio_access_widths(void **state)
{
	static const struct { uint8_t bits, access, width; } cases[] = {
		{ 8, 1, 1 }, { 16, 2, 2 }, { 32, 3, 4 },
		{ 8, 0, 1 }, { 16, 0, 2 }, { 32, 0, 4 },       /* access undefined: the bit width */
		{ 32, 1, 1 },                                   /* the access size wins */
	};
	uint8_t t[128];
	struct spcr_port p;
	const char *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = spcr(t, 2, SPCR_16550_GAS, ACPI_GAS_MEMORY, cases[i].bits,
				  cases[i].access, 0xfedc9000, 7);

		assert_int_equal(spcr_parse(t, len, &p, &why), 0);
		assert_int_equal(p.uart.space, UART_MMIO);
		assert_int_equal(p.uart.base, 0xfedc9000);
		assert_int_equal(p.uart.width, cases[i].width);
		assert_int_equal(uart_span(&p.uart), 8 * cases[i].width);
	}
	/* 64-bit accesses: no 16550 has them. */
	size_t len = spcr(t, 2, SPCR_16550, ACPI_GAS_MEMORY, 64, 4, 0xfedc9000, 7);

	assert_int_equal(spcr_parse(t, len, &p, &why), -EOPNOTSUPP);
	assert_string_equal(why, "access width above 32 bits");
}

static void spcr_interface_types(void **state)
{
	static const struct { uint8_t type; int ret; } types[] = {
		{ SPCR_16550, 0 }, { SPCR_16550_SUBSET, 0 }, { SPCR_16550_NVIDIA, 0 },
		{ SPCR_16550_GAS, 0 }, { SPCR_INTEL_LPSS, 0 },
		{ SPCR_PL011, -EOPNOTSUPP }, { SPCR_SBSA, -EOPNOTSUPP },
		{ SPCR_SBSA_32BIT, -EOPNOTSUPP }, { 0x02, -EOPNOTSUPP }, { 0x10, -EOPNOTSUPP },
		{ 0x77, -EOPNOTSUPP },
	};
	uint8_t t[128];
	struct spcr_port p;
	const char *why;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t len = spcr(t, 2, types[i].type, ACPI_GAS_MEMORY, 32, 3, 0xfe000000, 7);

		why = NULL;
		assert_int_equal(spcr_parse(t, len, &p, &why), types[i].ret);
		assert_int_equal(p.type, types[i].type);
		if (types[i].ret)
			assert_string_equal(why, "interface type is not a 16550");
	}
	assert_string_equal(spcr_type_name(SPCR_PL011), "ARM PL011");
	assert_string_equal(spcr_type_name(0x77), "unknown");
}

/* An LPSS UART runs from another clock: keep the firmware's divisor. */
static void spcr_lpss_keeps_divisor(void **state)
{
	uint8_t t[128];
	struct spcr_port p;
	const char *why;
	size_t len = spcr(t, 2, SPCR_INTEL_LPSS, ACPI_GAS_MEMORY, 32, 3, 0xfe032000, 7);

	assert_int_equal(spcr_parse(t, len, &p, &why), 0);
	assert_int_equal(p.uart.baud, 0);
	assert_int_equal(p.uart.width, 4);
}

static void spcr_bad_tables(void **state)
{
	uint8_t t[128];
	struct spcr_port p;
	const char *why;
	size_t len = spcr(t, 2, SPCR_16550, ACPI_GAS_IO, 8, 1, 0x3f8, 7);

	/* Truncated: fewer bytes than a revision-2 table, consistently. */
	put32(t + 4, 60);
	fix_sum(t, 60);
	assert_int_equal(spcr_parse(t, 60, &p, &why), -EINVAL);
	assert_string_equal(why, "table too short");
	/* The buffer is shorter than the length field says. */
	len = spcr(t, 2, SPCR_16550, ACPI_GAS_IO, 8, 1, 0x3f8, 7);
	assert_int_equal(spcr_parse(t, len - 4, &p, &why), -EINVAL);
	assert_string_equal(why, "length field does not match the table");
	assert_int_equal(spcr_parse(t, 20, &p, &why), -EINVAL);
	/* One byte changed: the checksum catches it. */
	t[58] = 6;
	assert_int_equal(spcr_parse(t, len, &p, &why), -EINVAL);
	assert_string_equal(why, "bad checksum");
	/* Another table's signature. */
	len = spcr(t, 2, SPCR_16550, ACPI_GAS_IO, 8, 1, 0x3f8, 7);
	memcpy(t, "SPCX", 4);
	fix_sum(t, len);
	assert_int_equal(spcr_parse(t, len, &p, &why), -EINVAL);
	assert_int_equal(spcr_parse(NULL, len, &p, &why), -EINVAL);
}

static void spcr_bad_addresses(void **state)
{
	uint8_t t[128];
	struct spcr_port p;
	const char *why;
	size_t len;

	len = spcr(t, 2, SPCR_16550, ACPI_GAS_IO, 8, 1, 0, 7);
	assert_int_equal(spcr_parse(t, len, &p, &why), -ENODEV);
	assert_string_equal(why, "address 0: console redirection is off");
	len = spcr(t, 2, SPCR_16550, ACPI_GAS_IO, 8, 1, 0xfffa, 7);
	assert_int_equal(spcr_parse(t, len, &p, &why), -EINVAL);
	assert_string_equal(why, "I/O address above 0xfff8");
	len = spcr(t, 2, SPCR_16550, 2 /* PCI configuration space */, 8, 1, 0x1000, 7);
	assert_int_equal(spcr_parse(t, len, &p, &why), -EOPNOTSUPP);
	assert_string_equal(why, "address space neither memory nor I/O");
	len = spcr(t, 2, SPCR_16550, ACPI_GAS_MEMORY, 32, 3, UINT64_MAX - 8, 7);
	assert_int_equal(spcr_parse(t, len, &p, &why), -EINVAL);
	assert_string_equal(why, "address range wraps");
}

static void spcr_pci_device(void **state)
{
	uint8_t t[128];
	struct spcr_port p;
	const char *why;
	size_t len = spcr(t, 2, SPCR_16550, ACPI_GAS_IO, 8, 1, 0xf0e0, 7);

	put16(t + 64, 0xa13d);
	put16(t + 66, 0x8086);
	t[68] = 0;
	t[69] = 0x16;
	t[70] = 3;
	fix_sum(t, len);
	assert_int_equal(spcr_parse(t, len, &p, &why), 0);
	assert_true(p.pci);
	assert_int_equal(p.pci_dev, 0x16);
	assert_int_equal(p.pci_fn, 3);
}

/* ---------------------------------------------------------------- DBG2 */

/* A device information structure at t + off with one GAS: its length. */
static size_t dbg2_dev(uint8_t *d, uint16_t port_type, uint16_t subtype, uint8_t space,
		       uint8_t access, uint64_t addr)
{
	size_t len = 22 + 12 + 4;       /* fixed part, one GAS, one address size */

	memset(d, 0, len);
	put16(d + 1, (uint16_t)len);
	d[3] = 1;
	put16(d + 12, port_type);
	put16(d + 14, subtype);
	put16(d + 18, 22);
	put16(d + 20, 34);
	gas(d + 22, space, access == 3 ? 32 : 8, access, addr);
	put32(d + 34, 8);
	return len;
}

static size_t dbg2(uint8_t *t, int n, const uint16_t *types, const uint16_t *subtypes)
{
	size_t off = 44;

	memset(t, 0, 512);
	for (int i = 0; i < n; i++)
		off += dbg2_dev(t + off, types[i], subtypes[i], ACPI_GAS_MEMORY, 3,
				0xfe000000 + 0x1000 * (uint64_t)i);
	header(t, "DBG2", (uint32_t)off, 0);
	put32(t + 36, 44);
	put32(t + 40, (uint32_t)n);
	off = 44;
	for (int i = 0; i < n; i++)
		off += dbg2_dev(t + off, types[i], subtypes[i], ACPI_GAS_MEMORY, 3,
				0xfe000000 + 0x1000 * (uint64_t)i);
	fix_sum(t, off);
	return off;
}

static void dbg2_first_serial_16550(void **state)
{
	static const uint16_t types[] = { 0x8003, 0x8000, 0x8000 };    /* net, serial, serial */
	static const uint16_t subtypes[] = { 0x1234, SPCR_PL011, SPCR_16550_GAS };
	uint8_t t[512];
	struct spcr_port p;
	const char *why;
	size_t len = dbg2(t, 3, types, subtypes);

	assert_int_equal(dbg2_parse(t, len, &p, &why), 0);
	assert_int_equal(p.type, SPCR_16550_GAS);
	assert_int_equal(p.uart.space, UART_MMIO);
	assert_int_equal(p.uart.base, 0xfe002000);
	assert_int_equal(p.uart.width, 4);
	assert_int_equal(p.uart.baud, 115200);
}

static void dbg2_no_usable_port(void **state)
{
	static const uint16_t types[] = { 0x8000 };
	static const uint16_t pl011[] = { SPCR_PL011 };
	static const uint16_t net[] = { 0x8003 };
	uint8_t t[512];
	struct spcr_port p;
	const char *why;
	size_t len;

	len = dbg2(t, 1, types, pl011);
	assert_int_equal(dbg2_parse(t, len, &p, &why), -EOPNOTSUPP);
	assert_string_equal(why, "interface type is not a 16550");
	len = dbg2(t, 1, net, pl011);
	assert_int_equal(dbg2_parse(t, len, &p, &why), -ENODEV);
	assert_string_equal(why, "no serial port listed");
	len = dbg2(t, 0, types, pl011);
	assert_int_equal(dbg2_parse(t, len, &p, &why), -ENODEV);
}

static void dbg2_bad_tables(void **state)
{
	static const uint16_t types[] = { 0x8000 };
	static const uint16_t sub[] = { SPCR_16550 };
	uint8_t t[512];
	struct spcr_port p;
	const char *why;
	size_t len = dbg2(t, 1, types, sub);

	/* The count says two entries; only one is there. */
	put32(t + 40, 2);
	fix_sum(t, len);
	assert_int_equal(dbg2_parse(t, len, &p, &why), 0);      /* the first one is fine */
	put16(t + 14 + 44, SPCR_PL011);
	fix_sum(t, len);
	assert_int_equal(dbg2_parse(t, len, &p, &why), -EINVAL);
	assert_string_equal(why, "device entry runs past the table");
	/* An entry longer than the table. */
	len = dbg2(t, 1, types, sub);
	put16(t + 44 + 1, 400);
	fix_sum(t, len);
	assert_int_equal(dbg2_parse(t, len, &p, &why), -EINVAL);
	assert_string_equal(why, "device entry length out of bounds");
	/* The GAS offset points outside the entry. */
	len = dbg2(t, 1, types, sub);
	put16(t + 44 + 18, 30);
	fix_sum(t, len);
	assert_int_equal(dbg2_parse(t, len, &p, &why), -EINVAL);
	assert_string_equal(why, "register address outside its device entry");
	/* Checksum and truncation. */
	len = dbg2(t, 1, types, sub);
	t[50] ^= 1;
	assert_int_equal(dbg2_parse(t, len, &p, &why), -EINVAL);
	assert_string_equal(why, "bad checksum");
	len = dbg2(t, 1, types, sub);
	assert_int_equal(dbg2_parse(t, 40, &p, &why), -EINVAL);
}

/* ------------------------------------------- through the ACPI table walk */

#define PHYS_SIZE (64u * 1024)
static uint8_t *phys;

static const void *fake_map(phys_addr_t pa, size_t len, void *ctx)
{
	if (pa > PHYS_SIZE || len > PHYS_SIZE - pa)
		return NULL;
	return phys + pa;
}

/* RSDP at 0, XSDT at 0x100 listing the tables at 0x1000 and 0x2000. */
static void make_acpi(struct acpi_rsdp_info *info)
{
	uint8_t *x = phys + 0x100;

	memset(phys, 0, PHYS_SIZE);
	header(x, "XSDT", 36 + 16, 1);
	put64(x + 36, 0x1000);
	put64(x + 44, 0x2000);
	fix_sum(x, 36 + 16);
	*info = (struct acpi_rsdp_info){ .revision = 2, .xsdt = 0x100 };
}

static void through_acpi_find_table(void **state)
{
	static const uint16_t types[] = { 0x8000 };
	static const uint16_t sub[] = { SPCR_16550 };
	struct acpi_rsdp_info info;
	const struct acpi_sdt_header *t;
	struct spcr_port p;
	const char *why;
	size_t len;

	phys = calloc(1, PHYS_SIZE);
	make_acpi(&info);
	len = spcr(phys + 0x1000, 2, SPCR_16550, ACPI_GAS_IO, 8, 1, 0x2f8, 7);
	dbg2(phys + 0x2000, 1, types, sub);
	assert_int_equal(acpi_find_table(&info, "SPCR", fake_map, NULL, &t), 0);
	assert_int_equal(spcr_parse(t, t->length, &p, &why), 0);
	assert_int_equal(p.uart.base, 0x2f8);
	assert_int_equal(acpi_find_table(&info, "DBG2", fake_map, NULL, &t), 0);
	assert_int_equal(dbg2_parse(t, t->length, &p, &why), 0);
	assert_int_equal(p.uart.base, 0xfe000000);

	/* A bad checksum: reported by the walk, the table never reaches the parser. */
	phys[0x1000 + 58] = 3;
	host_log_clear();
	assert_int_equal(acpi_find_table(&info, "SPCR", fake_map, NULL, &t), -EINVAL);
	assert_true(host_log_contains("SPCR at 0x1000: bad checksum"));
	/* A length running past mapped memory. */
	put32(phys + 0x1000 + 4, PHYS_SIZE);
	assert_int_equal(acpi_find_table(&info, "SPCR", fake_map, NULL, &t), -EFAULT);
	(void)len;
	free(phys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spcr_io_com2),
		cmocka_unit_test(spcr_baud_codes),
		cmocka_unit_test(spcr_clock_and_precise_baud),
		cmocka_unit_test(spcr_mmio_access_widths),
		cmocka_unit_test(spcr_interface_types),
		cmocka_unit_test(spcr_lpss_keeps_divisor),
		cmocka_unit_test(spcr_bad_tables),
		cmocka_unit_test(spcr_bad_addresses),
		cmocka_unit_test(spcr_pci_device),
		cmocka_unit_test(dbg2_first_serial_16550),
		cmocka_unit_test(dbg2_no_usable_port),
		cmocka_unit_test(dbg2_bad_tables),
		cmocka_unit_test(through_acpi_find_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
