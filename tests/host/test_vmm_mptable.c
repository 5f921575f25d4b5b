/* MP tables, read back the way Linux's arch/x86/kernel/mpparse.c reads them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/errno.h"
#include "vmm/mptable.h"

#define RAM (2u << 20)

static uint8_t *ram;
static char err[160];

static int setup(void **state)
{
	free(ram);
	ram = calloc(1, RAM);
	assert_non_null(ram);
	err[0] = 0;
	return 0;
}

static int teardown(void **state)
{
	free(ram);
	ram = NULL;
	return 0;
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* What Linux learns from the table. */
struct parsed {
	unsigned int ncpus, bsp, bsp_count, buses, ioapics, irqs, lints;
	uint8_t apic_ids[256];
	uint8_t ioapic_id;
	uint32_t ioapic_addr, lapic;
	int irq_pin[16];                /* -1: no entry */
	bool extint_lint0, nmi_lint1;
};

/* smp_scan_config(): "_MP_" on a 16-byte boundary, length 1, checksum, rev 1 or 4. */
static const uint8_t *scan(uint32_t base, uint32_t len)
{
	for (uint32_t a = base; a < base + len; a += 16) {
		const uint8_t *p = ram + a;

		if (!memcmp(p, "_MP_", 4) && p[8] == 1 && !sum(p, 16) && (p[9] == 1 || p[9] == 4))
			return p;
	}
	return NULL;
}

/* smp_check_mpc() and smp_read_mpc(). */
static void parse(const uint8_t *mpf, struct parsed *r)
{
	const uint8_t *mpc, *e, *end;
	uint16_t length, count, seen = 0;

	memset(r, 0, sizeof(*r));
	memset(r->irq_pin, -1, sizeof(r->irq_pin));
	assert_int_equal(mpf[11], 0);                   /* feature1: a table, not a default config */
	assert_int_equal(mpf[12] & 0x80, 0);            /* no IMCR: virtual wire */
	mpc = ram + rd32(mpf + 4);
	assert_memory_equal(mpc, "PCMP", 4);
	length = rd16(mpc + 4);
	assert_int_equal(sum(mpc, length), 0);
	assert_true(mpc[6] == 1 || mpc[6] == 4);
	count = rd16(mpc + 34);
	r->lapic = rd32(mpc + 36);
	assert_int_equal(rd16(mpc + 40), 0);            /* no extended table */

	e = mpc + 44;
	end = mpc + length;
	while (e < end) {
		seen++;
		switch (e[0]) {
		case 0:                                 /* processor */
			assert_true(e[3] & 1);          /* enabled */
			r->apic_ids[r->ncpus++] = e[1];
			if (e[3] & 2) {
				r->bsp = e[1];
				r->bsp_count++;
			}
			assert_int_equal(e[2], 0x14);
			e += 20;
			break;
		case 1:                                 /* bus */
			assert_int_equal(e[1], 0);
			assert_memory_equal(e + 2, "ISA   ", 6);
			r->buses++;
			e += 8;
			break;
		case 2:                                 /* IOAPIC */
			assert_true(e[3] & 1);
			assert_int_equal(e[2], 0x20);
			r->ioapic_id = e[1];
			r->ioapic_addr = rd32(e + 4);
			r->ioapics++;
			e += 8;
			break;
		case 3:                                 /* I/O interrupt */
			assert_int_equal(e[1], 0);      /* mp_INT */
			assert_int_equal(rd16(e + 2), 0); /* conforming */
			assert_int_equal(e[4], 0);      /* ISA bus */
			assert_int_equal(e[6], r->ioapic_id);
			assert_true(e[5] < 16);
			assert_int_equal(r->irq_pin[e[5]], -1);
			r->irq_pin[e[5]] = e[7];
			r->irqs++;
			e += 8;
			break;
		case 4:                                 /* local interrupt */
			assert_int_equal(e[6], 0xff);   /* every LAPIC */
			if (e[1] == 3 && e[7] == 0)
				r->extint_lint0 = true;
			if (e[1] == 1 && e[7] == 1)
				r->nmi_lint1 = true;
			r->lints++;
			e += 8;
			break;
		default:
			fail_msg("unknown MP entry type %u", e[0]);
		}
	}
	/* Linux: "BIOS bug, MP table errors detected" when these disagree. */
	assert_ptr_equal(e, end);
	assert_int_equal(seen, count);
}

static void test_one_cpu(void **state)
{
	struct parsed r;
	const uint8_t *mpf;
	int n = mptable_write(ram, RAM, MPTABLE_ADDR, 1, MPTABLE_IOAPIC, err, sizeof(err));

	assert_int_equal(n, 16 + 44 + 20 + 8 + 8 + 17 * 8);
	mpf = scan(0xf0000, 0x10000);
	assert_ptr_equal(mpf, ram + MPTABLE_ADDR);
	assert_int_equal(rd32(mpf + 4), MPTABLE_ADDR + 16);
	parse(mpf, &r);
	assert_int_equal(r.ncpus, 1);
	assert_int_equal(r.bsp_count, 1);
	assert_int_equal(r.bsp, 0);
	assert_int_equal(r.lapic, 0xfee00000);
	assert_int_equal(r.ioapic_id, 1);
	assert_int_equal(r.ioapic_addr, 0xfec00000);
	/* Nothing outside what it reported writing. */
	for (size_t i = 0; i < RAM; i++)
		if (i < MPTABLE_ADDR || i >= MPTABLE_ADDR + (size_t)n)
			assert_int_equal(ram[i], 0);
}

static void test_four_cpus_routing(void **state)
{
	struct parsed r;

	assert_true(mptable_write(ram, RAM, MPTABLE_ADDR, 4, 0xfec01000, err, sizeof(err)) > 0);
	parse(scan(0xf0000, 0x10000), &r);
	assert_int_equal(r.ncpus, 4);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(r.apic_ids[i], i);
	assert_int_equal(r.bsp_count, 1);
	assert_int_equal(r.bsp, 0);
	assert_int_equal(r.buses, 1);
	assert_int_equal(r.ioapics, 1);
	assert_int_equal(r.ioapic_id, 4);
	assert_int_equal(r.ioapic_addr, 0xfec01000);
	/* ISA IRQs: 0 on pin 2, 2 (the cascade) absent, n on pin n. */
	assert_int_equal(r.irqs, 15);
	assert_int_equal(r.irq_pin[0], 2);
	assert_int_equal(r.irq_pin[2], -1);
	for (int irq = 1; irq < 16; irq++)
		if (irq != 2)
			assert_int_equal(r.irq_pin[irq], irq);
	assert_int_equal(r.lints, 2);
	assert_true(r.extint_lint0);
	assert_true(r.nmi_lint1);
}

static void test_max_cpus(void **state)
{
	struct parsed r;
	int n = mptable_write(ram, RAM, MPTABLE_ADDR, MPTABLE_MAX_CPUS, MPTABLE_IOAPIC, err, sizeof(err));

	assert_int_equal(n, 16 + 44 + 254 * 20 + 8 + 8 + 17 * 8);
	parse(scan(0xf0000, 0x10000), &r);
	assert_int_equal(r.ncpus, 254);
	assert_int_equal(r.apic_ids[253], 253);
	assert_int_equal(r.ioapic_id, 254);
	assert_int_equal(r.bsp_count, 1);
}

/* The other place Linux scans: the last KiB below 640 KiB. */
static void test_other_address(void **state)
{
	struct parsed r;

	assert_true(mptable_write(ram, RAM, 639 * 1024, 2, MPTABLE_IOAPIC, err, sizeof(err)) > 0);
	assert_null(scan(0xf0000, 0x10000));
	parse(scan(639 * 1024, 1024), &r);
	assert_int_equal(r.ncpus, 2);
}

static void test_refusals(void **state)
{
	assert_int_equal(mptable_write(ram, RAM, MPTABLE_ADDR, 0, MPTABLE_IOAPIC, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "between 1 and 254"));
	assert_int_equal(mptable_write(ram, RAM, MPTABLE_ADDR, 255, MPTABLE_IOAPIC, err, sizeof(err)), -EINVAL);
	assert_int_equal(mptable_write(ram, RAM, MPTABLE_ADDR + 8, 1, MPTABLE_IOAPIC, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "16-byte aligned"));
	assert_int_equal(mptable_write(ram, RAM, RAM - 64, 1, MPTABLE_IOAPIC, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "does not fit"));
	assert_int_equal(mptable_write(ram, MPTABLE_ADDR + 231, MPTABLE_ADDR, 1, MPTABLE_IOAPIC, err, sizeof(err)), -ENOMEM);
	assert_int_equal(mptable_write(ram, RAM, ~0ull & ~15ull, 1, MPTABLE_IOAPIC, err, sizeof(err)), -ENOMEM);
	/* A short message buffer is cut, NUL-terminated. */
	assert_int_equal(mptable_write(ram, RAM, MPTABLE_ADDR, 0, MPTABLE_IOAPIC, err, 5), -EINVAL);
	assert_int_equal(strlen(err), 4);
	assert_int_equal(mptable_write(ram, RAM, MPTABLE_ADDR, 0, MPTABLE_IOAPIC, NULL, 0), -EINVAL);
	/* Refusals write nothing. */
	for (size_t i = 0; i < RAM; i++)
		assert_int_equal(ram[i], 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_one_cpu),
		T(test_four_cpus_routing),
		T(test_max_cpus),
		T(test_other_address),
		T(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
