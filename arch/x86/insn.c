/*
 * Decoder and emulator for the instructions guests use on device registers
 * (x86/insn.h). The decoder follows the instruction format of SDM Vol. 2A,
 * chapter 2: legacy prefixes, REX, one or two opcode bytes, ModRM, SIB,
 * displacement, immediate. A table row per opcode says what follows it; the
 * group opcodes (80-83, C6/C7, F6/F7, FE/FF, 0F BA) take their operation
 * from ModRM.reg through a second table. Anything not in the tables is
 * -EOPNOTSUPP: the caller stops the guest rather than guess.
 *
 * Decoding outcomes describe the guest's code, not a hypervisor fault, so
 * they are returned plainly rather than through ERR().
 */
#include <x86/insn.h>
#include "hv/compiler.h"
#include "hv/errno.h"

#define REX_B 0x1
#define REX_X 0x2
#define REX_R 0x4
#define REX_W 0x8

enum { RBX = 3, RSP, RBP, RSI, RDI };

/* What follows an opcode. */
#define F_BYTE   (1u << 0)      /* 8-bit operands */
#define F_MOFFS  (1u << 1)      /* A0-A3: an address-sized offset instead of ModRM */
#define F_IMM8   (1u << 2)      /* imm8, sign-extended to the operand size */
#define F_IMMU8  (1u << 3)      /* imm8 used as is (BT's bit offset) */
#define F_IMMZ   (1u << 4)      /* immediate of the operand size, at most 32 bits, sign-extended */
#define F_NO64   (1u << 5)      /* #UD in 64-bit mode */
#define F_ONLY64 (1u << 6)      /* another (unsupported) instruction outside 64-bit mode */
#define F_UD     (1u << 7)      /* an undefined slot of a group: #UD */

/* The groups whose operation is in ModRM.reg (SDM Vol. 2D, Table A-6). */
enum { GRP_NONE, GRP_ALU, GRP_MOVI, GRP_UNARY, GRP_INCDEC, GRP_FF, GRP_BT };

struct opcode {
	uint8_t op;             /* enum insn_op; INSN_OP_NONE: not emulated (F_UD: undefined) */
	uint8_t alu;            /* enum insn_alu */
	uint8_t msize;          /* bytes read when not the operand size (MOVZX, MOVSX, MOVSXD) */
	uint8_t group;          /* GRP_*: the row comes from groups[group][ModRM.reg] */
	uint8_t flags;          /* F_* */
};

#define ALU_ROWS(opc, a)                                                        \
	[(opc) + 0] = { .op = INSN_ALU_STORE, .alu = (a), .flags = F_BYTE },    \
	[(opc) + 1] = { .op = INSN_ALU_STORE, .alu = (a) },                     \
	[(opc) + 2] = { .op = INSN_ALU_LOAD, .alu = (a), .flags = F_BYTE },     \
	[(opc) + 3] = { .op = INSN_ALU_LOAD, .alu = (a) }

/* The one-byte opcode map (SDM Vol. 2D, Table A-2): only what is emulated. */
static const struct opcode one_byte[256] = {
	ALU_ROWS(0x00, ALU_ADD), ALU_ROWS(0x08, ALU_OR),
	ALU_ROWS(0x10, ALU_ADC), ALU_ROWS(0x18, ALU_SBB),
	ALU_ROWS(0x20, ALU_AND), ALU_ROWS(0x28, ALU_SUB),
	ALU_ROWS(0x30, ALU_XOR), ALU_ROWS(0x38, ALU_CMP),
	/* MOVSXD; ARPL outside 64-bit mode. It reads 4 bytes also with 66 (as
	 * AMD CPUs do; the SDM's "r16, r/m16" form leaves the result the same). */
	[0x63] = { .op = INSN_MOVSX, .msize = 4, .flags = F_ONLY64 },
	[0x80] = { .group = GRP_ALU, .flags = F_BYTE | F_IMMZ },
	[0x81] = { .group = GRP_ALU, .flags = F_IMMZ },
	[0x82] = { .group = GRP_ALU, .flags = F_BYTE | F_IMMZ | F_NO64 },  /* an alias of 80 */
	[0x83] = { .group = GRP_ALU, .flags = F_IMM8 },
	[0x84] = { .op = INSN_TEST, .alu = ALU_TEST, .flags = F_BYTE },
	[0x85] = { .op = INSN_TEST, .alu = ALU_TEST },
	[0x86] = { .op = INSN_XCHG, .flags = F_BYTE },
	[0x87] = { .op = INSN_XCHG },
	[0x88] = { .op = INSN_MOV_STORE, .flags = F_BYTE },
	[0x89] = { .op = INSN_MOV_STORE },
	[0x8a] = { .op = INSN_MOV_LOAD, .flags = F_BYTE },
	[0x8b] = { .op = INSN_MOV_LOAD },
	[0xa0] = { .op = INSN_MOV_LOAD, .flags = F_MOFFS | F_BYTE },
	[0xa1] = { .op = INSN_MOV_LOAD, .flags = F_MOFFS },
	[0xa2] = { .op = INSN_MOV_STORE, .flags = F_MOFFS | F_BYTE },
	[0xa3] = { .op = INSN_MOV_STORE, .flags = F_MOFFS },
	[0xc6] = { .group = GRP_MOVI, .flags = F_BYTE },
	[0xc7] = { .group = GRP_MOVI },
	[0xf6] = { .group = GRP_UNARY, .flags = F_BYTE },
	[0xf7] = { .group = GRP_UNARY },
	[0xfe] = { .group = GRP_INCDEC, .flags = F_BYTE },
	[0xff] = { .group = GRP_FF },
};

/* The two-byte map, after 0F (SDM Vol. 2D, Table A-3). */
static const struct opcode two_byte[256] = {
	[0xa3] = { .op = INSN_BT, .alu = ALU_BT },
	[0xab] = { .op = INSN_BT, .alu = ALU_BTS },
	[0xb3] = { .op = INSN_BT, .alu = ALU_BTR },
	[0xbb] = { .op = INSN_BT, .alu = ALU_BTC },
	[0xba] = { .group = GRP_BT },
	[0xb6] = { .op = INSN_MOVZX, .msize = 1 },
	[0xb7] = { .op = INSN_MOVZX, .msize = 2 },
	[0xbe] = { .op = INSN_MOVSX, .msize = 1 },
	[0xbf] = { .op = INSN_MOVSX, .msize = 2 },
};

/* Group rows: the operation, or not emulated ({ 0 }), or #UD. */
#define ROW(o, a, f) { .op = (o), .alu = (a), .flags = (f) }
#define UD { .flags = F_UD }

static const struct opcode groups[][8] = {
	[GRP_ALU] = {
		ROW(INSN_ALU_IMM, ALU_ADD, 0), ROW(INSN_ALU_IMM, ALU_OR, 0),
		ROW(INSN_ALU_IMM, ALU_ADC, 0), ROW(INSN_ALU_IMM, ALU_SBB, 0),
		ROW(INSN_ALU_IMM, ALU_AND, 0), ROW(INSN_ALU_IMM, ALU_SUB, 0),
		ROW(INSN_ALU_IMM, ALU_XOR, 0), ROW(INSN_ALU_IMM, ALU_CMP, 0),
	},
	/* /7 with a register operand is XABORT/XBEGIN. */
	[GRP_MOVI] = { ROW(INSN_MOV_STORE_IMM, 0, F_IMMZ), UD, UD, UD, UD, UD, UD },
	/* /1 is not in the SDM; Intel and AMD CPUs execute it as TEST.
	 * /4-/7: MUL, IMUL, DIV, IDIV. */
	[GRP_UNARY] = {
		ROW(INSN_TEST, ALU_TEST, F_IMMZ), ROW(INSN_TEST, ALU_TEST, F_IMMZ),
		ROW(INSN_NOT, 0, 0), ROW(INSN_NEG, 0, 0),
	},
	[GRP_INCDEC] = { ROW(INSN_INC, 0, 0), ROW(INSN_DEC, 0, 0), UD, UD, UD, UD, UD, UD },
	/* /2-/6: CALL, CALLF, JMP, JMPF, PUSH. */
	[GRP_FF] = { ROW(INSN_INC, 0, 0), ROW(INSN_DEC, 0, 0), [7] = UD },
	[GRP_BT] = {
		UD, UD, UD, UD,
		ROW(INSN_BT, ALU_BT, F_IMMU8), ROW(INSN_BT, ALU_BTS, F_IMMU8),
		ROW(INSN_BT, ALU_BTR, F_IMMU8), ROW(INSN_BT, ALU_BTC, F_IMMU8),
	},
};

static uint64_t mask(unsigned int size)
{
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static uint64_t sext(uint64_t v, unsigned int size)
{
	unsigned int s = 64 - 8 * size;

	return (uint64_t)((int64_t)(v << s) >> s);
}

struct cursor {
	const uint8_t *bytes;
	size_t n;               /* bytes available */
	size_t pos;
};

/* The next `size` bytes, little-endian. */
static int fetch(struct cursor *c, unsigned int size, uint64_t *val)
{
	/* At most 15 bytes, prefixes included: more is #GP (SDM Vol. 2A, 2.3.11;
	 * AMD APM Vol. 3, 1.1). */
	if (c->pos + size > INSN_MAX_LEN)
		return -EINVAL;
	if (c->pos + size > c->n)
		return -EAGAIN;
	*val = 0;
	for (unsigned int i = 0; i < size; i++)
		*val |= (uint64_t)c->bytes[c->pos++] << (8 * i);
	return 0;
}

struct prefixes {
	bool opsize, addrsize;  /* 66, 67 */
	int8_t seg;             /* override, -1 none */
	uint8_t rex;
};

/* Record legacy prefix b (SDM Vol. 2A, 2.1.1); false when b is none. */
static bool legacy_prefix(struct insn *in, struct prefixes *p, uint8_t b, enum insn_mode mode)
{
	switch (b) {
	case 0x66:
		p->opsize = true;
		break;
	case 0x67:
		p->addrsize = true;
		break;
	case 0xf0:
		in->lock = true;
		break;
	case 0xf2:
	case 0xf3:
		in->rep = b == 0xf3;
		in->repne = b == 0xf2;
		break;
	case 0x26: case 0x2e: case 0x36: case 0x3e:
		/* ES, CS, SS, DS overrides are null prefixes in 64-bit mode
		 * (AMD APM Vol. 3, 1.2.4): they neither apply nor undo FS/GS. */
		if (mode != INSN_MODE_64)
			p->seg = (b >> 3) & 3;
		break;
	case 0x64: case 0x65:
		p->seg = SEG_FS + (b - 0x64);
		break;
	default:
		return false;
	}
	return true;
}

/* 16-bit addressing (SDM Vol. 2A, Table 2-1). */
static int mem16(struct cursor *c, struct insn *in, unsigned int mod, unsigned int rm)
{
	static const int8_t base[8] = { RBX, RBX, RBP, RBP, RSI, RDI, RBP, RBX };
	static const int8_t index[8] = { RSI, RDI, RSI, RDI, -1, -1, -1, -1 };
	unsigned int disp = mod == 1 ? 1 : mod == 2 ? 2 : 0;
	uint64_t v = 0;
	int err;

	in->base = base[rm];
	in->index = index[rm];
	if (mod == 0 && rm == 6) {      /* [disp16] */
		in->base = -1;
		disp = 2;
	}
	if (disp && (err = fetch(c, disp, &v)))
		return err;
	in->disp = disp ? (int64_t)sext(v, disp) : 0;
	return 0;
}

/* 32- and 64-bit addressing (SDM Vol. 2A, Tables 2-2, 2-3; 2.2.1). */
static int mem32(struct cursor *c, struct insn *in, unsigned int mod, unsigned int rm,
		 uint8_t rex, enum insn_mode mode)
{
	unsigned int disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	uint64_t v = 0;
	int err;

	if (rm == 4) {                  /* SIB follows; R12 as a base needs one too */
		uint64_t sib;
		unsigned int index, base;

		if ((err = fetch(c, 1, &sib)))
			return err;
		index = ((sib >> 3) & 7) | (rex & REX_X ? 8 : 0);
		base = sib & 7;
		if (index != RSP) {     /* 100 without REX.X: no index */
			in->index = index;
			in->scale = 1 << (sib >> 6);
		}
		if (mod == 0 && base == RBP)   /* [index*scale + disp32], also with REX.B */
			disp = 4;
		else
			in->base = base | (rex & REX_B ? 8 : 0);
	} else if (mod == 0 && rm == 5) {
		/* disp32: RIP-relative in 64-bit mode (SDM Vol. 2A, 2.2.1.6),
		 * absolute in 16/32-bit modes; also with REX.B. */
		in->base = mode == INSN_MODE_64 ? INSN_BASE_RIP : -1;
		disp = 4;
	} else {
		in->base = rm | (rex & REX_B ? 8 : 0);
	}
	if (disp && (err = fetch(c, disp, &v)))
		return err;
	in->disp = disp ? (int64_t)sext(v, disp) : 0;
	return 0;
}

/* The instructions LOCK may prefix (SDM Vol. 2A, LOCK): the rest are #UD. */
static bool lockable(const struct insn *in)
{
	switch (in->op) {
	case INSN_ALU_STORE:
	case INSN_ALU_IMM:
		return in->alu != ALU_CMP;
	case INSN_BT:
		return in->alu != ALU_BT;
	case INSN_XCHG:
	case INSN_NOT:
	case INSN_NEG:
	case INSN_INC:
	case INSN_DEC:
		return true;
	default:
		return false;
	}
}

/* The register operand in ModRM.reg. 8-bit registers 4-7 are AH, CH, DH,
 * BH without a REX prefix and SPL, BPL, SIL, DIL with one (SDM Vol. 2A,
 * 2.2.1.2, Table 3-1). */
static void set_reg(struct insn *in, unsigned int reg, uint8_t rex)
{
	if (in->opsize == 1 && !rex && reg >= 4) {
		in->reg = reg - 4;
		in->reg_high8 = true;
	} else {
		in->reg = reg | (rex & REX_R ? 8 : 0);
	}
}

int insn_decode(struct insn *in, const uint8_t *bytes, size_t n, enum insn_mode mode)
{
	struct cursor c = { bytes, MIN(n, INSN_MAX_LEN), 0 };
	struct prefixes p = { .seg = -1 };
	struct opcode e;
	uint64_t b, v;
	int err;

	*in = (struct insn){ .reg = -1, .base = -1, .index = -1, .scale = 1, .seg = SEG_DS };

	/* Legacy prefixes in any number and order. REX counts only as the
	 * last prefix: one followed by a legacy prefix is ignored (SDM Vol.
	 * 2A, 2.2.1); 40-4F are INC/DEC outside 64-bit mode. */
	for (;;) {
		if ((err = fetch(&c, 1, &b)))
			return err;
		if (mode == INSN_MODE_64 && (b & 0xf0) == 0x40)
			p.rex = b;
		else if (legacy_prefix(in, &p, b, mode))
			p.rex = 0;
		else
			break;
	}

	e = one_byte[b];
	if (b == 0x0f) {
		if ((err = fetch(&c, 1, &b)))
			return err;
		e = two_byte[b];
	}
	if (!e.op && !e.group)
		return -EOPNOTSUPP;
	if (mode == INSN_MODE_64 && (e.flags & F_NO64))
		return -EINVAL;
	if (mode != INSN_MODE_64 && (e.flags & F_ONLY64))
		return -EOPNOTSUPP;

	/* Operand size: REX.W, else 66 flips the mode's default; address size:
	 * 67 flips it (SDM Vol. 1, 3.6; Table 3-4 for 64-bit mode). */
	if (e.flags & F_BYTE)
		in->opsize = 1;
	else if (p.rex & REX_W)
		in->opsize = 8;
	else
		in->opsize = (mode == INSN_MODE_16) != p.opsize ? 2 : 4;
	if (mode == INSN_MODE_64)
		in->addrsize = p.addrsize ? 4 : 8;
	else
		in->addrsize = (mode == INSN_MODE_16) != p.addrsize ? 2 : 4;

	if (e.flags & F_MOFFS) {
		if ((err = fetch(&c, in->addrsize, &v)))
			return err;
		in->disp = (int64_t)v;
		in->reg = 0;
	} else {
		unsigned int mod, reg, rm;

		if ((err = fetch(&c, 1, &v)))
			return err;
		mod = v >> 6;
		reg = (v >> 3) & 7;
		rm = v & 7;
		if (e.group) {
			uint8_t flags = e.flags;

			e = groups[e.group][reg];
			e.flags |= flags;
			if (!e.op)
				return e.flags & F_UD ? -EINVAL : -EOPNOTSUPP;
		} else {
			set_reg(in, reg, p.rex);
		}
		/* LOCK needs a memory destination (SDM Vol. 2A, LOCK). */
		if (mod == 3)
			return in->lock ? -EINVAL : -EOPNOTSUPP;
		if (in->addrsize == 2)
			err = mem16(&c, in, mod, rm);
		else
			err = mem32(&c, in, mod, rm, p.rex, mode);
		if (err)
			return err;
	}
	in->op = e.op;
	in->alu = e.alu;
	if (in->lock && !lockable(in))
		return -EINVAL;
	in->memsize = e.msize ? e.msize : in->opsize;

	if (e.flags & (F_IMM8 | F_IMMU8 | F_IMMZ)) {
		unsigned int size = e.flags & F_IMMZ ? MIN(in->opsize, 4) : 1;

		if ((err = fetch(&c, size, &v)))
			return err;
		in->imm = e.flags & F_IMMU8 ? v : sext(v, size) & mask(in->opsize);
	}

	if (p.seg >= 0)
		in->seg = p.seg;
	else if (in->base == RSP || in->base == RBP)
		in->seg = SEG_SS;
	in->len = c.pos;
	return 0;
}

uint64_t insn_ea(const struct insn *in, const uint64_t gpr[16], uint64_t rip)
{
	uint64_t ea = (uint64_t)in->disp;

	if (in->base == INSN_BASE_RIP)
		ea += rip + in->len;
	else if (in->base >= 0)
		ea += gpr[in->base];
	if (in->index >= 0)
		ea += gpr[in->index] * in->scale;
	if (in->op == INSN_BT && in->reg >= 0) {
		/* A signed bit offset: the operand is opsize bytes at
		 * floor(offset / bits) operands from the address. */
		int64_t off = (int64_t)sext(gpr[in->reg], in->opsize);

		ea += (uint64_t)((off >> (3 + __builtin_ctz(in->opsize))) * in->opsize);
	}
	return ea & mask(in->addrsize);
}

/* 1 when the low byte has an even number of set bits: 0x6996 holds the
 * parity of each nibble value. */
static bool parity_even(uint64_t v)
{
	return !((0x6996 >> ((v ^ (v >> 4)) & 0xf)) & 1);
}

/*
 * a op b in `size` bytes, the arithmetic flags in *flags set as the CPU
 * sets them (SDM Vol. 1, Appendix A, and each instruction's page). CF is
 * the carry (borrow) out of the top bit: the majority of a (~a when
 * subtracting), b and the carry into that bit, which is a ^ b ^ r there;
 * AF is the carry out of bit 3, seen the same way at bit 4. OF: the
 * operands' signs agree (add) or differ (sub) and the result's is not a's.
 * The logic operations clear CF and OF; their AF is undefined, and Intel
 * and AMD CPUs clear it, so we do too.
 */
static uint64_t alu(unsigned int op, uint64_t a, uint64_t b, unsigned int size, uint64_t *flags)
{
	uint64_t m = mask(size), sign = 1ULL << (8 * size - 1);
	uint64_t carry_in = *flags & RFLAGS_CF ? 1 : 0;
	uint64_t r, cf = 0, of = 0, af = 0;

	a &= m;
	b &= m;
	switch (op) {
	case ALU_ADD:
	case ALU_ADC:
		r = (a + b + (op == ALU_ADC ? carry_in : 0)) & m;
		cf = ((a & b) | ((a | b) & ~r)) & sign;
		of = (a ^ r) & (b ^ r) & sign;
		af = (a ^ b ^ r) & 0x10;
		break;
	case ALU_SUB:
	case ALU_SBB:
	case ALU_CMP:
		r = (a - b - (op == ALU_SBB ? carry_in : 0)) & m;
		cf = ((~a & b) | (~(a ^ b) & r)) & sign;
		of = (a ^ b) & (a ^ r) & sign;
		af = (a ^ b ^ r) & 0x10;
		break;
	case ALU_OR:
		r = a | b;
		break;
	case ALU_XOR:
		r = a ^ b;
		break;
	default:                        /* ALU_AND, ALU_TEST */
		r = a & b;
		break;
	}
	*flags &= ~(uint64_t)RFLAGS_ARITH;
	*flags |= (cf ? RFLAGS_CF : 0) | (parity_even(r) ? RFLAGS_PF : 0) |
		  (af ? RFLAGS_AF : 0) | (r == 0 ? RFLAGS_ZF : 0) |
		  (r & sign ? RFLAGS_SF : 0) | (of ? RFLAGS_OF : 0);
	return r;
}

/* Write val to the register operand: 8- and 16-bit results merge into
 * the register, 32-bit ones zero-extend to 64 bits (SDM Vol. 1, 3.4.1.1). */
static void reg_set(const struct insn *in, uint64_t gpr[16], unsigned int size, uint64_t val)
{
	uint64_t *r = &gpr[in->reg];

	if (in->reg_high8)
		*r = (*r & ~0xff00ULL) | (val & 0xff) << 8;
	else if (size >= 4)
		*r = val & mask(size);
	else
		*r = (*r & ~mask(size)) | (val & mask(size));
}

static uint64_t reg_get(const struct insn *in, const uint64_t gpr[16])
{
	if (in->reg < 0)
		return 0;
	if (in->reg_high8)
		return (gpr[in->reg] >> 8) & 0xff;
	return gpr[in->reg] & mask(in->opsize);
}

int insn_emulate(const struct insn *in, uint64_t gpr[16], uint64_t *rflags,
		 const struct insn_emul_ops *ops, void *ctx)
{
	unsigned int size = in->opsize;
	uint64_t flags = *rflags, reg = reg_get(in, gpr), mem = 0, out = 0, bit;
	bool to_mem = true, to_reg = false;
	int err;

	if (in->op != INSN_MOV_STORE && in->op != INSN_MOV_STORE_IMM) {
		if ((err = ops->read(ctx, &mem, in->memsize)))
			return err;
		mem &= mask(in->memsize);
	}

	switch (in->op) {
	case INSN_MOV_STORE:
		out = reg;
		break;
	case INSN_MOV_STORE_IMM:
		out = in->imm;
		break;
	case INSN_MOV_LOAD:
	case INSN_MOVZX:
		to_mem = false;
		to_reg = true;
		reg = mem;
		break;
	case INSN_MOVSX:
		to_mem = false;
		to_reg = true;
		reg = sext(mem, in->memsize);
		break;
	case INSN_ALU_STORE:
		out = alu(in->alu, mem, reg, size, &flags);
		to_mem = in->alu != ALU_CMP;
		break;
	case INSN_ALU_LOAD:
		reg = alu(in->alu, reg, mem, size, &flags);
		to_mem = false;
		to_reg = in->alu != ALU_CMP;
		break;
	case INSN_ALU_IMM:
		out = alu(in->alu, mem, in->imm, size, &flags);
		to_mem = in->alu != ALU_CMP;
		break;
	case INSN_TEST:
		alu(ALU_TEST, mem, in->reg >= 0 ? reg : in->imm, size, &flags);
		to_mem = false;
		break;
	case INSN_XCHG:
		out = reg;
		reg = mem;
		to_reg = true;
		break;
	case INSN_BT:
		/* CF is the bit; ZF is unchanged (SDM) or undefined (APM), OF SF
		 * AF PF undefined: CPUs leave them all alone, and so do we. */
		bit = 1ULL << ((in->reg >= 0 ? reg : in->imm) & (8 * size - 1));
		flags = (flags & ~(uint64_t)RFLAGS_CF) | (mem & bit ? RFLAGS_CF : 0);
		out = in->alu == ALU_BTS ? mem | bit : in->alu == ALU_BTR ? mem & ~bit : mem ^ bit;
		to_mem = in->alu != ALU_BT;
		break;
	case INSN_NOT:                  /* no flags */
		out = ~mem;
		break;
	case INSN_NEG:                  /* 0 - mem: CF = (mem != 0) */
		out = alu(ALU_SUB, 0, mem, size, &flags);
		break;
	case INSN_INC:
	case INSN_DEC:                  /* CF is kept */
		out = alu(in->op == INSN_INC ? ALU_ADD : ALU_SUB, mem, 1, size, &flags);
		flags = (flags & ~(uint64_t)RFLAGS_CF) | (*rflags & RFLAGS_CF);
		break;
	default:
		return -EINVAL;
	}

	/* The write is the last thing that can fail: nothing is changed before it. */
	if (to_mem && (err = ops->write(ctx, out & mask(in->memsize), in->memsize)))
		return err;
	if (to_reg)
		reg_set(in, gpr, size, reg);
	*rflags = flags;
	return 0;
}

const char *insn_op_name(const struct insn *in)
{
	static const char *const alu_names[] = {
		"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp",
		"test", "bt", "bts", "btr", "btc",
	};
	static const char *const op_names[] = {
		[INSN_OP_NONE] = "?", [INSN_MOV_STORE] = "mov", [INSN_MOV_LOAD] = "mov",
		[INSN_MOV_STORE_IMM] = "mov", [INSN_MOVZX] = "movzx", [INSN_MOVSX] = "movsx",
		[INSN_XCHG] = "xchg", [INSN_NOT] = "not", [INSN_NEG] = "neg",
		[INSN_INC] = "inc", [INSN_DEC] = "dec",
	};

	if (in->op >= ARRAY_SIZE(op_names) || in->alu >= ARRAY_SIZE(alu_names))
		return "?";
	return op_names[in->op] ? op_names[in->op] : alu_names[in->alu];
}
