/*
 * What root_cpu.c and its child payload child_cpu.c share: the commands
 * the root gives (child.h: cmd_wait), the mailbox page each vCPU has
 * (CRT_MAILBOX), and the x87/SSE/AVX patterns both sides load and check.
 * Included by both; freestanding, no library calls.
 */
#ifndef CHILD_CPU_H
#define CHILD_CPU_H

#include <stdbool.h>
#include <stdint.h>

enum cc_cmd {
	CC_NOP,
	CC_FPU_SETUP,           /* arg0 XCR0 to set (0: keep the reset value), arg1 use AVX;
				 * u.fpu: the registers as the vCPU found them first */
	CC_FPU_ROUND,           /* arg0 owner, arg1 check the last pattern, arg2 round to load */
	CC_FPU_DUMP,            /* u.fpu: the registers now */
	CC_XGETBV,              /* res0 XCR0 */
	CC_XSETBV,              /* arg0 ECX, arg1 value -> res0 vector (-1 none), res1 XCR0 */
	CC_DR_SET,              /* arg0-3 DR0-3, arg4 DR7 -> res0-3 DR0-3, res4 DR7, res5 DR6 */
	CC_DR_READ,             /* res0-3 DR0-3, res4 DR7, res5 DR6 */
	CC_DR_TOUCH,            /* arg0 address, arg1 value (4 bytes) -> res0 vector, res1 DR6 */
	CC_DR_WRITE,            /* arg0 DR number, arg1 value -> res0 vector */
	CC_MSR_BATCH,           /* arg0 count, u.msr */
	CC_TSC_WRITE,           /* arg0 delta -> res0 t0, res1 t1 (after the write), res2
				 * RDMSR(TSC), res3 vector of the WRMSR */
	CC_RDTSC,               /* res0 TSC */
	CC_RDTSCP,              /* res0 vector (-1 none), res1 ECX (TSC_AUX), res2 TSC */
	CC_SWAPGS,              /* arg0 GS_BASE, arg1 KERNEL_GS_BASE -> after SWAPGS res0
				 * GS_BASE, res1 KERNEL_GS_BASE; after the second res2, res3 */
	CC_CR8_SPIN,            /* arg0 CR8 -> res0 CR8 read back (also reported), then spins
				 * (u.loop.spinning, until u.loop.stop), res1 CR8 after */
	CC_CPUID_BATCH,         /* arg0 count, u.cpuid */
	CC_READ_LOOP,           /* arg0 address, arg1 sentinel: copies forever (u.loop) */
	CC_INSN_BATCH,          /* u.insn[i]: the vector each instruction raised, -1 none */
	CC_UD2,                 /* an exception nobody expects: the runtime ends the vCPU */
	CC_IDT_HOLE,            /* arg0: LIDT there (a gpa the VM lacks), then UD2: the
				 * #UD's delivery reads the IDT from the hole */
	CC_EXIT,                /* arg0 status */
};

/* The instructions of CC_INSN_BATCH, in order. */
enum cc_insn {
	CI_INVD, CI_WBINVD, CI_PAUSE, CI_MONITOR, CI_MWAIT, CI_RDPMC,
	CI_VMXON, CI_VMXOFF, CI_VMLAUNCH, CI_VMRESUME, CI_VMPTRLD, CI_VMPTRST, CI_VMCLEAR,
	CI_VMREAD, CI_VMWRITE, CI_INVEPT, CI_INVVPID, CI_VMFUNC,
	CI_VMRUN, CI_VMLOAD, CI_VMSAVE, CI_STGI, CI_CLGI, CI_SKINIT, CI_INVLPGA,
	CI_COUNT,
};

struct cc_msr_op {
	uint32_t msr;
	uint8_t write;
	int8_t vector;                  /* out: -1 none, else the exception */
	uint16_t pad;
	uint64_t value;                 /* write: in; read: out */
};

struct cc_cpuid_q {
	uint32_t leaf, sub;
	uint32_t out[4];
};

/* x87/SSE/AVX registers as both sides compare them. st: the 80-bit
 * values in bytes 0-9 (FXSAVE order, ST0 first); ftw: FXSAVE's abridged
 * tag word. */
struct fpu_image {
	uint16_t fcw, fsw, ftw, pad0;
	uint32_t mxcsr, pad1;
	uint8_t st[8][16];
	uint8_t xmm[16][16];
	uint8_t ymmh[16][16];
};

#define CC_MBOX_TEXT    200
#define CC_MAX_MSR_OPS  64
#define CC_MAX_CPUID_Q  32

struct cc_mbox {
	uint64_t arg[8];
	int64_t res[8];
	char text[CC_MBOX_TEXT];        /* a child's explanation of a mismatch */
	union {
		struct fpu_image fpu;
		struct cc_msr_op msr[CC_MAX_MSR_OPS];
		struct cc_cpuid_q cpuid[CC_MAX_CPUID_Q];
		int32_t insn[CI_COUNT];
		struct {
			volatile uint32_t spinning, stop;
			volatile uint64_t count;
			volatile uint32_t copy, seen;
		} loop;
	} u;
};
_Static_assert(sizeof(struct cc_mbox) <= 4096, "mailbox is one page");

/* Pattern owners: who loaded a value can be read from it. */
#define OWNER_ROOT      1
#define OWNER_A         2
#define OWNER_B         3

/* A value that names its owner, register and round: FxFx oo rr nnnnnnnn
 * (x: kind), readable in a failure message. */
static inline uint64_t fpu_tag(uint64_t kind, uint32_t owner, uint32_t reg, uint32_t round)
{
	return kind << 48 | (uint64_t)(owner & 0xff) << 40 | (uint64_t)(reg & 0xff) << 32 | round;
}

static inline void fpu_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t fpu_get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The pattern `owner` loads in `round`. fsw/ftw: what 8 loads after
 * FNINIT leave (TOP 0, all eight tagged valid). */
static inline void fpu_pattern(struct fpu_image *p, uint32_t owner, uint32_t round)
{
	uint8_t *b = (uint8_t *)p;

	for (unsigned int i = 0; i < sizeof(*p); i++)
		b[i] = 0;
	p->fcw = (uint16_t)(0x037f | (owner & 3) << 10);        /* rounding control */
	p->mxcsr = 0x1f80 | (owner & 3) << 13;
	p->fsw = 0;
	p->ftw = 0xff;
	for (uint32_t r = 0; r < 8; r++) {
		fpu_put64(p->st[r], (1ULL << 63) | fpu_tag(0x5a5a, owner, r, round));
		p->st[r][8] = (uint8_t)r;                       /* exponent 0x4000 + r */
		p->st[r][9] = 0x40;
	}
	for (uint32_t r = 0; r < 16; r++) {
		fpu_put64(p->xmm[r], fpu_tag(0xf0f0, owner, r, round));
		fpu_put64(p->xmm[r] + 8, fpu_tag(0xf1f1, owner, r, round));
		fpu_put64(p->ymmh[r], fpu_tag(0xe0e0, owner, r, round));
		fpu_put64(p->ymmh[r] + 8, fpu_tag(0xe1e1, owner, r, round));
	}
}

#define FPU_X16(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11) \
		   M(12) M(13) M(14) M(15)

/* Load x87 (FNINIT, FCW, 8 FLDs: ST0 = st[0]), MXCSR, XMM0-15 and, with
 * avx, the upper halves of YMM0-15 (VINSERTF128 keeps the lower half). */
static inline void fpu_load(const struct fpu_image *p, bool avx)
{
	typedef struct { uint8_t b[10]; } f80;
	typedef struct { uint8_t b[16]; } m128;

	__asm__ __volatile__("fninit\n\tfldcw %0" :: "m"(p->fcw) : "memory");
	for (int r = 7; r >= 0; r--)
		__asm__ __volatile__("fldt %0" :: "m"(*(const f80 *)p->st[r]) : "memory");
	__asm__ __volatile__("ldmxcsr %0" :: "m"(p->mxcsr) : "memory");
#define FPU_LD(n) __asm__ __volatile__("movdqu %0, %%xmm" #n :: "m"(*(const m128 *)p->xmm[n]));
	FPU_X16(FPU_LD)
#undef FPU_LD
	if (!avx)
		return;
#define FPU_LDH(n) __asm__ __volatile__("vinsertf128 $1, %0, %%ymm" #n ", %%ymm" #n \
					:: "m"(*(const m128 *)p->ymmh[n]));
	FPU_X16(FPU_LDH)
#undef FPU_LDH
}

/* Read them back without changing them: FXSAVE for x87/MXCSR, MOVDQU and
 * VEXTRACTF128 for the vector registers. */
static inline void fpu_save(struct fpu_image *p, bool avx)
{
	typedef struct { uint8_t b[16]; } m128;
	/* FXSAVE wants 16-byte alignment; the caller's stack may not be
	 * aligned as the ABI says (the root's start.S), so align by hand. */
	uint8_t raw[512 + 16];
	uint8_t *fx = (uint8_t *)(((uintptr_t)raw + 15) & ~(uintptr_t)15);
	uint8_t *b = (uint8_t *)p;

	for (unsigned int i = 0; i < sizeof(*p); i++)
		b[i] = 0;
	__asm__ __volatile__("fxsave64 %0" : "=m"(*(uint8_t (*)[512])fx) :: "memory");
	p->fcw = (uint16_t)(fx[0] | fx[1] << 8);
	p->fsw = (uint16_t)(fx[2] | fx[3] << 8);
	p->ftw = fx[4];
	p->mxcsr = (uint32_t)fx[24] | (uint32_t)fx[25] << 8 | (uint32_t)fx[26] << 16 |
		   (uint32_t)fx[27] << 24;
	for (int r = 0; r < 8; r++)
		for (int i = 0; i < 10; i++)
			p->st[r][i] = fx[32 + 16 * r + i];
#define FPU_ST(n) __asm__ __volatile__("movdqu %%xmm" #n ", %0" : "=m"(*(m128 *)p->xmm[n]));
	FPU_X16(FPU_ST)
#undef FPU_ST
	if (!avx)
		return;
#define FPU_STH(n) __asm__ __volatile__("vextractf128 $1, %%ymm" #n ", %0" \
					: "=m"(*(m128 *)p->ymmh[n]));
	FPU_X16(FPU_STH)
#undef FPU_STH
}

/* The first difference between two images. */
struct fpu_diff {
	int items;                      /* registers (and control words) that differ */
	char what[8];                   /* the first: "xmm3", "st0", "mxcsr", ... */
	uint64_t got, want;             /* its first differing 8 bytes */
};

static inline void fpu_note(struct fpu_diff *d, const char *what, int reg, uint64_t got,
			    uint64_t want)
{
	int n = 0;

	if (d->items++)
		return;
	while (what[n] && n < 5) {
		d->what[n] = what[n];
		n++;
	}
	if (reg >= 10)
		d->what[n++] = (char)('0' + reg / 10);
	if (reg >= 0)
		d->what[n++] = (char)('0' + reg % 10);
	d->what[n] = '\0';
	d->got = got;
	d->want = want;
}

static inline void fpu_cmp_reg(struct fpu_diff *d, const char *what, int reg, const uint8_t *got,
			       const uint8_t *want, int len)
{
	for (int i = 0; i < len; i += 8) {
		int n = len - i < 8 ? len - i : 8;
		uint64_t g = 0, w = 0;

		for (int k = n - 1; k >= 0; k--) {
			g = g << 8 | got[i + k];
			w = w << 8 | want[i + k];
		}
		if (g != w) {
			fpu_note(d, what, reg, g, w);
			return;
		}
	}
}

/* XMM, x87, with avx the YMM upper halves, then the control words (with
 * fsw/ftw when `x87_status`): the first difference named is a register
 * whose value says whose pattern it is (fpu_tag). */
static inline struct fpu_diff fpu_compare(const struct fpu_image *got, const struct fpu_image *want,
					  bool avx, bool x87_status)
{
	struct fpu_diff d = { 0, "", 0, 0 };

	for (int r = 0; r < 16; r++)
		fpu_cmp_reg(&d, "xmm", r, got->xmm[r], want->xmm[r], 16);
	for (int r = 0; r < 8; r++)
		fpu_cmp_reg(&d, "st", r, got->st[r], want->st[r], 10);
	for (int r = 0; avx && r < 16; r++)
		fpu_cmp_reg(&d, "ymmh", r, got->ymmh[r], want->ymmh[r], 16);
	if (got->mxcsr != want->mxcsr)
		fpu_note(&d, "mxcsr", -1, got->mxcsr, want->mxcsr);
	if (got->fcw != want->fcw)
		fpu_note(&d, "fcw", -1, got->fcw, want->fcw);
	if (x87_status && got->fsw != want->fsw)
		fpu_note(&d, "fsw", -1, got->fsw, want->fsw);
	if (x87_status && got->ftw != want->ftw)
		fpu_note(&d, "ftw", -1, got->ftw, want->ftw);
	return d;
}

#endif
