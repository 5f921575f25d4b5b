/*
 * Translate a guest linear address through the guest's own page tables
 * (SDM Vol. 3A, chapter 4): for fetching the instruction behind an exit and
 * for string I/O into guest memory. Every paging mode: none, 32-bit, PAE,
 * 4-level and 5-level. Accessed and dirty bits are not set (docs/emulation.md).
 */
#ifndef X86_GWALK_H
#define X86_GWALK_H

#include "hv/types.h"

struct gwalk_regs {
	uint64_t cr0, cr3, cr4, efer;
	uint8_t cpl;            /* for the caller's GWALK_USER: the walk goes by `access` */
	/* The guest's MAXPHYADDR (CPUID 80000008H:EAX[7:0]): entry bits from
	 * it up to 51 are reserved. 0 means 52 (none reserved). */
	uint8_t maxphyaddr;
};

#define GWALK_WRITE 1u
#define GWALK_FETCH 2u
#define GWALK_USER  4u          /* a CPL 3 access (implicit supervisor accesses: leave it clear) */

/* #PF error code bits (SDM Vol. 3A, 4.7). */
#define PF_P    (1u << 0)       /* 0: not present; 1: protection or reserved bit */
#define PF_W    (1u << 1)
#define PF_U    (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_I    (1u << 4)

/* Read or write `size` bytes of guest-physical memory: 0, or -EFAULT when
 * gpa is not the VM's RAM. */
typedef int (*gwalk_read_fn)(void *ctx, uint64_t gpa, void *buf, unsigned int size);
typedef int (*gwalk_write_fn)(void *ctx, uint64_t gpa, const void *buf, unsigned int size);

/*
 * 0: *gpa is the guest-physical address of la for `access` (GWALK_*: at
 *    most one of WRITE and FETCH).
 * -EFAULT: the access would page-fault: the guest must get #PF with
 *    *pf_error as the error code and CR2 = la.
 * -ERANGE: la is not canonical in 4/5-level paging (the guest gets #GP or
 *    #SS, not #PF).
 * -EIO: a paging-structure entry lies outside the VM's RAM (read failed).
 * Outside long mode la is taken to 32 bits.
 */
int gwalk(const struct gwalk_regs *r, uint64_t la, unsigned int access,
	  gwalk_read_fn read, void *ctx, uint64_t *gpa, uint32_t *pf_error);

/*
 * Copy len bytes from guest linear address la into buf, each page walked
 * on its own. The returns of gwalk(); on -EFAULT *fault_la is the linear
 * address that faulted (CR2): la, or the start of a later page. -EIO also
 * when the data itself is not RAM. A failure may leave buf partly written.
 */
int gwalk_read(const struct gwalk_regs *r, uint64_t la, void *buf, size_t len,
	       unsigned int access, gwalk_read_fn read_phys, void *ctx,
	       uint32_t *pf_error, uint64_t *fault_la);

/*
 * The same for writing guest memory (GWALK_WRITE is implied). Every page is
 * translated before the first byte is written, so a failed walk writes
 * nothing; -EIO for data outside RAM may come after earlier pages were
 * written.
 */
int gwalk_write(const struct gwalk_regs *r, uint64_t la, const void *buf, size_t len,
		unsigned int access, gwalk_read_fn read_phys, gwalk_write_fn write_phys,
		void *ctx, uint32_t *pf_error, uint64_t *fault_la);

#endif
