/*
 * Decode and emulate the x86 instructions a guest uses on device registers
 * (MMIO): the MOV family and the read-modify-write ALU instructions with a
 * memory operand. The hypervisor fetches the bytes itself (SVM under QEMU
 * has no decode assists, VMX EPT violations give no instruction length),
 * decodes them here, and runs the access against the device model.
 * docs/emulation.md says what is covered and what is not.
 */
#ifndef X86_INSN_H
#define X86_INSN_H

#include "hv/types.h"

/* The default operand and address size: CS.L (64), else CS.D (32 or 16).
 * Real mode and virtual-8086 mode use 16. */
enum insn_mode { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };

enum insn_op {
	INSN_OP_NONE,
	INSN_MOV_STORE,         /* 88, 89: mem <- reg;  A2, A3: moffs <- AL/rAX (reg = 0) */
	INSN_MOV_LOAD,          /* 8A, 8B: reg <- mem;  A0, A1: AL/rAX <- moffs */
	INSN_MOV_STORE_IMM,     /* C6 /0, C7 /0 */
	INSN_MOVZX,             /* 0F B6, 0F B7 */
	INSN_MOVSX,             /* 0F BE, 0F BF, 63 (MOVSXD, 64-bit mode) */
	INSN_ALU_STORE,         /* 00, 01, 08, 09 ... 38, 39: "op r/m, reg" (CMP writes nothing) */
	INSN_ALU_LOAD,          /* 02, 03, 0A, 0B ... 3A, 3B: "op reg, r/m" */
	INSN_ALU_IMM,           /* 80, 81, 82, 83 /0-/7 */
	INSN_TEST,              /* 84, 85 with reg; F6 /0, F7 /0 (and the /1 aliases) with imm */
	INSN_XCHG,              /* 86, 87 */
	INSN_BT,                /* 0F A3/AB/B3/BB (bit offset in reg), 0F BA /4-/7 (imm8) */
	INSN_NOT, INSN_NEG,     /* F6/F7 /2, /3 */
	INSN_INC, INSN_DEC,     /* FE/FF /0, /1 */
};

/* ALU_ADD..ALU_CMP are the ModRM.reg / opcode[5:3] numbers of the group. */
enum insn_alu {
	ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP,
	ALU_TEST, ALU_BT, ALU_BTS, ALU_BTR, ALU_BTC,
};

/* Segment registers, numbered as the ISA encodes them (MOV Sreg). */
enum insn_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

#define INSN_MAX_LEN  15
#define INSN_BASE_RIP 16

struct insn {
	uint8_t len;            /* total length in bytes, prefixes included */
	uint8_t op;             /* enum insn_op */
	uint8_t alu;            /* enum insn_alu: ALU_*, TEST, BT */
	uint8_t opsize;         /* operand size: 1, 2, 4, 8 */
	uint8_t memsize;        /* bytes accessed (MOVZX/MOVSX: 1 or 2; MOVSXD: 4) */
	uint8_t addrsize;       /* 2, 4, 8 */
	/*
	 * The register operand, hardware numbering 0-15 (RAX, RCX, RDX, RBX,
	 * RSP, RBP, RSI, RDI, R8..R15); -1 none. With reg_high8 it is bits
	 * 15:8 of that register: AH, CH, DH, BH are reg 0-3 with reg_high8
	 * (an 8-bit operand encoded as 4-7 without a REX prefix).
	 */
	int8_t reg;
	bool reg_high8;
	uint64_t imm;           /* sign-extended to opsize as the instruction does (BT: imm8) */
	/* The memory operand. */
	uint8_t seg;            /* enum insn_seg: override, or SS with base RSP/RBP, else DS */
	int8_t base, index;     /* hardware numbering, -1 none; base INSN_BASE_RIP: RIP-relative */
	uint8_t scale;          /* 1, 2, 4, 8 (1 without index) */
	int64_t disp;           /* sign-extended displacement, or the moffs address */
	bool lock, rep, repne;  /* F0, F3, F2 (the last of F2/F3 counts) */
};

/*
 * Decode bytes[0..n) in `mode`. 0: decoded (in->len <= n).
 * -EAGAIN: the bytes end before the instruction does (give more, up to 15).
 * -EOPNOTSUPP: an instruction this emulator does not handle, or one without
 *  a memory operand (register forms: the caller only emulates memory accesses).
 * -EINVAL: not a valid instruction (#UD: LOCK where it is not allowed, the
 *  undefined slots of the groups above, 82 in 64-bit mode), or longer than
 *  15 bytes (#GP on real hardware).
 * On an error *in holds nothing useful.
 */
int insn_decode(struct insn *in, const uint8_t *bytes, size_t n, enum insn_mode mode);

/*
 * Effective address (offset in the segment, before adding the segment base)
 * of the memory operand, truncated to addrsize. gpr[] in hardware numbering;
 * rip: address of the instruction (RIP-relative adds rip + len). For BT with
 * the bit offset in a register the address includes the operand-sized step
 * the offset selects (SDM Vol. 2A, BT: "bit base"), so it is the address
 * actually accessed.
 */
uint64_t insn_ea(const struct insn *in, const uint64_t gpr[16], uint64_t rip);

struct insn_emul_ops {
	/* The memory operand: `size` bytes at the operand (the device).
	 * 0 or a negative error the emulator returns unchanged. */
	int (*read)(void *ctx, uint64_t *val, unsigned int size);
	int (*write)(void *ctx, uint64_t val, unsigned int size);
};

#define RFLAGS_CF (1u << 0)
#define RFLAGS_PF (1u << 2)
#define RFLAGS_AF (1u << 4)
#define RFLAGS_ZF (1u << 6)
#define RFLAGS_SF (1u << 7)
#define RFLAGS_OF (1u << 11)
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/*
 * Execute a decoded instruction whose memory operand is the device: reads
 * and writes gpr[] (8/16-bit results merge into the register, 32-bit ones
 * zero-extend to 64 bits), updates the arithmetic flags in *rflags as the
 * CPU does (the undefined ones as CPUs leave them: docs/emulation.md),
 * calls read before write, at most once each. A failing callback's error
 * comes back with gpr[] and *rflags unchanged, so the caller may run the
 * whole emulation again later. RIP is not moved (the caller adds in->len).
 */
int insn_emulate(const struct insn *in, uint64_t gpr[16], uint64_t *rflags,
		 const struct insn_emul_ops *ops, void *ctx);

/* A name for logs ("mov", "or", ...). */
const char *insn_op_name(const struct insn *in);

#endif
