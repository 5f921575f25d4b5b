/*
 * ACPI discovery and MADT parsing against a fake physical memory: a 2 MiB
 * buffer standing for physical 0..2 MiB, reached through the mapper like
 * the hypervisor reaches real memory.
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
#include "host_stubs.h"

/* ---------------------------------------------------------------- fake RAM */

#define PHYS_SIZE (2u * 1024 * 1024)

static uint8_t *phys;
static phys_addr_t hole_lo, hole_hi;    /* [lo, hi) refuses to map */

static const void *fake_map(phys_addr_t pa, size_t len, void *ctx)
{
	assert_ptr_equal(ctx, &phys);
	if (pa > PHYS_SIZE || len > PHYS_SIZE - pa)
		return NULL;
	if (pa < hole_hi && pa + len > hole_lo)
		return NULL;
	return phys + pa;
}

#define MAP fake_map, &phys

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Make p[0..len) sum to zero by setting the byte at csum. */
static void fix_sum(uint8_t *p, size_t len, size_t csum)
{
	uint8_t s = 0;
	size_t i;

	p[csum] = 0;
	for (i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	p[csum] = (uint8_t)-s;
}

static void make_rsdp(uint8_t *p, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	memset(p, 0, ACPI_RSDP_V2_LEN);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "HVTEST", 6);
	p[15] = rev;
	put32(p + 16, rsdt);
	if (rev >= 2) {
		put32(p + 20, ACPI_RSDP_V2_LEN);
		put64(p + 24, xsdt);
	}
	fix_sum(p, ACPI_RSDP_V1_LEN, 8);
	if (rev >= 2)
		fix_sum(p, ACPI_RSDP_V2_LEN, 32);
}

static uint8_t *make_table(phys_addr_t pa, const char *sig, const void *body,
			   size_t blen)
{
	uint8_t *t = phys + pa;

	memset(t, 0, ACPI_HDR_LEN);
	memcpy(t, sig, 4);
	put32(t + 4, (uint32_t)(ACPI_HDR_LEN + blen));
	t[8] = 1;
	memcpy(t + 10, "HVTEST", 6);
	memcpy(t + 16, "TESTTBL ", 8);
	if (blen)
		memcpy(t + ACPI_HDR_LEN, body, blen);
	fix_sum(t, ACPI_HDR_LEN + blen, 9);
	return t;
}

static void make_xsdt(phys_addr_t pa, const uint64_t *a, size_t n)
{
	uint8_t body[64 * 8];
	size_t i;

	for (i = 0; i < n; i++)
		put64(body + 8 * i, a[i]);
	make_table(pa, "XSDT", body, 8 * n);
}

static void make_rsdt(phys_addr_t pa, const uint32_t *a, size_t n)
{
	uint8_t body[64 * 4];
	size_t i;

	for (i = 0; i < n; i++)
		put32(body + 4 * i, a[i]);
	make_table(pa, "RSDT", body, 4 * n);
}

/* MADT body (after the standard header): LAPIC address, flags, entries. */
struct madt {
	uint8_t b[8192];
	size_t len;
};

static void madt_init(struct madt *m, uint32_t lapic)
{
	memset(m, 0, sizeof(*m));
	put32(m->b, lapic);
	put32(m->b + 4, ACPI_MADT_PCAT_COMPAT);
	m->len = 8;
}

static uint8_t *madt_entry(struct madt *m, uint8_t type, uint8_t len)
{
	uint8_t *e = m->b + m->len;

	assert_true(m->len + len <= sizeof(m->b));
	memset(e, 0, len);
	e[0] = type;
	e[1] = len;
	m->len += len;
	return e;
}

static void madt_lapic(struct madt *m, uint8_t uid, uint8_t id, uint32_t flags)
{
	uint8_t *e = madt_entry(m, ACPI_MADT_LAPIC, 8);

	e[2] = uid;
	e[3] = id;
	put32(e + 4, flags);
}

static void madt_x2apic(struct madt *m, uint32_t id, uint32_t flags, uint32_t uid)
{
	uint8_t *e = madt_entry(m, ACPI_MADT_X2APIC, 16);

	put32(e + 4, id);
	put32(e + 8, flags);
	put32(e + 12, uid);
}

static void madt_ioapic(struct madt *m, uint8_t id, uint32_t addr, uint32_t gsi)
{
	uint8_t *e = madt_entry(m, ACPI_MADT_IOAPIC, 12);

	e[2] = id;
	put32(e + 4, addr);
	put32(e + 8, gsi);
}

/* A whole MADT (header included) in a buffer, for acpi_madt_parse. */
static size_t madt_flat(const struct madt *m, uint8_t *out)
{
	memset(out, 0, ACPI_HDR_LEN);
	memcpy(out, "APIC", 4);
	put32(out + 4, (uint32_t)(ACPI_HDR_LEN + m->len));
	memcpy(out + ACPI_HDR_LEN, m->b, m->len);
	return ACPI_HDR_LEN + m->len;
}

#define XSDT_PA  0x100000
#define RSDT_PA  0x101000
#define MADT_PA  0x102000
#define FACP_PA  0x103000
#define MADT2_PA 0x104000

static struct madt M;
static uint8_t flat[ACPI_HDR_LEN + sizeof(M.b)];
static struct acpi_cpus cpus;
static uint8_t rsdp[ACPI_RSDP_V2_LEN];

static void std_madt(void)
{
	madt_init(&M, 0xFEE00000);
	madt_lapic(&M, 0, 0, ACPI_MADT_CPU_ENABLED);
	madt_lapic(&M, 1, 2, ACPI_MADT_CPU_ENABLED);
	madt_ioapic(&M, 8, 0xFEC00000, 0);
	madt_lapic(&M, 2, 4, ACPI_MADT_CPU_ENABLED);
	madt_x2apic(&M, 300, ACPI_MADT_CPU_ENABLED, 3);
}

/* XSDT and RSDT both list FACP and the MADT. */
static void std_tables(void)
{
	uint64_t x[] = { FACP_PA, MADT_PA };
	uint32_t r[] = { FACP_PA, MADT_PA };

	std_madt();
	make_table(MADT_PA, "APIC", M.b, M.len);
	make_table(FACP_PA, "FACP", "facp-body", 9);
	make_xsdt(XSDT_PA, x, 2);
	make_rsdt(RSDT_PA, r, 2);
}

static int discover(uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	make_rsdp(rsdp, rev, rsdt, xsdt);
	host_log_clear();
	return acpi_discover_cpus(rsdp, rev >= 2 ? ACPI_RSDP_V2_LEN : ACPI_RSDP_V1_LEN,
				  MAP, &cpus);
}

static int setup(void **state)
{
	(void)state;
	if (!phys)
		phys = malloc(PHYS_SIZE);
	assert_non_null(phys);
	memset(phys, 0, PHYS_SIZE);
	hole_lo = hole_hi = 0;
	memset(&cpus, 0xAA, sizeof(cpus));
	host_log_clear();
	return 0;
}

static int teardown_all(void **state)
{
	(void)state;
	free(phys);
	return 0;
}

static void expect_std_cpus(void)
{
	assert_int_equal(cpus.count, 4);
	assert_int_equal(cpus.cpu[0].apic_id, 0);
	assert_int_equal(cpus.cpu[1].apic_id, 2);
	assert_int_equal(cpus.cpu[1].uid, 1);
	assert_int_equal(cpus.cpu[2].apic_id, 4);
	assert_int_equal(cpus.cpu[3].apic_id, 300);
	assert_true(cpus.cpu[3].x2apic_entry);
	assert_false(cpus.cpu[0].x2apic_entry);
	assert_true(cpus.cpu[0].enabled);
	assert_int_equal(cpus.lapic_base, 0xFEE00000);
	assert_false(cpus.lapic_override);
	assert_int_equal(cpus.madt_flags, ACPI_MADT_PCAT_COMPAT);
	assert_int_equal(cpus.ioapic_count, 1);
	assert_int_equal(cpus.ioapic[0].id, 8);
	assert_int_equal(cpus.ioapic[0].address, 0xFEC00000);
}

/* ---------------------------------------------------------------- RSDP */

static void test_rsdp_v1_valid(void **state)
{
	struct acpi_rsdp_info info;

	(void)state;
	make_rsdp(rsdp, 0, 0x12345678, 0);
	assert_int_equal(acpi_rsdp_validate(rsdp, ACPI_RSDP_V1_LEN, &info), 0);
	assert_int_equal(info.revision, 0);
	assert_int_equal(info.rsdt, 0x12345678);
	assert_int_equal(info.xsdt, 0);
	assert_string_equal(info.oem_id, "HVTEST");
	assert_int_equal(acpi_rsdp_validate(rsdp, ACPI_RSDP_V1_LEN, NULL), 0);
}

static void test_rsdp_v2_valid(void **state)
{
	struct acpi_rsdp_info info;

	(void)state;
	make_rsdp(rsdp, 2, 0x1000, 0x123456789ull);
	assert_int_equal(acpi_rsdp_validate(rsdp, ACPI_RSDP_V2_LEN, &info), 0);
	assert_int_equal(info.revision, 2);
	assert_int_equal(info.rsdt, 0x1000);
	assert_int_equal(info.xsdt, 0x123456789ull);
	/* Only the 20-byte ACPI 1.0 part (the loader's old tag): RSDT only. */
	assert_int_equal(acpi_rsdp_validate(rsdp, ACPI_RSDP_V1_LEN, &info), 0);
	assert_int_equal(info.xsdt, 0);
	assert_int_equal(info.rsdt, 0x1000);
}

static void test_rsdp_bad(void **state)
{
	struct acpi_rsdp_info info;

	(void)state;
	make_rsdp(rsdp, 2, 0x1000, 0x2000);
	assert_int_equal(acpi_rsdp_validate(NULL, 36, &info), -EINVAL);
	assert_int_equal(acpi_rsdp_validate(rsdp, 19, &info), -EINVAL);

	rsdp[0] = 'r';                          /* signature */
	assert_int_equal(acpi_rsdp_validate(rsdp, 36, &info), -EINVAL);

	make_rsdp(rsdp, 0, 0x1000, 0);
	rsdp[16] ^= 1;                          /* v1 checksum */
	assert_int_equal(acpi_rsdp_validate(rsdp, 20, &info), -EINVAL);

	make_rsdp(rsdp, 2, 0x1000, 0x2000);
	rsdp[24] ^= 1;                          /* extended checksum only */
	assert_int_equal(acpi_rsdp_validate(rsdp, 36, &info), -EINVAL);

	make_rsdp(rsdp, 2, 0x1000, 0x2000);
	put32(rsdp + 20, 35);                   /* length below 36 */
	fix_sum(rsdp, 20, 8);
	fix_sum(rsdp, 36, 32);
	assert_int_equal(acpi_rsdp_validate(rsdp, 36, &info), -EINVAL);

	put32(rsdp + 20, 40);                   /* longer than the buffer */
	fix_sum(rsdp, 20, 8);
	assert_int_equal(acpi_rsdp_validate(rsdp, 36, &info), -EINVAL);

	put32(rsdp + 20, 0xFFFFFFFF);
	fix_sum(rsdp, 20, 8);
	assert_int_equal(acpi_rsdp_validate(rsdp, 36, &info), -EINVAL);
}

/* ---------------------------------------------------------------- roots */

static void test_discover_via_xsdt(void **state)
{
	(void)state;
	std_tables();
	assert_int_equal(discover(2, RSDT_PA, XSDT_PA), 0);
	expect_std_cpus();
	assert_true(host_log_contains("ACPI: 4 CPUs"));
}

/* XSDT preferred when revision >= 2; RSDT used for revision 0. */
static void test_xsdt_preferred_rsdt_fallback(void **state)
{
	uint64_t x[] = { FACP_PA };
	uint32_t r[] = { FACP_PA, MADT_PA };

	(void)state;
	std_madt();
	make_table(MADT_PA, "APIC", M.b, M.len);
	make_table(FACP_PA, "FACP", NULL, 0);
	make_xsdt(XSDT_PA, x, 1);               /* no MADT here */
	make_rsdt(RSDT_PA, r, 2);
	assert_int_equal(discover(2, RSDT_PA, XSDT_PA), -ENOENT);
	assert_true(host_log_contains("no valid MADT (ENOENT)"));
	assert_int_equal(discover(0, RSDT_PA, XSDT_PA), 0);
	expect_std_cpus();
	assert_int_equal(discover(2, RSDT_PA, 0), 0);   /* XSDT address 0 */
	expect_std_cpus();
}

static void test_bad_xsdt_checksum_falls_back(void **state)
{
	(void)state;
	std_tables();
	phys[XSDT_PA + 20] ^= 0x40;
	assert_int_equal(discover(2, RSDT_PA, XSDT_PA), 0);
	expect_std_cpus();
	assert_true(host_log_contains("ACPI: XSDT at 0x100000: bad checksum"));
	assert_true(host_log_contains("falling back to RSDT"));
	/* Without an RSDT the XSDT's error stands. */
	assert_int_equal(discover(2, 0, XSDT_PA), -EINVAL);
}

static void test_bad_rsdt(void **state)
{
	(void)state;
	std_tables();
	phys[RSDT_PA + 40] ^= 1;
	assert_int_equal(discover(0, RSDT_PA, 0), -EINVAL);
	assert_true(host_log_contains("ACPI: RSDT at 0x101000: bad checksum"));
	/* Wrong signature at the RSDT address. */
	std_tables();
	assert_int_equal(discover(0, XSDT_PA, 0), -EINVAL);
	assert_true(host_log_contains("signature 'XSDT', expected 'RSDT'"));
	assert_int_equal(discover(0, 0, 0), -ENOENT);
	assert_true(host_log_contains("neither RSDT nor XSDT"));
}

static void test_bad_madt_checksum(void **state)
{
	(void)state;
	std_tables();
	phys[MADT_PA + 50] ^= 1;
	assert_int_equal(discover(2, RSDT_PA, XSDT_PA), -EINVAL);
	assert_true(host_log_contains("ACPI: APIC at 0x102000: bad checksum"));
	assert_true(host_log_contains("no valid MADT (EINVAL)"));
}

/* A corrupt copy of a table is skipped when a valid one follows. */
static void test_bad_madt_then_good(void **state)
{
	uint64_t x[] = { MADT_PA, MADT2_PA };

	(void)state;
	std_tables();
	make_table(MADT2_PA, "APIC", M.b, M.len);
	phys[MADT_PA + 50] ^= 1;
	make_xsdt(XSDT_PA, x, 2);
	assert_int_equal(discover(2, 0, XSDT_PA), 0);
	expect_std_cpus();
	assert_true(host_log_contains("bad checksum"));
}

static void test_table_bad_lengths(void **state)
{
	const struct acpi_sdt_header *h;

	(void)state;
	std_tables();
	put32(phys + MADT_PA + 4, 20);
	assert_int_equal(discover(2, RSDT_PA, XSDT_PA), -EINVAL);
	assert_true(host_log_contains("ACPI: APIC at 0x102000: bad length 20"));

	put32(phys + MADT_PA + 4, ACPI_TABLE_MAX_LEN + 1);
	assert_int_equal(acpi_table_map(MADT_PA, "APIC", MAP, &h), -EINVAL);

	/* Valid length that runs past accessible memory. */
	make_table(PHYS_SIZE - 64, "APIC", NULL, 0);
	put32(phys + PHYS_SIZE - 64 + 4, 100);
	host_log_clear();
	assert_int_equal(acpi_table_map(PHYS_SIZE - 64, "APIC", MAP, &h), -EFAULT);
	assert_true(host_log_contains("100 bytes not accessible"));
	assert_int_equal(acpi_table_map(PHYS_SIZE, "APIC", MAP, &h), -EFAULT);
	assert_int_equal(acpi_table_map(0, "APIC", MAP, &h), -EFAULT);
	assert_int_equal(acpi_table_map(~0ull - 8, "APIC", MAP, &h), -EFAULT);
}

static void test_unreachable_and_null_entries(void **state)
{
	uint64_t x[] = { 0, 0x80000000ull, FACP_PA, MADT_PA };

	(void)state;
	std_tables();
	make_xsdt(XSDT_PA, x, 4);
	assert_int_equal(discover(2, 0, XSDT_PA), 0);
	expect_std_cpus();
	assert_true(host_log_contains("XSDT entry 1: table at 0x80000000 not accessible"));
}

/* A root length that is not whole entries: the tail is ignored. */
static void test_root_partial_entry(void **state)
{
	uint8_t body[8 + 8 + 5];

	(void)state;
	std_tables();
	memset(body, 0xEE, sizeof(body));
	put64(body, FACP_PA);
	put64(body + 8, MADT_PA);
	make_table(XSDT_PA, "XSDT", body, sizeof(body));
	assert_int_equal(discover(2, 0, XSDT_PA), 0);
	assert_true(host_log_contains("not a whole number of entries"));
}

static void test_find_table_generic(void **state)
{
	struct acpi_rsdp_info info;
	const struct acpi_sdt_header *h;

	(void)state;
	std_tables();
	make_rsdp(rsdp, 2, RSDT_PA, XSDT_PA);
	assert_int_equal(acpi_rsdp_validate(rsdp, sizeof(rsdp), &info), 0);
	assert_int_equal(acpi_find_table(&info, "FACP", MAP, &h), 0);
	assert_ptr_equal(h, phys + FACP_PA);
	assert_int_equal(h->length, ACPI_HDR_LEN + 9);
	assert_int_equal(acpi_find_table(&info, "HPET", MAP, &h), -ENOENT);
	assert_int_equal(acpi_find_table(NULL, "HPET", MAP, &h), -EINVAL);
}

/* ---------------------------------------------------------------- MADT */

static int parse_madt(void)
{
	size_t len = madt_flat(&M, flat);

	host_log_clear();
	return acpi_madt_parse(flat, len, &cpus);
}

static void test_madt_std(void **state)
{
	(void)state;
	std_madt();
	assert_int_equal(parse_madt(), 0);
	expect_std_cpus();
	assert_int_equal(cpus.n_disabled, 0);
	assert_int_equal(cpus.n_duplicate, 0);
}

static void test_madt_truncated_entry(void **state)
{
	(void)state;
	std_madt();
	madt_lapic(&M, 9, 9, ACPI_MADT_CPU_ENABLED);
	M.len -= 3;                             /* last entry cut short */
	assert_int_equal(parse_madt(), -EINVAL);
	assert_true(host_log_contains("type 0 entry at offset 96 runs past the table end"));
}

static void test_madt_zero_length_entry(void **state)
{
	uint8_t *e;

	(void)state;
	std_madt();
	e = madt_entry(&M, ACPI_MADT_LAPIC, 8);
	e[1] = 0;
	assert_int_equal(parse_madt(), -EINVAL);
	assert_true(host_log_contains("has length 0"));
	e[1] = 1;
	assert_int_equal(parse_madt(), -EINVAL);
	assert_true(host_log_contains("has length 1"));
}

static void test_madt_entry_below_minimum(void **state)
{
	static const struct { uint8_t type, len; } cases[] = {
		{ ACPI_MADT_LAPIC, 7 }, { ACPI_MADT_IOAPIC, 11 },
		{ ACPI_MADT_LAPIC_OVERRIDE, 11 }, { ACPI_MADT_X2APIC, 15 },
		{ ACPI_MADT_ISO, 9 }, { ACPI_MADT_LAPIC_NMI, 5 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		std_madt();
		madt_entry(&M, cases[i].type, cases[i].len);
		assert_int_equal(parse_madt(), -EINVAL);
		assert_true(host_log_contains("too short"));
	}
}

static void test_madt_trailing_byte(void **state)
{
	(void)state;
	std_madt();
	M.b[M.len++] = ACPI_MADT_LAPIC;
	assert_int_equal(parse_madt(), -EINVAL);
	assert_true(host_log_contains("truncated entry header"));
}

static void test_madt_bad_table_length(void **state)
{
	size_t len;

	(void)state;
	std_madt();
	len = madt_flat(&M, flat);
	assert_int_equal(acpi_madt_parse(flat, len - 1, &cpus), -EINVAL);
	assert_int_equal(acpi_madt_parse(flat, 43, &cpus), -EINVAL);
	assert_int_equal(acpi_madt_parse(NULL, len, &cpus), -EINVAL);
	/* Header only plus the two fixed fields: no CPUs, not an error. */
	madt_init(&M, 0xFEE00000);
	assert_int_equal(parse_madt(), 0);
	assert_int_equal(cpus.count, 0);
}

static void test_madt_duplicates(void **state)
{
	(void)state;
	madt_init(&M, 0xFEE00000);
	madt_lapic(&M, 0, 0, ACPI_MADT_CPU_ENABLED);
	madt_lapic(&M, 1, 1, ACPI_MADT_CPU_ENABLED);
	madt_lapic(&M, 2, 1, ACPI_MADT_CPU_ENABLED);
	madt_x2apic(&M, 0, ACPI_MADT_CPU_ENABLED, 3);   /* same CPU, x2 entry */
	assert_int_equal(parse_madt(), 0);
	assert_int_equal(cpus.count, 2);
	assert_int_equal(cpus.n_duplicate, 2);
	assert_int_equal(cpus.cpu[1].uid, 1);           /* first one kept */
	assert_true(host_log_contains("duplicate APIC ID 1 (UID 2), ignored"));
	assert_true(host_log_contains("duplicate APIC ID 0 (UID 3), ignored"));
}

static void test_madt_x2apic_large_ids(void **state)
{
	(void)state;
	madt_init(&M, 0xFEE00000);
	madt_x2apic(&M, 256, ACPI_MADT_CPU_ENABLED, 100);
	madt_x2apic(&M, 1000, ACPI_MADT_CPU_ENABLED, 101);
	madt_x2apic(&M, 0x12345678, ACPI_MADT_CPU_ENABLED, 0xABCDEF);
	madt_x2apic(&M, 0xFFFFFFFF, ACPI_MADT_CPU_ENABLED, 7);
	madt_lapic(&M, 5, 255, ACPI_MADT_CPU_ENABLED);  /* xAPIC broadcast */
	assert_int_equal(parse_madt(), 0);
	assert_int_equal(cpus.count, 3);
	assert_int_equal(cpus.cpu[0].apic_id, 256);
	assert_int_equal(cpus.cpu[0].uid, 100);
	assert_int_equal(cpus.cpu[1].apic_id, 1000);
	assert_int_equal(cpus.cpu[2].apic_id, 0x12345678);
	assert_int_equal(cpus.cpu[2].uid, 0xABCDEF);
	assert_true(cpus.cpu[2].x2apic_entry);
	assert_int_equal(cpus.n_invalid_id, 2);
	assert_true(host_log_contains("broadcast APIC ID"));
}

static void test_madt_disabled_and_online_capable(void **state)
{
	(void)state;
	madt_init(&M, 0xFEE00000);
	madt_lapic(&M, 0, 0, ACPI_MADT_CPU_ENABLED);
	madt_lapic(&M, 1, 1, 0);                        /* absent */
	madt_lapic(&M, 2, 2, ACPI_MADT_CPU_ONLINE_CAPABLE);
	madt_x2apic(&M, 400, 0, 3);                     /* absent */
	madt_x2apic(&M, 401, ACPI_MADT_CPU_ONLINE_CAPABLE, 4);
	madt_lapic(&M, 9, 0xFF, 0);                     /* absent, not "invalid" */
	assert_int_equal(parse_madt(), 0);
	assert_int_equal(cpus.count, 3);
	assert_int_equal(cpus.n_disabled, 3);
	assert_int_equal(cpus.n_invalid_id, 0);
	assert_true(cpus.cpu[0].enabled);
	assert_int_equal(cpus.cpu[1].apic_id, 2);
	assert_false(cpus.cpu[1].enabled);
	assert_int_equal(cpus.cpu[2].apic_id, 401);
	assert_false(cpus.cpu[2].enabled);
}

static void test_madt_override_ioapic_other_entries(void **state)
{
	uint8_t *e;
	int i;

	(void)state;
	std_madt();
	e = madt_entry(&M, ACPI_MADT_LAPIC_OVERRIDE, 12);
	put64(e + 4, 0x1FEE00000ull);
	madt_entry(&M, ACPI_MADT_ISO, 10);
	madt_entry(&M, ACPI_MADT_LAPIC_NMI, 6);
	madt_entry(&M, 0x7F, 5);                        /* unknown type: skipped */
	madt_entry(&M, 0x30, 2);
	for (i = 0; i < ACPI_MAX_IOAPICS + 2; i++)
		madt_ioapic(&M, (uint8_t)(20 + i), 0xFEC10000 + i * 0x1000, i * 24);
	assert_int_equal(parse_madt(), 0);
	assert_int_equal(cpus.count, 4);
	assert_true(cpus.lapic_override);
	assert_int_equal(cpus.lapic_base, 0x1FEE00000ull);
	assert_int_equal(cpus.ioapic_count, ACPI_MAX_IOAPICS);
	assert_int_equal(cpus.n_ioapic_overflow, 3);
	assert_int_equal(cpus.ioapic[1].id, 20);
	assert_int_equal(cpus.ioapic[1].gsi_base, 0);
	assert_int_equal(cpus.ioapic[2].gsi_base, 24);
	assert_true(host_log_contains("more than 16 IO APICs"));
}

static void test_madt_too_many_cpus(void **state)
{
	uint32_t i;

	(void)state;
	madt_init(&M, 0xFEE00000);
	for (i = 0; i < NR_CPUS + 10; i++)
		madt_x2apic(&M, i, ACPI_MADT_CPU_ENABLED, i);
	assert_int_equal(parse_madt(), 0);
	assert_int_equal(cpus.count, NR_CPUS);
	assert_int_equal(cpus.n_overflow, 10);
	assert_int_equal(cpus.cpu[NR_CPUS - 1].apic_id, NR_CPUS - 1);
	assert_true(host_log_contains("more than 256 CPUs"));
}

/* ---------------------------------------------------------------- legacy scan */

static void test_scan_ebda(void **state)
{
	struct acpi_rsdp_info info;
	phys_addr_t pa = 0;

	(void)state;
	put16(phys + ACPI_EBDA_PTR, 0x9FC0);            /* EBDA at 0x9FC00 */
	make_rsdp(phys + 0x9FC40, 2, RSDT_PA, XSDT_PA);
	make_rsdp(phys + 0xF0000, 0, 0x1234, 0);        /* EBDA searched first */
	assert_int_equal(acpi_rsdp_scan(MAP, &pa, &info), 0);
	assert_int_equal(pa, 0x9FC40);
	assert_int_equal(info.xsdt, XSDT_PA);
}

static void test_scan_bios_area(void **state)
{
	struct acpi_rsdp_info info;
	phys_addr_t pa = 0;

	(void)state;
	/* A decoy with a bad checksum, then the real one. */
	make_rsdp(phys + 0xE0010, 0, 0x1111, 0);
	phys[0xE0010 + 16] ^= 1;
	make_rsdp(phys + 0xF5A30, 0, 0x2222, 0);
	assert_int_equal(acpi_rsdp_scan(MAP, &pa, &info), 0);
	assert_int_equal(pa, 0xF5A30);
	assert_int_equal(info.rsdt, 0x2222);
}

static void test_scan_ebda_pointer_ignored(void **state)
{
	phys_addr_t pa = 0;

	(void)state;
	put16(phys + ACPI_EBDA_PTR, 0xA000);            /* 0xA0000: not RAM */
	make_rsdp(phys + 0xA0000, 0, 0x1111, 0);
	make_rsdp(phys + 0xFFFE0, 0, 0x2222, 0);        /* last slot that fits */
	assert_int_equal(acpi_rsdp_scan(MAP, &pa, NULL), 0);
	assert_int_equal(pa, 0xFFFE0);
	/* Only the first KiB of the EBDA counts. */
	memset(phys + 0xFFFE0, 0, 36);
	put16(phys + ACPI_EBDA_PTR, 0x8000);
	make_rsdp(phys + 0x80400, 0, 0x3333, 0);
	assert_int_equal(acpi_rsdp_scan(MAP, &pa, NULL), -ENOENT);
}

static void test_scan_misaligned_not_found(void **state)
{
	phys_addr_t pa = 0;

	(void)state;
	make_rsdp(phys + 0xE0008, 0, 0x1111, 0);
	assert_int_equal(acpi_rsdp_scan(MAP, &pa, NULL), -ENOENT);
	assert_int_equal(acpi_rsdp_scan(NULL, NULL, &pa, NULL), -EINVAL);
}

static void test_scan_skips_unmappable_area(void **state)
{
	phys_addr_t pa = 0;

	(void)state;
	put16(phys + ACPI_EBDA_PTR, 0x9FC0);
	make_rsdp(phys + 0x9FC00, 0, 0x1111, 0);
	make_rsdp(phys + 0xE0000, 0, 0x2222, 0);
	hole_lo = 0x9F000;
	hole_hi = 0xA0000;
	assert_int_equal(acpi_rsdp_scan(MAP, &pa, NULL), 0);
	assert_int_equal(pa, 0xE0000);
	hole_lo = 0;
	hole_hi = 0x100000;
	assert_int_equal(acpi_rsdp_scan(MAP, &pa, NULL), -ENOENT);
}

/* A bad or missing loader copy falls back to the BIOS-area scan. */
static void test_discover_fallback_to_scan(void **state)
{
	(void)state;
	std_tables();
	make_rsdp(phys + 0xE4560, 2, RSDT_PA, XSDT_PA);
	host_log_clear();
	assert_int_equal(acpi_discover_cpus(NULL, 0, MAP, &cpus), 0);
	expect_std_cpus();
	assert_true(host_log_contains("ACPI: RSDP at 0xe4560"));

	make_rsdp(rsdp, 2, RSDT_PA, XSDT_PA);
	rsdp[16] ^= 1;
	host_log_clear();
	assert_int_equal(acpi_discover_cpus(rsdp, sizeof(rsdp), MAP, &cpus), 0);
	assert_true(host_log_contains("RSDP from the boot loader: bad checksum"));
	expect_std_cpus();

	memset(phys + 0xE4560, 0, 36);
	host_log_clear();
	assert_int_equal(acpi_discover_cpus(rsdp, sizeof(rsdp), MAP, &cpus), -ENOENT);
	assert_true(host_log_contains("no valid RSDP found"));
	assert_int_equal(acpi_discover_cpus(rsdp, sizeof(rsdp), NULL, NULL, &cpus),
			 -EINVAL);
}

static void test_discover_madt_parse_error(void **state)
{
	uint8_t *e;

	(void)state;
	std_madt();
	e = madt_entry(&M, ACPI_MADT_X2APIC, 16);
	e[1] = 0;
	make_table(MADT_PA, "APIC", M.b, M.len);
	make_xsdt(XSDT_PA, (uint64_t[]){ MADT_PA }, 1);
	assert_int_equal(discover(2, 0, XSDT_PA), -EINVAL);
	assert_true(host_log_contains("ACPI: MADT: type 9 entry at offset"));
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_rsdp_v1_valid),
		T(test_rsdp_v2_valid),
		T(test_rsdp_bad),
		T(test_discover_via_xsdt),
		T(test_xsdt_preferred_rsdt_fallback),
		T(test_bad_xsdt_checksum_falls_back),
		T(test_bad_rsdt),
		T(test_bad_madt_checksum),
		T(test_bad_madt_then_good),
		T(test_table_bad_lengths),
		T(test_unreachable_and_null_entries),
		T(test_root_partial_entry),
		T(test_find_table_generic),
		T(test_madt_std),
		T(test_madt_truncated_entry),
		T(test_madt_zero_length_entry),
		T(test_madt_entry_below_minimum),
		T(test_madt_trailing_byte),
		T(test_madt_bad_table_length),
		T(test_madt_duplicates),
		T(test_madt_x2apic_large_ids),
		T(test_madt_disabled_and_online_capable),
		T(test_madt_override_ioapic_other_entries),
		T(test_madt_too_many_cpus),
		T(test_scan_ebda),
		T(test_scan_bios_area),
		T(test_scan_ebda_pointer_ignored),
		T(test_scan_misaligned_not_found),
		T(test_scan_skips_unmappable_area),
		T(test_discover_fallback_to_scan),
		T(test_discover_madt_parse_error),
	};

	return cmocka_run_group_tests(tests, NULL, teardown_all);
}
