/* x87/SSE/AVX state per vCPU (x86/fpu.h). */
#include <x86/cpu.h>
#include <x86/fpu.h>
#include "hv/errno.h"
#include "hv/printk.h"
#include "hv/string.h"
#include <uapi/hv/hypercall.h>

#define CR0_MP          (1UL << 1)
#define CR0_EM          (1UL << 2)
#define CR0_TS          (1UL << 3)
#define CR4_OSFXSR      (1UL << 9)
#define CR4_OSXMMEXCPT  (1UL << 10)
#define CR4_OSXSAVE     (1UL << 18)

/* Legacy region offsets (SDM Vol. 1, Table 10-2) and the XSAVE header. */
#define FX_FCW          0
#define FX_MXCSR        24
#define FX_MXCSR_MASK   28
#define XSAVE_HDR       512
#define XSAVE_HDR_SIZE  64

bool fpu_xsave;                        /* the boot CPU has XSAVE (fpu.h) */
static uint64_t guest_mask = XFEATURE_X87 | XFEATURE_SSE;
static uint32_t mxcsr_mask = 0xffbf;    /* SDM Vol. 1, 11.6.6: default when 0 */
static struct { uint32_t size, offset; } component[64];

bool fpu_has_xsave(void)
{
	return fpu_xsave;
}

uint64_t fpu_guest_xcr0_mask(void)
{
	return guest_mask;
}

uint32_t fpu_area_bytes(uint64_t xcr0)
{
	uint32_t end = XSAVE_HDR + XSAVE_HDR_SIZE;

	if (!fpu_xsave)
		return 512;
	/* The components past x87 and SSE that XCR0 names, lowest first. */
	for (uint64_t m = xcr0 & ~3ULL; m; m &= m - 1) {
		int i = __builtin_ctzll(m);

		end = MAX(end, component[i].offset + component[i].size);
	}
	return end;
}

static void xsetbv(uint64_t xcr0)
{
	__asm__ __volatile__("xsetbv" :: "c"(0), "a"((uint32_t)xcr0),
			     "d"((uint32_t)(xcr0 >> 32)) : "memory");
}

static void probe(void)
{
	uint8_t fx[512] __aligned(16);

	fpu_xsave = cpuid(1).ecx & (1U << 26);
	memset(fx, 0, sizeof(fx));
	__asm__ __volatile__("fxsave64 %0" : "=m"(fx));
	memcpy(&mxcsr_mask, fx + FX_MXCSR_MASK, 4);
	if (!mxcsr_mask)
		mxcsr_mask = 0xffbf;
	if (!fpu_xsave)
		return;
	struct cpuid_regs d = cpuid_count(0xd, 0);
	uint64_t host = ((uint64_t)d.edx << 32) | d.eax;
	uint64_t want = XFEATURE_X87 | XFEATURE_SSE | XFEATURE_AVX | XFEATURE_AVX512;

	for (int i = 2; i < 64; i++)
		if (host >> i & 1) {
			struct cpuid_regs c = cpuid_count(0xd, (uint32_t)i);

			component[i].size = c.eax;
			component[i].offset = c.ebx;
		}
	guest_mask = host & want;
	if ((guest_mask & XFEATURE_AVX512) != XFEATURE_AVX512 || !(guest_mask & XFEATURE_AVX))
		guest_mask &= ~XFEATURE_AVX512;
	if (!(guest_mask & XFEATURE_SSE))
		guest_mask &= ~XFEATURE_AVX;
	/* Whatever does not fit the per-vCPU area is not offered. */
	if (fpu_area_bytes(guest_mask) > FPU_AREA_SIZE)
		guest_mask &= ~XFEATURE_AVX512;
	if (fpu_area_bytes(guest_mask) > FPU_AREA_SIZE)
		guest_mask &= ~XFEATURE_AVX;
	pr_info("fpu: XSAVE, guest XCR0 bits 0x%lx, %u bytes of state\n", guest_mask,
		fpu_area_bytes(guest_mask));
}

void fpu_init_cpu(void)
{
	static bool probed;

	write_cr0((read_cr0() | CR0_MP | CR0_NE) & ~(CR0_EM | CR0_TS));
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	if (!probed) {
		probe();
		probed = true;
	}
	if (fpu_xsave) {
		write_cr4(read_cr4() | CR4_OSXSAVE);
		xsetbv(guest_mask);     /* the host's XCR0: every component offered */
		fpu_host_xcr0_value = guest_mask;
	}
}

void fpu_reset(struct fpu *f)
{
	uint16_t fcw = 0x37f;
	uint32_t mxcsr = 0x1f80;

	memset(f, 0, sizeof(*f));
	f->xcr0 = XFEATURE_X87;
	/* XSTATE_BV = 0: XRSTOR puts every component in its initial state;
	 * FCW and MXCSR are read from the legacy region regardless. */
	memcpy(f->area + FX_FCW, &fcw, sizeof(fcw));
	memcpy(f->area + FX_MXCSR, &mxcsr, sizeof(mxcsr));
}

bool fpu_xcr0_valid(uint64_t xcr0, uint64_t allowed)
{
	if (!(xcr0 & XFEATURE_X87) || (xcr0 & ~allowed))
		return false;
	if ((xcr0 & XFEATURE_AVX) && !(xcr0 & XFEATURE_SSE))
		return false;
	if ((xcr0 & XFEATURE_AVX512) &&
	    ((xcr0 & XFEATURE_AVX512) != XFEATURE_AVX512 || !(xcr0 & XFEATURE_AVX)))
		return false;
	return true;
}

uint64_t fpu_host_xcr0_value;

void fpu_load_xcr0(uint64_t xcr0)
{
	xsetbv(xcr0);
}

void fpu_set_xcr0(struct fpu *f, uint64_t xcr0)
{
	f->xcr0 = xcr0;
}

void fpu_get(const struct fpu *f, struct hv_xsave *x)
{
	memset(x, 0, sizeof(*x));
	x->xcr0 = f->xcr0;
	x->format = fpu_xsave ? HV_XSAVE_FORMAT_XSAVE : HV_XSAVE_FORMAT_FXSAVE;
	x->size = fpu_area_bytes(guest_mask);
	memcpy(x->area, f->area, x->size);
}

int fpu_check(const struct hv_xsave *x, uint64_t allowed)
{
	uint32_t mxcsr;

	if (x->format != (fpu_xsave ? HV_XSAVE_FORMAT_XSAVE : HV_XSAVE_FORMAT_FXSAVE))
		return -EINVAL;
	if (fpu_xsave ? !fpu_xcr0_valid(x->xcr0, allowed) : x->xcr0 != XFEATURE_X87)
		return -EINVAL;
	if (x->size != fpu_area_bytes(guest_mask))
		return -EINVAL;
	memcpy(&mxcsr, x->area + FX_MXCSR, 4);
	if (mxcsr & ~mxcsr_mask)
		return -EINVAL;                 /* XRSTOR/FXRSTOR: #GP (SDM 13.8) */
	if (fpu_xsave) {
		uint64_t hdr[8];

		memcpy(hdr, x->area + XSAVE_HDR, sizeof(hdr));
		/* XSTATE_BV within the host's XCR0 (what XRSTOR runs under),
		 * XCOMP_BV 0 (standard form), the rest of the header zero:
		 * otherwise XRSTOR faults (SDM 13.8.1). */
		if (hdr[0] & ~guest_mask)
			return -EINVAL;
		for (int i = 1; i < 8; i++)
			if (hdr[i])
				return -EINVAL;
	}
	return 0;
}

void fpu_set(struct fpu *f, const struct hv_xsave *x)
{
	memset(f->area, 0, sizeof(f->area));
	memcpy(f->area, x->area, x->size);
	f->xcr0 = x->xcr0;
}
