/*
 * The guest page-table walk (x86/gwalk.h) over page tables built by hand in
 * a buffer that stands for guest RAM: every paging mode and page size, a
 * non-present entry at every level, the access-rights matrix (R/W with WP,
 * U/S, NX, SMEP, SMAP), reserved bits, non-canonical addresses, tables
 * outside RAM, and copies that cross pages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <x86/cpu.h>
#include <x86/gwalk.h>
#include <x86/paging.h>
#include "hv/compiler.h"
#include "hv/errno.h"

#define RAM_SIZE (8u << 20)
#define CR4_PSE  (1UL << 4)
#define CR4_LA57 (1UL << 12)
#define CR4_SMEP (1UL << 20)
#define CR4_SMAP (1UL << 21)

static uint8_t *ram;
static uint64_t next_table;
static unsigned int ram_reads;

static int ram_read(void *ctx, uint64_t gpa, void *buf, unsigned int size)
{
	ram_reads++;
	if (gpa >= RAM_SIZE || size > RAM_SIZE - gpa)
		return -EFAULT;
	memcpy(buf, ram + gpa, size);
	return 0;
}

static int ram_write(void *ctx, uint64_t gpa, const void *buf, unsigned int size)
{
	if (gpa >= RAM_SIZE || size > RAM_SIZE - gpa)
		return -EFAULT;
	memcpy(ram + gpa, buf, size);
	return 0;
}

static int setup(void **state)
{
	ram = calloc(1, RAM_SIZE);
	next_table = 0x100000;          /* tables from 1 MiB up; data below */
	return ram ? 0 : -1;
}

static int teardown(void **state)
{
	free(ram);
	return 0;
}

/* The shape of a mode's tables, as the SDM draws them (Vol. 3A, 4.3-4.5). */
struct layout {
	unsigned int levels, entry_size, bits;
};
static const struct layout L32 = { 2, 4, 10 }, LPAE = { 3, 8, 9 }, L4 = { 4, 8, 9 }, L5 = { 5, 8, 9 };

static uint64_t get(const struct layout *l, uint64_t at)
{
	uint64_t e = 0;

	memcpy(&e, ram + at, l->entry_size);
	return e;
}

static void put(const struct layout *l, uint64_t at, uint64_t e)
{
	memcpy(ram + at, &e, l->entry_size);
}

static uint64_t new_table(void)
{
	uint64_t t = next_table;

	next_table += 4096;
	assert_true(next_table <= RAM_SIZE);
	return t;
}

/*
 * Map la to gpa with a leaf at leaf_level (1: 4 KiB, 2: 2/4 MiB, 3: 1 GiB)
 * carrying `leaf`; tables created on the way get `upper` (a PAE PDPTE only
 * P, its other bits being reserved). ent[level] is where each entry is.
 */
static void map(const struct layout *l, uint64_t root, uint64_t la, uint64_t gpa,
		unsigned int leaf_level, uint64_t leaf, uint64_t upper, uint64_t ent[6])
{
	uint64_t table = root;

	for (unsigned int lv = l->levels;; lv--) {
		unsigned int shift = 12 + l->bits * (lv - 1);
		uint64_t at = table + ((la >> shift) & ((1u << l->bits) - 1)) * l->entry_size;
		uint64_t e = get(l, at);

		if (ent)
			ent[lv] = at;
		if (lv == leaf_level) {
			put(l, at, gpa | leaf);
			return;
		}
		if (!(e & PTE_P)) {
			e = new_table() | (l == &LPAE && lv == 3 ? PTE_P : upper);
			put(l, at, e);
		}
		table = e & PTE_ADDR;
	}
}

#define P  PTE_P
#define W  PTE_W
#define U  PTE_U
#define PS PTE_PS
#define NX PTE_NX
#define PRW (P | W)

static int walk(const struct gwalk_regs *r, uint64_t la, unsigned int access,
		uint64_t *gpa, uint32_t *pf)
{
	*gpa = ~0ULL;
	*pf = ~0u;
	return gwalk(r, la, access, ram_read, NULL, gpa, pf);
}

/* The walk's return alone. */
static int walk_err(const struct gwalk_regs *r, uint64_t la)
{
	uint64_t gpa;
	uint32_t code;

	return walk(r, la, 0, &gpa, &code);
}

/* la translates to want. */
static void ok(const struct gwalk_regs *r, uint64_t la, unsigned int access, uint64_t want)
{
	uint64_t gpa;
	uint32_t pf;
	int err = walk(r, la, access, &gpa, &pf);

	if (err || gpa != want) {
		print_error("la %#llx access %u: %d gpa %#llx, want %#llx\n", (unsigned long long)la,
			    access, err, (unsigned long long)gpa, (unsigned long long)want);
		fail();
	}
}

/* la page-faults with error code want. */
static void pf(const struct gwalk_regs *r, uint64_t la, unsigned int access, uint32_t want)
{
	uint64_t gpa;
	uint32_t code;
	int err = walk(r, la, access, &gpa, &code);

	if (err != -EFAULT || code != want) {
		print_error("la %#llx access %u: %d error code %#x, want #PF %#x\n",
			    (unsigned long long)la, access, err, code, want);
		fail();
	}
}

static void paging_off(void **state)
{
	struct gwalk_regs r = { .cr0 = CR0_PE, .cr4 = CR4_PAE, .cr3 = RAM_SIZE * 2 };

	ok(&r, 0x12345678, 0, 0x12345678);
	ok(&r, 0x123456789ULL, GWALK_WRITE | GWALK_USER, 0x23456789);     /* 32-bit addresses */
	r.cr0 = 0;                                                          /* real mode */
	ok(&r, 0xffff0, GWALK_FETCH, 0xffff0);
	assert_int_equal(ram_reads, 0);
}

static void bit32_paging(void **state)
{
	struct gwalk_regs r = { .cr0 = CR0_PG | CR0_PE, .cr3 = new_table() | 0x18 };
	uint64_t ent[6], pt;
	uint8_t *snapshot = malloc(RAM_SIZE);

	/* 4 KiB pages: PDE index is la[31:22], PTE index la[21:12]. */
	map(&L32, r.cr3 & PTE_ADDR, 0xc0801000, 0x00234000, 1, PRW, PRW | U, ent);
	map(&L32, r.cr3 & PTE_ADDR, 0xc0802000, 0x00235000, 1, P | U, PRW | U, NULL);
	assert_int_equal(ent[2], (r.cr3 & PTE_ADDR) + (0xc0801000 >> 22) * 4);
	ok(&r, 0xc0801abc, GWALK_WRITE, 0x00234abc);
	ok(&r, 0x1c0801abcULL, 0, 0x00234abc);                  /* taken to 32 bits */
	pf(&r, 0xc0803000, 0, 0);                               /* PTE not present */
	pf(&r, 0xc0c00000, GWALK_WRITE, PF_W);                  /* PDE not present */
	pf(&r, 0xc0801000, GWALK_USER, PF_P | PF_U);
	ok(&r, 0xc0802000, GWALK_USER, 0x00235000);

	/* 4 MiB pages with CR4.PSE, address bits 39:32 in PDE bits 20:13 (PSE-36). */
	r.cr4 = CR4_PSE;
	put(&L32, (r.cr3 & PTE_ADDR) + 0x3 * 4, 0x00c00000 | (0x12 << 13) | PRW | PS);
	ok(&r, 0x00c12345, 0, 0x1200c12345ULL);
	r.maxphyaddr = 36;                                      /* PA bit 36 is now reserved */
	pf(&r, 0x00c12345, 0, PF_P | PF_RSVD);
	r.maxphyaddr = 0;
	put(&L32, (r.cr3 & PTE_ADDR) + 0x3 * 4, 0x00c00000 | (1 << 21) | PRW | PS);
	pf(&r, 0x00c12345, GWALK_WRITE, PF_P | PF_W | PF_RSVD);  /* bit 21 */
	/* Without CR4.PSE, PS is ignored: the PDE points at a page table. */
	pt = new_table();
	put(&L32, pt + 0x12 * 4, 0x00777000 | PRW);
	put(&L32, (r.cr3 & PTE_ADDR) + 0x3 * 4, pt | PRW | PS);
	r.cr4 = 0;
	ok(&r, 0x00c12345, 0, 0x00777345);
	r.cr4 = CR4_PSE;

	/* No NX in 32-bit paging: bit 63 does not exist, I/D only with SMEP. */
	r.efer = EFER_NXE;
	ok(&r, 0xc0801000, GWALK_FETCH, 0x00234000);
	pf(&r, 0xc0803000, GWALK_FETCH, 0);
	r.cr4 |= CR4_SMEP;
	pf(&r, 0xc0803000, GWALK_FETCH, PF_I);
	pf(&r, 0xc0802000, GWALK_FETCH, PF_P | PF_I);           /* SMEP: a user page */

	/* The walk sets no accessed or dirty bit. */
	memcpy(snapshot, ram, RAM_SIZE);
	ok(&r, 0xc0801abc, GWALK_WRITE, 0x00234abc);
	assert_memory_equal(snapshot, ram, RAM_SIZE);
	free(snapshot);
}

static void pae_paging(void **state)
{
	/* The PDPT is 32 bytes at CR3[31:5], not page-aligned; PWT/PCD set. */
	uint64_t pdpt = new_table() + 0x20;
	struct gwalk_regs r = { .cr0 = CR0_PG | CR0_PE | CR0_WP, .cr4 = CR4_PAE,
				.cr3 = pdpt | 0x18, .efer = EFER_NXE };
	uint64_t ent[6];

	map(&LPAE, pdpt, 0xc0201000, 0x00345000, 1, PRW | NX, PRW, ent);
	assert_int_equal(ent[3], pdpt + 3 * 8);
	assert_int_equal(get(&LPAE, ent[3]) & 0xfff, P);
	map(&LPAE, pdpt, 0xc0400000, 0x7fe00000, 2, P | PS, PRW, NULL);     /* 2 MiB */
	ok(&r, 0xc0201567, GWALK_WRITE, 0x00345567);
	ok(&r, 0xc05fffff, 0, 0x7fffffff);
	ok(&r, 0xc0400000, GWALK_FETCH, 0x7fe00000);
	pf(&r, 0xc0201000, GWALK_FETCH, PF_P | PF_I);           /* XD */
	pf(&r, 0xc0400000, GWALK_WRITE, PF_P | PF_W);           /* read-only, WP */
	pf(&r, 0x00000000, 0, 0);                               /* PDPTE 0 not present */
	pf(&r, 0x80000000, GWALK_FETCH, PF_I);                  /* PDPTE 2: I/D with NXE */

	/* Reserved bits: in the PDPTE (2:1, 8:5, 63:MAXPHYADDR), in a 2 MiB
	 * PDE (20:13), XD without NXE. */
	put(&LPAE, ent[3], get(&LPAE, ent[3]) | W);
	pf(&r, 0xc0201000, 0, PF_P | PF_RSVD);
	put(&LPAE, ent[3], (get(&LPAE, ent[3]) & ~W) | (1 << 7));
	pf(&r, 0xc0201000, 0, PF_P | PF_RSVD);
	put(&LPAE, ent[3], (get(&LPAE, ent[3]) & ~(1ULL << 7)) | NX);
	pf(&r, 0xc0201000, 0, PF_P | PF_RSVD);
	put(&LPAE, ent[3], (get(&LPAE, ent[3]) & ~NX) | (1ULL << 40));
	r.maxphyaddr = 40;
	pf(&r, 0xc0201000, 0, PF_P | PF_RSVD);
	put(&LPAE, ent[3], get(&LPAE, ent[3]) & ~(1ULL << 40));
	ok(&r, 0xc0201000, 0, 0x00345000);
	r.maxphyaddr = 0;
	map(&LPAE, pdpt, 0xc0600000, 0x00602000, 2, P | PS, PRW, NULL);    /* bit 13 */
	pf(&r, 0xc0600000, 0, PF_P | PF_RSVD);
	r.efer = 0;
	pf(&r, 0xc0201000, 0, PF_P | PF_RSVD);                  /* XD set, NXE clear */
	pf(&r, 0xc0201000, GWALK_FETCH, PF_P | PF_RSVD);        /* and no I/D without NXE */
	ok(&r, 0xc0400000, GWALK_FETCH, 0x7fe00000);
	ok(&r, 0x1c0400000ULL, 0, 0x7fe00000);                  /* taken to 32 bits */
}

static const struct gwalk_regs long_mode = {
	.cr0 = CR0_PG | CR0_PE | CR0_WP, .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA | EFER_NXE,
};

static void four_level(void **state)
{
	/* Indexes: PML4 1, PDPT 2, PD 3, PT 4; the large pages beside them. */
	const uint64_t la = (1ULL << 39) | (2ULL << 30) | (3ULL << 21) | (4ULL << 12);
	const uint64_t la_2m = (1ULL << 39) | (2ULL << 30) | (5ULL << 21);
	const uint64_t la_1g = (1ULL << 39) | (3ULL << 30);
	struct gwalk_regs r = long_mode;
	uint64_t ent[6], ent2[6];

	r.cr3 = new_table() | 0x123;                            /* PCID bits are not address */
	map(&L4, r.cr3 & PTE_ADDR, la, 0x12345000, 1, PRW, PRW, ent);
	map(&L4, r.cr3 & PTE_ADDR, la_2m, 0x40000000, 2, PRW | PS, PRW, NULL);
	map(&L4, r.cr3 & PTE_ADDR, la_1g, 0x80000000, 3, PRW | PS, PRW, NULL);
	map(&L4, r.cr3 & PTE_ADDR, 0xffffffff80001000ULL, 0x00201000, 1, P, PRW, ent2);
	ok(&r, la | 0x123, 0, 0x12345123);
	ok(&r, la_2m + 0x1fffff, 0, 0x40000000 + 0x1fffff);
	ok(&r, la_1g + 0x3fffffff, GWALK_WRITE, 0x80000000 + 0x3fffffff);
	ok(&r, 0xffffffff80001fffULL, 0, 0x00201fff);
	assert_int_equal(ent2[4], (r.cr3 & PTE_ADDR) + 511 * 8);

	/* Not canonical: #GP, no walk. */
	assert_int_equal(walk_err(&r, 0x0000800000000000ULL), -ERANGE);
	assert_int_equal(walk_err(&r, 0xffff7fffffffffffULL), -ERANGE);
	assert_int_equal(walk_err(&r, la | (1ULL << 60)), -ERANGE);

	/* Not present at every level. */
	for (int lv = 1; lv <= 4; lv++) {
		uint64_t e = get(&L4, ent[lv]);

		put(&L4, ent[lv], e & ~P);
		pf(&r, la, GWALK_WRITE | GWALK_USER, PF_W | PF_U);
		put(&L4, ent[lv], e);
	}
	ok(&r, la, 0, 0x12345000);

	/* Reserved: PS in a PML4E; a 1 GiB page's bits 29:13, a 2 MiB page's
	 * 20:13 (bit 12 is PAT); bits from MAXPHYADDR up at any level; XD
	 * without NXE. */
	put(&L4, ent[4], get(&L4, ent[4]) | PS);
	pf(&r, la, 0, PF_P | PF_RSVD);
	put(&L4, ent[4], get(&L4, ent[4]) & ~PS);
	map(&L4, r.cr3 & PTE_ADDR, la_1g, 0x80000000 | (1 << 29), 3, PRW | PS, PRW, NULL);
	pf(&r, la_1g, 0, PF_P | PF_RSVD);
	map(&L4, r.cr3 & PTE_ADDR, la_1g, 0x80000000 | (1 << 12), 3, PRW | PS, PRW, NULL);
	ok(&r, la_1g + 0x1234, 0, 0x80001234);
	map(&L4, r.cr3 & PTE_ADDR, la_2m, 0x40000000 | (1 << 20), 2, PRW | PS, PRW, NULL);
	pf(&r, la_2m, 0, PF_P | PF_RSVD);
	map(&L4, r.cr3 & PTE_ADDR, la_2m, 0x40000000 | (1 << 12), 2, PRW | PS, PRW, NULL);
	ok(&r, la_2m + 0x1234, 0, 0x40001234);
	r.maxphyaddr = 40;
	put(&L4, ent[1], get(&L4, ent[1]) | (1ULL << 45));
	pf(&r, la, 0, PF_P | PF_RSVD);
	put(&L4, ent[1], get(&L4, ent[1]) & ~(1ULL << 45));
	ok(&r, la, 0, 0x12345000);
	put(&L4, ent[4], get(&L4, ent[4]) | (1ULL << 40));
	pf(&r, la, GWALK_FETCH, PF_P | PF_RSVD | PF_I);
	put(&L4, ent[4], get(&L4, ent[4]) & ~(1ULL << 40));
	r.maxphyaddr = 0;                                       /* 52: bit 51 is address */
	put(&L4, ent[1], get(&L4, ent[1]) | (1ULL << 51));
	ok(&r, la, 0, 0x12345000 | (1ULL << 51));
	put(&L4, ent[1], get(&L4, ent[1]) | NX);
	pf(&r, la, GWALK_FETCH, PF_P | PF_I);
	r.efer &= ~EFER_NXE;
	pf(&r, la, 0, PF_P | PF_RSVD);
}

static void five_level(void **state)
{
	struct gwalk_regs r = long_mode;
	const uint64_t la = 0xfffeff8000001000ULL;              /* PML5 index 510, PML4 index 511 */
	uint64_t ent[6];

	r.cr4 |= CR4_LA57;
	r.cr3 = new_table();
	map(&L5, r.cr3, la, 0x00555000, 1, PRW, PRW, ent);
	map(&L5, r.cr3, 0x00ff800000000000ULL, 0x00400000, 2, PRW | PS, PRW, NULL);
	assert_int_equal(ent[5], r.cr3 + 510 * 8);
	assert_int_equal(ent[4], (get(&L5, ent[5]) & PTE_ADDR) + 511 * 8);
	ok(&r, la | 0xabc, 0, 0x00555abc);
	ok(&r, 0x00ff800000012345ULL, 0, 0x00412345);           /* canonical with 57 bits only */
	assert_int_equal(walk_err(&r, 0x0100000000000000ULL), -ERANGE);
	put(&L5, ent[5], get(&L5, ent[5]) & ~P);
	pf(&r, la, 0, 0);
	put(&L5, ent[5], get(&L5, ent[5]) | P | PS);            /* PS in a PML5E */
	pf(&r, la, 0, PF_P | PF_RSVD);
	r.cr4 &= ~CR4_LA57;                                     /* not canonical in 4 levels */
	assert_int_equal(walk_err(&r, 0x00ff800000012345ULL), -ERANGE);
}

/*
 * Access rights (SDM Vol. 3A, 4.6) on one 4 KiB page under 4-level paging,
 * the page's entry and the three above it set per row.
 */
static void rights(void **state)
{
	enum { R = 0, WR = GWALK_WRITE, X = GWALK_FETCH, US = GWALK_USER };
	enum { WP = 1, SMEP = 2, SMAP = 4, NOPAE = 8 };
	static const struct {
		uint64_t leaf, upper;
		unsigned int cpu, access;
		uint32_t fault;                 /* ~0: none */
	} rows[] = {
		/* R/W: supervisor writes ignore it unless CR0.WP; user writes never do. */
		{ P, PRW | U, 0, R, ~0u },
		{ P, PRW | U, 0, WR, ~0u },
		{ P, PRW | U, WP, WR, PF_P | PF_W },
		{ PRW, P | U, WP, WR, PF_P | PF_W },                    /* read-only above */
		{ PRW, PRW, WP, WR, ~0u },
		{ P | U, PRW | U, 0, WR | US, PF_P | PF_W | PF_U },
		{ PRW | U, P | U, 0, WR | US, PF_P | PF_W | PF_U },
		{ PRW | U, PRW | U, WP, WR | US, ~0u },
		/* U/S: user accesses need it at every level. */
		{ PRW, PRW | U, 0, R | US, PF_P | PF_U },
		{ PRW | U, PRW, 0, R | US, PF_P | PF_U },
		{ PRW | U, PRW | U, 0, R | US, ~0u },
		{ PRW | U, PRW | U, 0, X | US, ~0u },
		/* NX (EFER.NXE set in every row): at any level, fetches only. */
		{ PRW | NX, PRW, 0, X, PF_P | PF_I },
		{ PRW, PRW | NX, 0, X, PF_P | PF_I },
		{ PRW | U | NX, PRW | U, 0, X | US, PF_P | PF_U | PF_I },
		{ PRW | NX, PRW, WP, WR, ~0u },
		{ PRW, PRW, 0, X, ~0u },
		/* SMEP: no supervisor fetch from a user page; data is fine. */
		{ PRW | U, PRW | U, SMEP, X, PF_P | PF_I },
		{ PRW | U, PRW | U, SMEP, R, ~0u },
		{ PRW | U, PRW | U, SMEP, WR, ~0u },
		{ PRW | U, PRW | U, SMEP, X | US, ~0u },
		{ PRW | U, PRW, SMEP, X, ~0u },                         /* a supervisor page */
		/* SMAP: no supervisor data access to a user page; fetches are fine. */
		{ PRW | U, PRW | U, SMAP, R, PF_P },
		{ PRW | U, PRW | U, SMAP, WR, PF_P | PF_W },
		{ PRW | U, PRW | U, SMAP, X, ~0u },
		{ PRW | U, PRW | U, SMAP, R | US, ~0u },
		{ PRW, PRW | U, SMAP | SMEP, R, ~0u },
		/* Not present: P clear; I/D with NXE or SMEP, W/R and U/S as accessed. */
		{ 0, PRW | U, 0, X, PF_I },
		{ 0, PRW | U, SMEP, X | US, PF_U | PF_I },
		{ 0, PRW | U, 0, WR | US, PF_W | PF_U },
		/* 32-bit paging: no I/D from NXE, no XD bit. */
		{ PRW, PRW, NOPAE, X, ~0u },
		{ 0, PRW, NOPAE, X, 0 },
		{ 0, PRW, NOPAE | SMEP, X, PF_I },
		{ PRW | U, PRW | U, NOPAE | SMEP, X, PF_P | PF_I },
		{ P | U, PRW | U, NOPAE | WP, WR, PF_P | PF_W },
		{ PRW | U, PRW | U, NOPAE | SMAP, WR, PF_P | PF_W },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		bool legacy = rows[i].cpu & NOPAE;
		const struct layout *l = legacy ? &L32 : &L4;
		const uint64_t la = 0x40201000;
		struct gwalk_regs r = {
			.cr0 = CR0_PG | CR0_PE | (rows[i].cpu & WP ? CR0_WP : 0),
			.cr4 = (legacy ? 0 : CR4_PAE) | (rows[i].cpu & SMEP ? CR4_SMEP : 0) |
			       (rows[i].cpu & SMAP ? CR4_SMAP : 0),
			.efer = EFER_NXE | (legacy ? 0 : EFER_LME | EFER_LMA),
			.cr3 = new_table(),
		};
		uint64_t gpa;
		uint32_t code;
		int err;

		map(l, r.cr3, la, 0x7000, 1, rows[i].leaf, rows[i].upper, NULL);
		err = walk(&r, la, rows[i].access, &gpa, &code);
		bool good = rows[i].fault == ~0u ? !err && gpa == 0x7000 :
				err == -EFAULT && code == rows[i].fault;

		if (!good) {
			print_error("row %zu: %d, error code %#x gpa %#llx\n", i, err, code,
				    (unsigned long long)gpa);
			fail();
		}
	}
}

/* A paging-structure entry outside the VM's RAM. */
static void tables_outside_ram(void **state)
{
	struct gwalk_regs r = long_mode;
	uint64_t ent[6], gpa;
	uint32_t code;

	r.cr3 = RAM_SIZE;
	assert_int_equal(walk(&r, 0x1000, 0, &gpa, &code), -EIO);
	r.cr3 = new_table();
	map(&L4, r.cr3, 0x1000, 0x2000, 1, PRW, PRW, ent);
	ok(&r, 0x1000, 0, 0x2000);
	put(&L4, ent[2], (1ULL << 40) | PRW);                   /* the PDE points past RAM */
	assert_int_equal(walk(&r, 0x1000, 0, &gpa, &code), -EIO);
	r = (struct gwalk_regs){ .cr0 = CR0_PG | CR0_PE, .cr3 = 0xfffff000 };
	assert_int_equal(walk(&r, 0x1000, 0, &gpa, &code), -EIO);
	r.cr4 = CR4_PAE;                                        /* a PDPTE points past RAM */
	r.cr3 = new_table();
	put(&LPAE, r.cr3 + 3 * 8, RAM_SIZE | P);
	assert_int_equal(walk(&r, 0xc0000000, 0, &gpa, &code), -EIO);
}

/* Copies, page by page: the pieces land where each page maps. */
static void copy_across_pages(void **state)
{
	struct gwalk_regs r = long_mode;
	const uint64_t la = 0x7fff0000f000ULL;
	uint8_t buf[32], want[32];
	uint32_t code = 0;
	uint64_t fault_la = 0, ent[6];

	r.cr3 = new_table();
	map(&L4, r.cr3, la, 0x5000, 1, PRW | U, PRW | U, NULL);
	map(&L4, r.cr3, la + 0x1000, 0x3000, 1, P | U, PRW | U, ent);     /* read-only */
	for (int i = 0; i < 32; i++)
		want[i] = i + 1;
	memcpy(ram + 0x5ff0, want, 16);
	memcpy(ram + 0x3000, want + 16, 16);
	assert_int_equal(gwalk_read(&r, la + 0xff0, buf, 32, GWALK_USER, ram_read, NULL,
				    &code, &fault_la), 0);
	assert_memory_equal(buf, want, 32);

	/* Into an unmapped page: the fault is on the second page's first byte. */
	put(&L4, ent[1], 0);
	assert_int_equal(gwalk_read(&r, la + 0xff0, buf, 32, GWALK_USER, ram_read, NULL,
				    &code, &fault_la), -EFAULT);
	assert_int_equal(fault_la, la + 0x1000);
	assert_int_equal(code, PF_U);
	assert_int_equal(gwalk_read(&r, la + 0x1010, buf, 4, 0, ram_read, NULL,
				    &code, &fault_la), -EFAULT);
	assert_int_equal(fault_la, la + 0x1010);
	/* The whole first page is fine. */
	assert_int_equal(gwalk_read(&r, la, buf, 0, 0, ram_read, NULL, &code, &fault_la), 0);
	assert_int_equal(gwalk_read(&r, la + 0xff0, buf, 16, 0, ram_read, NULL, &code, &fault_la), 0);

	/* A write into a read-only page writes nothing, not even the first page. */
	map(&L4, r.cr3, la + 0x1000, 0x3000, 1, P | U, PRW | U, NULL);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(gwalk_write(&r, la + 0xff0, buf, 32, GWALK_USER, ram_read, ram_write, NULL,
				     &code, &fault_la), -EFAULT);
	assert_int_equal(fault_la, la + 0x1000);
	assert_int_equal(code, PF_P | PF_W | PF_U);
	assert_memory_equal(ram + 0x5ff0, want, 16);
	put(&L4, ent[1], get(&L4, ent[1]) | W);
	assert_int_equal(gwalk_write(&r, la + 0xff0, buf, 32, GWALK_USER, ram_read, ram_write, NULL,
				     &code, &fault_la), 0);
	assert_int_equal(ram[0x5ff0], 0xee);
	assert_int_equal(ram[0x300f], 0xee);
	assert_int_equal(ram[0x3010], 0);

	/* Data that is not RAM. */
	map(&L4, r.cr3, la + 0x2000, RAM_SIZE, 1, PRW | U, PRW | U, NULL);
	assert_int_equal(gwalk_read(&r, la + 0x2000, buf, 4, 0, ram_read, NULL, &code, &fault_la),
			 -EIO);
	assert_int_equal(gwalk_write(&r, la + 0x2000, buf, 4, 0, ram_read, ram_write, NULL,
				     &code, &fault_la), -EIO);
	/* Non-canonical on the way. */
	assert_int_equal(gwalk_read(&r, 0x00007ffffffffff0ULL, buf, 32, 0, ram_read, NULL,
				    &code, &fault_la), -EFAULT);
	assert_int_equal(fault_la, 0x00007ffffffffff0ULL);
	map(&L4, r.cr3, 0x00007ffffffff000ULL, 0x6000, 1, PRW, PRW, NULL);
	assert_int_equal(gwalk_read(&r, 0x00007ffffffffff0ULL, buf, 32, 0, ram_read, NULL,
				    &code, &fault_la), -ERANGE);
}

/* Outside long mode the linear address wraps at 4 GiB, the fault too. */
static void copy_wraps_at_4g(void **state)
{
	struct gwalk_regs r = { .cr0 = CR0_PG | CR0_PE, .cr3 = new_table() };
	uint8_t buf[16];
	uint32_t code;
	uint64_t fault_la;

	map(&L32, r.cr3, 0xfffff000, 0x5000, 1, PRW, PRW, NULL);
	memcpy(ram + 0x5ff8, "abcdefgh", 8);
	assert_int_equal(gwalk_read(&r, 0xfffffff8, buf, 16, 0, ram_read, NULL, &code, &fault_la),
			 -EFAULT);
	assert_int_equal(fault_la, 0);
	map(&L32, r.cr3, 0, 0x6000, 1, PRW, PRW, NULL);
	memcpy(ram + 0x6000, "ijklmnop", 8);
	assert_int_equal(gwalk_read(&r, 0xfffffff8, buf, 16, 0, ram_read, NULL, &code, &fault_la), 0);
	assert_memory_equal(buf, "abcdefghijklmnop", 16);
	r.cr0 = CR0_PE;                                         /* no paging: the same wrap */
	memcpy(ram, "qrst", 4);
	assert_int_equal(gwalk_read(&r, 0x100000000ULL, buf, 4, 0, ram_read, NULL, &code, &fault_la),
			 0);
	assert_memory_equal(buf, "qrst", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(paging_off, setup, teardown),
		cmocka_unit_test_setup_teardown(bit32_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(pae_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(four_level, setup, teardown),
		cmocka_unit_test_setup_teardown(five_level, setup, teardown),
		cmocka_unit_test_setup_teardown(rights, setup, teardown),
		cmocka_unit_test_setup_teardown(tables_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(copy_across_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(copy_wraps_at_4g, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
