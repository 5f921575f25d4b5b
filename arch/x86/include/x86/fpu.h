/*
 * x87/SSE/AVX state per vCPU (SDM Vol. 1, ch. 13): XSAVE/XRSTOR where the
 * CPU has them, FXSAVE/FXRSTOR otherwise. The hypervisor itself never
 * touches these registers (-mgeneral-regs-only), so the registers always
 * hold the state of the vCPU running on this CPU. XCR0 is the host's (every
 * component a guest may have) whenever the hypervisor runs, so XSAVE and
 * XRSTOR always move a vCPU's whole state whatever XCR0 it chose (SSE
 * registers work with XCR0 = 1 too); the vCPU's own XCR0 is in the CPU only
 * from just before its entry to just after its exit (KVM does the same).
 */
#ifndef X86_FPU_H
#define X86_FPU_H

#include "hv/compiler.h"
#include "hv/types.h"

struct hv_xsave;

#define XFEATURE_X87            (1ULL << 0)
#define XFEATURE_SSE            (1ULL << 1)
#define XFEATURE_AVX            (1ULL << 2)
#define XFEATURE_AVX512         (7ULL << 5)     /* opmask, ZMM_Hi256, Hi16_ZMM */

#define FPU_AREA_SIZE           4032

/* A vCPU's saved state: in the vendor control block, 64-byte aligned as
 * XSAVE requires. */
struct fpu {
	uint64_t xcr0;                  /* the vCPU's XCR0 (1 without XSAVE) */
	uint8_t pad[56];
	uint8_t area[FPU_AREA_SIZE] __aligned(64);
} __aligned(64);

/* On each CPU before any guest runs: CR0.MP/NE, CR4.OSFXSR/OSXMMEXCPT and,
 * with XSAVE, CR4.OSXSAVE. The boot CPU also reads what XSAVE offers. */
void fpu_init_cpu(void);
bool fpu_has_xsave(void);
/* The XCR0 bits a guest may enable: x87, SSE, AVX and AVX-512 where the
 * CPU has them and their state fits the area. */
uint64_t fpu_guest_xcr0_mask(void);
/* Bytes of the standard-format area for a given XCR0 (512 without XSAVE). */
uint32_t fpu_area_bytes(uint64_t xcr0);
/* CPUID 0xD sub-leaf i of the host (sizes and offsets of components). */
/* The architectural reset state (SDM Vol. 1, 13.6: FCW 0x37f, MXCSR 0x1f80). */
void fpu_reset(struct fpu *f);
/* Save the registers into `from` (when not NULL), then load `to`'s. Inline:
 * every run of a child does it twice (HC_RUN's fast path included). */
extern bool fpu_xsave;                  /* XSAVE/XRSTOR, else FXSAVE/FXRSTOR */

static inline void fpu_switch(struct fpu *from, struct fpu *to)
{
	if (from) {
		if (__builtin_expect(fpu_xsave, 1))
			__asm__ __volatile__("xsave64 %0" : "+m"(from->area)
					     : "a"(~0U), "d"(~0U) : "memory");
		else
			__asm__ __volatile__("fxsave64 %0" : "+m"(from->area) :: "memory");
	}
	if (to) {
		if (__builtin_expect(fpu_xsave, 1))
			__asm__ __volatile__("xrstor64 %0" :: "m"(to->area), "a"(~0U), "d"(~0U)
					     : "memory");
		else
			__asm__ __volatile__("fxrstor64 %0" :: "m"(to->area) : "memory");
	}
}
/* Around a VM entry, interrupts off: the vCPU's XCR0 in, the host's back
 * (nothing to do when they are the same, as for Linux guests). */
extern uint64_t fpu_host_xcr0_value;    /* 0 without XSAVE */
void fpu_load_xcr0(uint64_t xcr0);

static inline void fpu_guest_xcr0(const struct fpu *f)
{
	if (fpu_host_xcr0_value && f->xcr0 != fpu_host_xcr0_value)
		fpu_load_xcr0(f->xcr0);
}

static inline void fpu_host_xcr0(const struct fpu *f)
{
	if (fpu_host_xcr0_value && f->xcr0 != fpu_host_xcr0_value)
		fpu_load_xcr0(fpu_host_xcr0_value);
}
/* Would XSETBV accept this XCR0 for a guest allowed `allowed` (SDM Vol. 1,
 * 13.3: bit 0 set, AVX needs SSE, AVX-512 all three with AVX)? */
bool fpu_xcr0_valid(uint64_t xcr0, uint64_t allowed);
/* XSETBV of a vCPU: it takes effect at its next entry. */
void fpu_set_xcr0(struct fpu *f, uint64_t xcr0);
/* The ABI copies (HC_GET/SET_XSAVE). set: 0 or -EINVAL with nothing
 * changed (wrong format or size — fpu_area_bytes of every component offered
 * — an XCR0 the guest could not set, XSTATE_BV beyond what is offered,
 * header or MXCSR bits XRSTOR would fault on). */
void fpu_get(const struct fpu *f, struct hv_xsave *x);
int fpu_check(const struct hv_xsave *x, uint64_t allowed);
void fpu_set(struct fpu *f, const struct hv_xsave *x);

#endif
