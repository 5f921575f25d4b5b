/*
 * Guest page-table walk (x86/gwalk.h), after SDM Vol. 3A, chapter 4. One
 * loop serves every paging mode: a mode is the shape of its tables (levels,
 * entry size, index bits), and the few places where the modes differ in
 * more than shape (reserved bits, the PAE PDPTEs, PSE-36) say so.
 *
 * The walk reads entries and sets nothing: no accessed or dirty bits. It
 * runs after an exit for an access the CPU already made through the same
 * tables (and so already marked), to fetch the instruction or to move the
 * data of string I/O; see docs/emulation.md.
 */
#include <x86/gwalk.h>
#include <x86/cpu.h>
#include <x86/paging.h>
#include "hv/compiler.h"
#include "hv/errno.h"

#define CR4_PSE  (1UL << 4)
#define CR4_LA57 (1UL << 12)
#define CR4_SMEP (1UL << 20)
#define CR4_SMAP (1UL << 21)

/* Bits hi..lo; none when hi < lo. */
#define BITS(hi, lo) ((~0ULL >> (63 - (hi))) & (~0ULL << (lo)))

enum paging_mode { PG_32BIT, PG_PAE, PG_4LEVEL, PG_5LEVEL };

static const struct {
	unsigned int levels;            /* tables from CR3 down to the page table */
	unsigned int entry_size;        /* bytes */
	unsigned int index_bits;        /* linear-address bits per level */
	unsigned int large_level;       /* highest level whose PS entry maps a page */
	uint64_t root;                  /* the first table's address in CR3 */
} modes[] = {
	[PG_32BIT]  = { 2, 4, 10, 2, 0xfffff000 },     /* 4.3; 4 MiB pages with CR4.PSE */
	[PG_PAE]    = { 3, 8, 9, 2, 0xffffffe0 },      /* 4.4: 4 PDPTEs at CR3[31:5] */
	[PG_4LEVEL] = { 4, 8, 9, 3, PTE_ADDR },        /* 4.5, with 1 GiB pages */
	[PG_5LEVEL] = { 5, 8, 9, 3, PTE_ADDR },
};

static unsigned int maxphyaddr(const struct gwalk_regs *r)
{
	return r->maxphyaddr ? r->maxphyaddr : 52;
}

/* The reserved bits of a present entry at `level` (1: PTE); any set one is
 * a #PF with RSVD (SDM Vol. 3A, the entry formats in 4.3-4.5). 1 GiB pages
 * are taken to be supported (CPUID 80000001H:EDX[26]). */
static uint64_t reserved(const struct gwalk_regs *r, enum paging_mode m,
			 unsigned int level, bool large)
{
	uint64_t rsvd;

	/* 32-bit paging: only a 4 MiB PDE has some, bit 21 and the PSE-36
	 * address bits 20:13 beyond MAXPHYADDR (at most 40 here). */
	if (m == PG_32BIT)
		return large ? BITS(21, MIN(maxphyaddr(r), 40u) - 19) : 0;
	/* A PAE PDPTE has no NX, R/W or U/S bit. */
	if (m == PG_PAE && level == 3)
		return BITS(63, maxphyaddr(r)) | BITS(8, 5) | BITS(2, 1);
	rsvd = BITS(51, maxphyaddr(r));
	if (!(r->efer & EFER_NXE))
		rsvd |= PTE_NX;
	if (level > modes[m].large_level)
		rsvd |= PTE_PS;         /* PML4E, PML5E */
	else if (large)                 /* under the page's alignment, above PAT (bit 12) */
		rsvd |= BITS(12 + 9 * (level - 1) - 1, 13);
	return rsvd;
}

/* The page frame a leaf entry maps. */
static uint64_t frame(enum paging_mode m, uint64_t e, uint64_t page_size)
{
	/* PSE-36: a 4 MiB PDE holds address bits 39:32 in bits 20:13 (Table 4-4). */
	if (m == PG_32BIT && page_size > PAGE_SIZE)
		return (e & 0xffc00000) | (e & BITS(20, 13)) << 19;
	return e & PTE_ADDR & ~(page_size - 1);
}

/* A #PF: the error code (SDM Vol. 3A, 4.7) from the access and `bits`. */
static int fault(const struct gwalk_regs *r, unsigned int access, uint32_t bits, uint32_t *pf_error)
{
	*pf_error = bits | (access & GWALK_WRITE ? PF_W : 0) | (access & GWALK_USER ? PF_U : 0);
	/* I/D is set only where fetches are told apart: with SMEP, or with
	 * NX in PAE and 4/5-level paging. */
	if ((access & GWALK_FETCH) &&
	    ((r->cr4 & CR4_SMEP) || ((r->cr4 & CR4_PAE) && (r->efer & EFER_NXE))))
		*pf_error |= PF_I;
	return -EFAULT;
}

/*
 * Access rights from all levels (SDM Vol. 3A, 4.6): writable and user only
 * if every level says so, no execution if any level has XD. RFLAGS.AC is
 * not looked at: SMAP refuses every supervisor data access to a user page,
 * as for implicit accesses and explicit ones with AC=0.
 */
static bool allowed(const struct gwalk_regs *r, unsigned int access, bool writable,
		    bool user_page, bool xd)
{
	bool user = access & GWALK_USER, fetch = access & GWALK_FETCH;

	if (fetch && xd)
		return false;
	if (user ? !user_page : user_page && (r->cr4 & (fetch ? CR4_SMEP : CR4_SMAP)))
		return false;
	/* Supervisor writes ignore R/W unless CR0.WP. */
	return !(access & GWALK_WRITE) || writable || (!user && !(r->cr0 & CR0_WP));
}

static bool canonical(uint64_t la, unsigned int bits)
{
	return (uint64_t)((int64_t)(la << (64 - bits)) >> (64 - bits)) == la;
}

int gwalk(const struct gwalk_regs *r, uint64_t la, unsigned int access,
	  gwalk_read_fn read, void *ctx, uint64_t *gpa, uint32_t *pf_error)
{
	bool writable = true, user_page = true, xd = false;
	enum paging_mode m;
	uint64_t table, e, page_size;
	unsigned int level;

	if (!(r->cr0 & CR0_PG)) {
		*gpa = (uint32_t)la;
		return 0;
	}
	if (r->efer & EFER_LMA) {
		m = r->cr4 & CR4_LA57 ? PG_5LEVEL : PG_4LEVEL;
		if (!canonical(la, m == PG_5LEVEL ? 57 : 48))
			return -ERANGE;
	} else {
		m = r->cr4 & CR4_PAE ? PG_PAE : PG_32BIT;
		la = (uint32_t)la;
	}

	table = r->cr3 & modes[m].root;
	for (level = modes[m].levels;; level--) {
		unsigned int shift = 12 + modes[m].index_bits * (level - 1);
		uint64_t index = (la >> shift) & ((1u << modes[m].index_bits) - 1);
		bool large;

		e = 0;
		if (read(ctx, table + index * modes[m].entry_size, &e, modes[m].entry_size))
			return -EIO;
		if (!(e & PTE_P))
			return fault(r, access, 0, pf_error);
		/* CR4.PSE only matters to 32-bit paging: PAE and up always
		 * have large pages. */
		large = level > 1 && level <= modes[m].large_level && (e & PTE_PS) &&
			(m != PG_32BIT || (r->cr4 & CR4_PSE));
		if (e & reserved(r, m, level, large))
			return fault(r, access, PF_P | PF_RSVD, pf_error);
		if (!(m == PG_PAE && level == 3)) {
			writable = writable && (e & PTE_W);
			user_page = user_page && (e & PTE_U);
			xd = xd || ((r->efer & EFER_NXE) && (e & PTE_NX));
		}
		page_size = 1ULL << shift;
		if (level == 1 || large)
			break;
		table = e & PTE_ADDR;
	}

	if (!allowed(r, access, writable, user_page, xd))
		return fault(r, access, PF_P, pf_error);
	*gpa = frame(m, e, page_size) | (la & (page_size - 1));
	return 0;
}

/* A copy between a guest linear range and a host buffer. */
struct copy_job {
	const struct gwalk_regs *r;
	unsigned int access;
	gwalk_read_fn read_phys;
	gwalk_write_fn write_phys;
	void *ctx;
	uint32_t *pf_error;
	uint64_t *fault_la;
};

/* Walk [la, la + len) a page at a time, moving each piece into `to` or
 * out of `from`; with neither, only translate. */
static int copy(const struct copy_job *c, uint64_t la, size_t len, uint8_t *to,
		const uint8_t *from)
{
	for (size_t done = 0, n; done < len; done += n) {
		uint64_t a = la + done, gpa;
		int err;

		if (!(c->r->efer & EFER_LMA))
			a = (uint32_t)a;
		n = MIN(len - done, PAGE_SIZE - (a & (PAGE_SIZE - 1)));
		err = gwalk(c->r, a, c->access, c->read_phys, c->ctx, &gpa, c->pf_error);
		if (err == -EFAULT)
			*c->fault_la = a;
		if (err)
			return err;
		if (to && c->read_phys(c->ctx, gpa, to + done, n))
			return -EIO;
		if (from && c->write_phys(c->ctx, gpa, from + done, n))
			return -EIO;
	}
	return 0;
}

int gwalk_read(const struct gwalk_regs *r, uint64_t la, void *buf, size_t len,
	       unsigned int access, gwalk_read_fn read_phys, void *ctx,
	       uint32_t *pf_error, uint64_t *fault_la)
{
	const struct copy_job c = { r, access, read_phys, NULL, ctx, pf_error, fault_la };

	return copy(&c, la, len, buf, NULL);
}

int gwalk_write(const struct gwalk_regs *r, uint64_t la, const void *buf, size_t len,
		unsigned int access, gwalk_read_fn read_phys, gwalk_write_fn write_phys,
		void *ctx, uint32_t *pf_error, uint64_t *fault_la)
{
	const struct copy_job c = { r, access | GWALK_WRITE, read_phys, write_phys, ctx,
				pf_error, fault_la };
	int err = copy(&c, la, len, NULL, NULL);

	return err ? err : copy(&c, la, len, NULL, buf);
}
