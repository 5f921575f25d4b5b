/*
 * console= (hv/console_opt.c): every item and its spelling, lists, the
 * legacy "com1,e9", each bad value with the reason given; and the check
 * that a device address is I/O, not RAM.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "hv/console_opt.h"
#include "hv/errno.h"
#include "hv/uart.h"

static struct console_spec spec;
static char why[192];

static int parse(const char *s)
{
	return console_spec_parse(s, &spec, why, sizeof(why));
}

static const char *item(unsigned int i)
{
	static char buf[64];

	console_item_str(&spec.item[i], buf, sizeof(buf));
	return buf;
}

static void single_items(void **state)
{
	static const struct { const char *in, *out; enum console_item_kind kind; } cases[] = {
		{ "auto", "auto", CON_AUTO }, { "spcr", "spcr", CON_SPCR },
		{ "com1", "0x3f8", CON_PORT }, { "com2", "0x2f8", CON_PORT },
		{ "com3", "0x3e8", CON_PORT }, { "com4", "0x2e8", CON_PORT },
		{ "0x2f8", "0x2f8", CON_PORT }, { "0XE000", "0xe000", CON_PORT },
		{ "pci", "pci", CON_PCI }, { "pci@00:16.3", "pci@00:16.3/0", CON_PCI_AT },
		{ "pci@3:0.0/1", "pci@03:00.0/1", CON_PCI_AT },
		{ "pci@ff:1f.7/7", "pci@ff:1f.7/7", CON_PCI_AT },
		{ "vga", "vga", CON_VGA }, { "fb", "fb", CON_FB },
		{ "mmio,0xfe030000", "mmio,0xfe030000,8", CON_MMIO },
		{ "mmio,0xfe030000,32", "mmio,0xfe030000,32", CON_MMIO },
		{ "mmio,0xfe030000,4", "mmio,0xfe030000,32", CON_MMIO },
		{ "mmio,0xfe030000,16", "mmio,0xfe030000,16", CON_MMIO },
		{ "mmio,4261609472,1", "mmio,0xfe030000,8", CON_MMIO },
		{ "mmio,0x4000000000", "mmio,0x4000000000,8", CON_MMIO },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].in), 0);
		assert_int_equal(spec.n, 1);
		assert_false(spec.e9);
		assert_int_equal(spec.item[0].kind, cases[i].kind);
		assert_string_equal(item(0), cases[i].out);
	}
	assert_int_equal(parse("pci@00:16.3/2"), 0);
	assert_int_equal(spec.item[0].bdf, 0x16 << 3 | 3);
	assert_int_equal(spec.item[0].index, 2);
}

static void lists_and_e9(void **state)
{
	assert_int_equal(parse("com1,e9"), 0);          /* as it always was */
	assert_int_equal(spec.n, 1);
	assert_true(spec.e9);
	assert_int_equal(spec.item[0].addr, COM1_PORT);
	assert_int_equal(parse("e9"), 0);               /* the default consoles, mirrored */
	assert_int_equal(spec.n, 1);
	assert_int_equal(spec.item[0].kind, CON_AUTO);
	assert_true(spec.e9);
	assert_int_equal(parse("pci+vga+fb"), 0);
	assert_int_equal(spec.n, 3);
	assert_int_equal(spec.item[2].kind, CON_FB);
	/* mmio takes its address and width; the next item follows. */
	assert_int_equal(parse("mmio,0xfe030000,32+com2,vga"), 0);
	assert_int_equal(spec.n, 3);
	assert_string_equal(item(0), "mmio,0xfe030000,32");
	assert_string_equal(item(1), "0x2f8");
	assert_int_equal(spec.item[2].kind, CON_VGA);
	assert_int_equal(parse("mmio,0xfe030000,vga"), 0);   /* no width given */
	assert_string_equal(item(0), "mmio,0xfe030000,8");
	assert_int_equal(spec.item[1].kind, CON_VGA);
	assert_int_equal(parse("auto+com1"), 0);
	assert_int_equal(spec.n, 2);
}

static void bad_values(void **state)
{
	static const struct { const char *in, *why; } cases[] = {
		{ "", "empty" },
		{ "bogus", "'bogus': unknown console (auto, spcr, com1-com4, 0xPORT, pci, "
			   "pci@BB:DD.F, mmio,ADDR[,WIDTH], vga, fb, e9)" },
		{ "com1,,vga", "empty item" },
		{ "com1+", "empty item" },
		{ "com5", NULL }, { "0x", NULL },
		{ "0x10000", "'0x10000': an I/O port is 0x1-0xfff8" },
		{ "0xfffa", "'0xfffa': an I/O port is 0x1-0xfff8" },
		{ "0x0", "'0x0': an I/O port is 0x1-0xfff8" }, { "0x3g8", NULL },
		{ "pci@", NULL },
		{ "pci@00:16", "'pci@00:16': not pci@BB:DD.F[/N] (hex bus, device, function)" },
		{ "pci@00:20.0", NULL }, { "pci@100:00.0", NULL }, { "pci@00:01.8", NULL },
		{ "pci@00:01.0/8", NULL }, { "pci@00:01.0/", NULL }, { "pci@zz:01.0", NULL },
		{ "mmio", "mmio needs an address: mmio,0xADDR[,WIDTH]" },
		{ "mmio,0", "mmio needs an address: mmio,0xADDR[,WIDTH]" },
		{ "mmio,0xfe030000,12", "mmio width 12: 8, 16 or 32 bits" },
		{ "mmio,0xfe030000,64", "mmio width 64: 8, 16 or 32 bits" },
		{ "mmio,0x1ffffffffffffffff", NULL },
		{ "com1+com2+com3+com4+vga+fb+pci+spcr+auto", "more than 8 consoles" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		spec.n = 99;
		assert_int_equal(parse(cases[i].in), -EINVAL);
		assert_int_equal(spec.n, 99);           /* untouched */
		assert_true(why[0] != '\0');
		if (cases[i].why)
			assert_string_equal(why, cases[i].why);
	}
	assert_int_equal(console_spec_parse(NULL, &spec, why, sizeof(why)), -EINVAL);
}

static void io_not_ram(void **state)
{
	static const struct mb2_mmap_entry map[] = {
		{ 0, 0x9fc00, MB2_MMAP_AVAILABLE, 0 },
		{ 0xf0000, 0x10000, MB2_MMAP_RESERVED, 0 },
		{ 0x100000, 0x7ee0000, MB2_MMAP_AVAILABLE, 0 },
		{ 0xfeffc000, 0x4000, MB2_MMAP_RESERVED, 0 },
		{ 0x100000000ULL, 0x40000000, MB2_MMAP_AVAILABLE, 0 },
	};
	const char *w;
	size_t n = sizeof(map) / sizeof(map[0]);

	assert_int_equal(console_check_mmio(map, n, 0xfe030000, 32, 39, &w), 0);
	assert_int_equal(console_check_mmio(map, n, 0xfeffc000, 32, 39, &w), 0);   /* reserved */
	assert_int_equal(console_check_mmio(map, n, 0xb8000, 4000, 39, &w), 0);     /* the VGA hole */
	assert_int_equal(console_check_mmio(map, n, 0x4000000000ULL, 0x800000, 40, &w), 0);
	assert_int_equal(console_check_mmio(map, n, 0x200000, 8, 39, &w), -EINVAL);
	assert_string_equal(w, "it is RAM, not I/O (the memory map says available)");
	assert_int_equal(console_check_mmio(map, n, 0x9fbf8, 16, 39, &w), -EINVAL); /* straddles */
	assert_int_equal(console_check_mmio(map, n, 0x120000000ULL, 8, 39, &w), -EINVAL);
	assert_int_equal(console_check_mmio(map, n, 0, 8, 39, &w), -EINVAL);
	assert_string_equal(w, "address 0");
	assert_int_equal(console_check_mmio(map, n, UINT64_MAX - 4, 8, 64, &w), -EINVAL);
	assert_string_equal(w, "the range wraps past 2^64");
	assert_int_equal(console_check_mmio(map, n, 0x8000000000ULL, 8, 39, &w), -EINVAL);
	assert_string_equal(w, "above the CPU's physical address width");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(single_items),
		cmocka_unit_test(lists_and_e9),
		cmocka_unit_test(bad_values),
		cmocka_unit_test(io_not_ram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
