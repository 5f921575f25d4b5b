/*
 * The MMIO instruction decoder and emulator (x86/insn.h). Decoding: a table
 * of encodings with every field expected, in 16-, 32- and 64-bit modes, cut
 * at every byte, padded, too long, and the encodings refused. Emulation:
 * every form runs natively on this CPU against a memory buffer, and the
 * emulator must leave the same registers, flags and memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cpuid.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <x86/insn.h>
#include "hv/compiler.h"
#include "hv/errno.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
#define RIP INSN_BASE_RIP

/* ------------------------------------------------------------ decoding */

struct decode_case {
	const char *name;
	enum insn_mode mode;
	uint8_t b[INSN_MAX_LEN];
	uint8_t n;
	struct insn want;       /* .len is n */
};

#define M16 INSN_MODE_16
#define M32 INSN_MODE_32
#define M64 INSN_MODE_64
#define BYTES(...) .b = { __VA_ARGS__ }, .n = sizeof((uint8_t[]){ __VA_ARGS__ })
#define SZ(o, m, a) .opsize = (o), .memsize = (m), .addrsize = (a)
#define MOFFS64 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11
/* An expected decoding starts from "no register, no base, no index, DS";
 * the fields named after that override it. */
#pragma GCC diagnostic ignored "-Woverride-init"
#define WANT(...) .want = { .reg = -1, .base = -1, .index = -1, .scale = 1, .seg = SEG_DS, __VA_ARGS__ }

static const struct decode_case decode_cases[] = {
	/* Operand size: 66, REX.W, and which wins; REX only as the last prefix. */
	{ "mov [rax],ecx", M64, BYTES(0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(4, 4, 8), .reg = RCX, .base = RAX) },
	{ "mov [rax],rcx", M64, BYTES(0x48, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(8, 8, 8), .reg = RCX, .base = RAX) },
	{ "mov [rax],cx", M64, BYTES(0x66, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 8), .reg = RCX, .base = RAX) },
	{ "66 REX.W: REX.W wins", M64, BYTES(0x66, 0x48, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(8, 8, 8), .reg = RCX, .base = RAX) },
	{ "REX.W 66: a REX before a legacy prefix is ignored", M64, BYTES(0x48, 0x66, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 8), .reg = RCX, .base = RAX) },
	{ "REX.WR REX.B: the last REX counts", M64, BYTES(0x4c, 0x41, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(4, 4, 8), .reg = RCX, .base = R8) },
	{ "mov [r8],r9d", M64, BYTES(0x45, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(4, 4, 8), .reg = R9, .base = R8) },
	{ "66 66 66: repeated prefixes", M64, BYTES(0x66, 0x66, 0x66, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 8), .reg = RCX, .base = RAX) },
	/* 8-bit registers with and without REX. */
	{ "mov [rax],ah", M64, BYTES(0x88, 0x20),
	  WANT(.op = INSN_MOV_STORE, SZ(1, 1, 8), .reg = RAX, .reg_high8 = true, .base = RAX) },
	{ "mov [rax],bh", M64, BYTES(0x88, 0x38),
	  WANT(.op = INSN_MOV_STORE, SZ(1, 1, 8), .reg = RBX, .reg_high8 = true, .base = RAX) },
	{ "mov [rax],spl", M64, BYTES(0x40, 0x88, 0x20),
	  WANT(.op = INSN_MOV_STORE, SZ(1, 1, 8), .reg = RSP, .base = RAX) },
	{ "mov [rax],dil", M64, BYTES(0x40, 0x88, 0x38),
	  WANT(.op = INSN_MOV_STORE, SZ(1, 1, 8), .reg = RDI, .base = RAX) },
	{ "mov [rax],r12b", M64, BYTES(0x44, 0x88, 0x20),
	  WANT(.op = INSN_MOV_STORE, SZ(1, 1, 8), .reg = R12, .base = RAX) },
	{ "REX 66 mov [rax],ah: the ignored REX does not make it SPL", M64,
	  BYTES(0x40, 0x3e, 0x88, 0x20),
	  WANT(.op = INSN_MOV_STORE, SZ(1, 1, 8), .reg = RAX, .reg_high8 = true, .base = RAX) },
	{ "mov bh,[rsi]", M64, BYTES(0x8a, 0x3e),
	  WANT(.op = INSN_MOV_LOAD, SZ(1, 1, 8), .reg = RBX, .reg_high8 = true, .base = RSI) },
	/* ModRM and SIB in 64-bit addressing. */
	{ "mov eax,[rsp]", M64, BYTES(0x8b, 0x04, 0x24),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = RSP, .seg = SEG_SS) },
	{ "mov eax,[rsp+8]", M64, BYTES(0x8b, 0x44, 0x24, 0x08),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = RSP, .seg = SEG_SS, .disp = 8) },
	{ "mov eax,[rbp+0]", M64, BYTES(0x8b, 0x45, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = RBP, .seg = SEG_SS) },
	{ "mov eax,[rbp-1]", M64, BYTES(0x8b, 0x45, 0xff),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = RBP, .seg = SEG_SS, .disp = -1) },
	{ "mov eax,[r13+0]: R13 needs a displacement like RBP", M64, BYTES(0x41, 0x8b, 0x45, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = R13) },
	{ "mov eax,[r12]: R12 needs a SIB like RSP", M64, BYTES(0x41, 0x8b, 0x04, 0x24),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = R12) },
	{ "mov r15d,[rdi]", M64, BYTES(0x44, 0x8b, 0x3f),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = R15, .base = RDI) },
	{ "mov eax,[rip+0x12345678]", M64, BYTES(0x8b, 0x05, 0x78, 0x56, 0x34, 0x12),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = RIP, .disp = 0x12345678) },
	{ "mov eax,[rip-16]: REX.B leaves RIP-relative", M64,
	  BYTES(0x41, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = RIP, .disp = -16) },
	{ "mov eax,[eip-16]", M64, BYTES(0x67, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 4), .reg = RAX, .base = RIP, .disp = -16) },
	{ "mov eax,[0x1000]: SIB without base and index", M64,
	  BYTES(0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .disp = 0x1000) },
	{ "mov eax,[rcx*4+0x1000]", M64, BYTES(0x8b, 0x04, 0x8d, 0x00, 0x10, 0x00, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .index = RCX, .scale = 4, .disp = 0x1000) },
	{ "mov eax,[r12*8-16]: REX.X makes index 100 R12", M64,
	  BYTES(0x42, 0x8b, 0x04, 0xe5, 0xf0, 0xff, 0xff, 0xff),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .index = R12, .scale = 8, .disp = -16) },
	{ "mov eax,[rax*1+0]: SIB base 101 with mod 0 is no base, also with REX.B", M64,
	  BYTES(0x41, 0x8b, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .index = RAX) },
	{ "mov rax,[r13+r12*4-128]", M64, BYTES(0x4b, 0x8b, 0x44, 0xa5, 0x80),
	  WANT(.op = INSN_MOV_LOAD, SZ(8, 8, 8), .reg = RAX, .base = R13, .index = R12, .scale = 4,
	       .disp = -128) },
	{ "mov eax,[rax+rcx*8-0x80000000]", M64, BYTES(0x8b, 0x84, 0xc8, 0x00, 0x00, 0x00, 0x80),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = RAX, .index = RCX, .scale = 8,
	       .disp = -0x80000000LL) },
	{ "mov ecx,[ebx+edx*2+1]", M64, BYTES(0x67, 0x8b, 0x4c, 0x53, 0x01),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 4), .reg = RCX, .base = RBX, .index = RDX, .scale = 2,
	       .disp = 1) },
	/* Segments: FS and GS count in 64-bit mode, ES CS SS DS are null prefixes. */
	{ "mov eax,fs:[rax]", M64, BYTES(0x64, 0x8b, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = RAX, .seg = SEG_FS) },
	{ "mov rax,gs:[0x28]", M64, BYTES(0x65, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(8, 8, 8), .reg = RAX, .seg = SEG_GS, .disp = 0x28) },
	{ "cs: is ignored in 64-bit mode", M64, BYTES(0x2e, 0x8b, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = RAX) },
	{ "es: is ignored, [rbp] stays SS", M64, BYTES(0x26, 0x8b, 0x45, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = RBP, .seg = SEG_SS) },
	{ "fs: ds: the ignored ds does not undo fs", M64, BYTES(0x64, 0x3e, 0x8b, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .base = RAX, .seg = SEG_FS) },
	/* moffs: address-sized offsets. */
	{ "mov eax,[moffs64]", M64, BYTES(0xa1, MOFFS64),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 8), .reg = RAX, .disp = 0x1122334455667788) },
	{ "mov [moffs64],rax", M64, BYTES(0x48, 0xa3, MOFFS64),
	  WANT(.op = INSN_MOV_STORE, SZ(8, 8, 8), .reg = RAX, .disp = 0x1122334455667788) },
	{ "mov [moffs64],ax", M64, BYTES(0x66, 0xa3, MOFFS64),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 8), .reg = RAX, .disp = 0x1122334455667788) },
	{ "mov [moffs64],al", M64, BYTES(0xa2, MOFFS64),
	  WANT(.op = INSN_MOV_STORE, SZ(1, 1, 8), .reg = RAX, .disp = 0x1122334455667788) },
	{ "mov al,[moffs32]", M64, BYTES(0x67, 0xa0, 0x78, 0x56, 0x34, 0x12),
	  WANT(.op = INSN_MOV_LOAD, SZ(1, 1, 4), .reg = RAX, .disp = 0x12345678) },
	{ "mov fs:[moffs32],eax", M64, BYTES(0x64, 0x67, 0xa3, 0xf0, 0xff, 0xff, 0xff),
	  WANT(.op = INSN_MOV_STORE, SZ(4, 4, 4), .reg = RAX, .seg = SEG_FS, .disp = 0xfffffff0) },
	/* Immediates. */
	{ "mov byte [rax],0xff", M64, BYTES(0xc6, 0x00, 0xff),
	  WANT(.op = INSN_MOV_STORE_IMM, SZ(1, 1, 8), .base = RAX, .imm = 0xff) },
	{ "mov word [rax],0x1234", M64, BYTES(0x66, 0xc7, 0x00, 0x34, 0x12),
	  WANT(.op = INSN_MOV_STORE_IMM, SZ(2, 2, 8), .base = RAX, .imm = 0x1234) },
	{ "mov dword [rax],0x12345678", M64, BYTES(0xc7, 0x00, 0x78, 0x56, 0x34, 0x12),
	  WANT(.op = INSN_MOV_STORE_IMM, SZ(4, 4, 8), .base = RAX, .imm = 0x12345678) },
	{ "mov qword [rax],-1", M64, BYTES(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff),
	  WANT(.op = INSN_MOV_STORE_IMM, SZ(8, 8, 8), .base = RAX, .imm = ~0ULL) },
	{ "mov qword [rax],-0x80000000", M64, BYTES(0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80),
	  WANT(.op = INSN_MOV_STORE_IMM, SZ(8, 8, 8), .base = RAX, .imm = 0xffffffff80000000) },
	{ "mov qword [rax],0x7fffffff", M64, BYTES(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0x7f),
	  WANT(.op = INSN_MOV_STORE_IMM, SZ(8, 8, 8), .base = RAX, .imm = 0x7fffffff) },
	{ "mov dword [rip+0x10],0x12345678", M64,
	  BYTES(0xc7, 0x05, 0x10, 0x00, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12),
	  WANT(.op = INSN_MOV_STORE_IMM, SZ(4, 4, 8), .base = RIP, .disp = 0x10, .imm = 0x12345678) },
	{ "mov word [rsp+8],0xabcd", M64, BYTES(0x66, 0xc7, 0x44, 0x24, 0x08, 0xcd, 0xab),
	  WANT(.op = INSN_MOV_STORE_IMM, SZ(2, 2, 8), .base = RSP, .seg = SEG_SS, .disp = 8,
	       .imm = 0xabcd) },
	{ "15 bytes: ds ds ds mov qword [rsp+disp32],imm32", M64,
	  BYTES(0x3e, 0x3e, 0x3e, 0x48, 0xc7, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff),
	  WANT(.op = INSN_MOV_STORE_IMM, SZ(8, 8, 8), .base = RSP, .seg = SEG_SS, .disp = 0x100,
	       .imm = 0xffffffffffffff80) },
	{ "15 bytes: 13 times 66, mov [rax],cx", M64,
	  BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 8), .reg = RCX, .base = RAX) },
	/* MOVZX, MOVSX, MOVSXD. */
	{ "movzx eax,byte [rax]", M64, BYTES(0x0f, 0xb6, 0x00),
	  WANT(.op = INSN_MOVZX, SZ(4, 1, 8), .reg = RAX, .base = RAX) },
	{ "movzx ax,byte [rax]", M64, BYTES(0x66, 0x0f, 0xb6, 0x00),
	  WANT(.op = INSN_MOVZX, SZ(2, 1, 8), .reg = RAX, .base = RAX) },
	{ "movzx rax,word [rax]", M64, BYTES(0x48, 0x0f, 0xb7, 0x00),
	  WANT(.op = INSN_MOVZX, SZ(8, 2, 8), .reg = RAX, .base = RAX) },
	{ "movzx r9d,word [rax]", M64, BYTES(0x44, 0x0f, 0xb7, 0x08),
	  WANT(.op = INSN_MOVZX, SZ(4, 2, 8), .reg = R9, .base = RAX) },
	{ "movsx ecx,byte [rbx+1]", M64, BYTES(0x0f, 0xbe, 0x4b, 0x01),
	  WANT(.op = INSN_MOVSX, SZ(4, 1, 8), .reg = RCX, .base = RBX, .disp = 1) },
	{ "movsx rax,word [rax]", M64, BYTES(0x48, 0x0f, 0xbf, 0x00),
	  WANT(.op = INSN_MOVSX, SZ(8, 2, 8), .reg = RAX, .base = RAX) },
	{ "movsxd rax,dword [rax]", M64, BYTES(0x48, 0x63, 0x00),
	  WANT(.op = INSN_MOVSX, SZ(8, 4, 8), .reg = RAX, .base = RAX) },
	{ "movsxd eax,dword [rax]", M64, BYTES(0x63, 0x00),
	  WANT(.op = INSN_MOVSX, SZ(4, 4, 8), .reg = RAX, .base = RAX) },
	{ "movsxd ax,dword [rax]", M64, BYTES(0x66, 0x63, 0x00),
	  WANT(.op = INSN_MOVSX, SZ(2, 4, 8), .reg = RAX, .base = RAX) },
	/* ALU, TEST, XCHG, BT, NOT/NEG, INC/DEC. */
	{ "add [rax],ecx", M64, BYTES(0x01, 0x08),
	  WANT(.op = INSN_ALU_STORE, .alu = ALU_ADD, SZ(4, 4, 8), .reg = RCX, .base = RAX) },
	{ "or [rax],ah", M64, BYTES(0x08, 0x20),
	  WANT(.op = INSN_ALU_STORE, .alu = ALU_OR, SZ(1, 1, 8), .reg = RAX, .reg_high8 = true,
	       .base = RAX) },
	{ "adc ecx,[rax]", M64, BYTES(0x13, 0x08),
	  WANT(.op = INSN_ALU_LOAD, .alu = ALU_ADC, SZ(4, 4, 8), .reg = RCX, .base = RAX) },
	{ "sbb ah,[rax]", M64, BYTES(0x1a, 0x20),
	  WANT(.op = INSN_ALU_LOAD, .alu = ALU_SBB, SZ(1, 1, 8), .reg = RAX, .reg_high8 = true,
	       .base = RAX) },
	{ "and [rax],r8", M64, BYTES(0x4c, 0x21, 0x00),
	  WANT(.op = INSN_ALU_STORE, .alu = ALU_AND, SZ(8, 8, 8), .reg = R8, .base = RAX) },
	{ "sub [rax],cx", M64, BYTES(0x66, 0x29, 0x08),
	  WANT(.op = INSN_ALU_STORE, .alu = ALU_SUB, SZ(2, 2, 8), .reg = RCX, .base = RAX) },
	{ "xor bl,[rax]", M64, BYTES(0x32, 0x18),
	  WANT(.op = INSN_ALU_LOAD, .alu = ALU_XOR, SZ(1, 1, 8), .reg = RBX, .base = RAX) },
	{ "cmp [rax],ecx", M64, BYTES(0x39, 0x08),
	  WANT(.op = INSN_ALU_STORE, .alu = ALU_CMP, SZ(4, 4, 8), .reg = RCX, .base = RAX) },
	{ "cmp ecx,[rax]", M64, BYTES(0x3b, 0x08),
	  WANT(.op = INSN_ALU_LOAD, .alu = ALU_CMP, SZ(4, 4, 8), .reg = RCX, .base = RAX) },
	{ "or byte [rax],1", M64, BYTES(0x80, 0x08, 0x01),
	  WANT(.op = INSN_ALU_IMM, .alu = ALU_OR, SZ(1, 1, 8), .base = RAX, .imm = 1) },
	{ "and dword [rax],0xffffff00", M64, BYTES(0x81, 0x20, 0x00, 0xff, 0xff, 0xff),
	  WANT(.op = INSN_ALU_IMM, .alu = ALU_AND, SZ(4, 4, 8), .base = RAX, .imm = 0xffffff00) },
	{ "add word [rax],0x1234", M64, BYTES(0x66, 0x81, 0x00, 0x34, 0x12),
	  WANT(.op = INSN_ALU_IMM, .alu = ALU_ADD, SZ(2, 2, 8), .base = RAX, .imm = 0x1234) },
	{ "sub qword [rax],-0x80000000", M64, BYTES(0x48, 0x81, 0x28, 0x00, 0x00, 0x00, 0x80),
	  WANT(.op = INSN_ALU_IMM, .alu = ALU_SUB, SZ(8, 8, 8), .base = RAX,
	       .imm = 0xffffffff80000000) },
	{ "add dword [rax],-1 (83: imm8)", M64, BYTES(0x83, 0x00, 0xff),
	  WANT(.op = INSN_ALU_IMM, .alu = ALU_ADD, SZ(4, 4, 8), .base = RAX, .imm = 0xffffffff) },
	{ "sbb word [rax],-128", M64, BYTES(0x66, 0x83, 0x18, 0x80),
	  WANT(.op = INSN_ALU_IMM, .alu = ALU_SBB, SZ(2, 2, 8), .base = RAX, .imm = 0xff80) },
	{ "cmp qword [rax],-1", M64, BYTES(0x48, 0x83, 0x38, 0xff),
	  WANT(.op = INSN_ALU_IMM, .alu = ALU_CMP, SZ(8, 8, 8), .base = RAX, .imm = ~0ULL) },
	{ "xor dword [rax],0x7f", M64, BYTES(0x83, 0x30, 0x7f),
	  WANT(.op = INSN_ALU_IMM, .alu = ALU_XOR, SZ(4, 4, 8), .base = RAX, .imm = 0x7f) },
	{ "test [rax],ah", M64, BYTES(0x84, 0x20),
	  WANT(.op = INSN_TEST, .alu = ALU_TEST, SZ(1, 1, 8), .reg = RAX, .reg_high8 = true,
	       .base = RAX) },
	{ "test [rax],ecx", M64, BYTES(0x85, 0x08),
	  WANT(.op = INSN_TEST, .alu = ALU_TEST, SZ(4, 4, 8), .reg = RCX, .base = RAX) },
	{ "test byte [rax],0x80", M64, BYTES(0xf6, 0x00, 0x80),
	  WANT(.op = INSN_TEST, .alu = ALU_TEST, SZ(1, 1, 8), .base = RAX, .imm = 0x80) },
	{ "test byte [rax],1 (F6 /1)", M64, BYTES(0xf6, 0x08, 0x01),
	  WANT(.op = INSN_TEST, .alu = ALU_TEST, SZ(1, 1, 8), .base = RAX, .imm = 1) },
	{ "test word [rax],0x8001", M64, BYTES(0x66, 0xf7, 0x00, 0x01, 0x80),
	  WANT(.op = INSN_TEST, .alu = ALU_TEST, SZ(2, 2, 8), .base = RAX, .imm = 0x8001) },
	{ "test dword [rax],-1", M64, BYTES(0xf7, 0x00, 0xff, 0xff, 0xff, 0xff),
	  WANT(.op = INSN_TEST, .alu = ALU_TEST, SZ(4, 4, 8), .base = RAX, .imm = 0xffffffff) },
	{ "test qword [rax],-1", M64, BYTES(0x48, 0xf7, 0x00, 0xff, 0xff, 0xff, 0xff),
	  WANT(.op = INSN_TEST, .alu = ALU_TEST, SZ(8, 8, 8), .base = RAX, .imm = ~0ULL) },
	{ "xchg [rax],ah", M64, BYTES(0x86, 0x20),
	  WANT(.op = INSN_XCHG, SZ(1, 1, 8), .reg = RAX, .reg_high8 = true, .base = RAX) },
	{ "xchg [rax],ecx", M64, BYTES(0x87, 0x08),
	  WANT(.op = INSN_XCHG, SZ(4, 4, 8), .reg = RCX, .base = RAX) },
	{ "xchg [rax],r15", M64, BYTES(0x4c, 0x87, 0x38),
	  WANT(.op = INSN_XCHG, SZ(8, 8, 8), .reg = R15, .base = RAX) },
	{ "bt [rax],ecx", M64, BYTES(0x0f, 0xa3, 0x08),
	  WANT(.op = INSN_BT, .alu = ALU_BT, SZ(4, 4, 8), .reg = RCX, .base = RAX) },
	{ "bts [rax],rcx", M64, BYTES(0x48, 0x0f, 0xab, 0x08),
	  WANT(.op = INSN_BT, .alu = ALU_BTS, SZ(8, 8, 8), .reg = RCX, .base = RAX) },
	{ "btr [rax],cx", M64, BYTES(0x66, 0x0f, 0xb3, 0x08),
	  WANT(.op = INSN_BT, .alu = ALU_BTR, SZ(2, 2, 8), .reg = RCX, .base = RAX) },
	{ "btc [rax],ecx", M64, BYTES(0x0f, 0xbb, 0x08),
	  WANT(.op = INSN_BT, .alu = ALU_BTC, SZ(4, 4, 8), .reg = RCX, .base = RAX) },
	{ "bt dword [rax],5", M64, BYTES(0x0f, 0xba, 0x20, 0x05),
	  WANT(.op = INSN_BT, .alu = ALU_BT, SZ(4, 4, 8), .base = RAX, .imm = 5) },
	{ "bts dword [rax],0xff: imm8 taken as is", M64, BYTES(0x0f, 0xba, 0x28, 0xff),
	  WANT(.op = INSN_BT, .alu = ALU_BTS, SZ(4, 4, 8), .base = RAX, .imm = 0xff) },
	{ "btr qword [rax],63", M64, BYTES(0x48, 0x0f, 0xba, 0x30, 0x3f),
	  WANT(.op = INSN_BT, .alu = ALU_BTR, SZ(8, 8, 8), .base = RAX, .imm = 63) },
	{ "btc word [rax],1", M64, BYTES(0x66, 0x0f, 0xba, 0x38, 0x01),
	  WANT(.op = INSN_BT, .alu = ALU_BTC, SZ(2, 2, 8), .base = RAX, .imm = 1) },
	{ "not byte [rax]", M64, BYTES(0xf6, 0x10),
	  WANT(.op = INSN_NOT, SZ(1, 1, 8), .base = RAX) },
	{ "neg dword [rax]", M64, BYTES(0xf7, 0x18),
	  WANT(.op = INSN_NEG, SZ(4, 4, 8), .base = RAX) },
	{ "neg qword [rax]", M64, BYTES(0x48, 0xf7, 0x18),
	  WANT(.op = INSN_NEG, SZ(8, 8, 8), .base = RAX) },
	{ "inc byte [rax]", M64, BYTES(0xfe, 0x00),
	  WANT(.op = INSN_INC, SZ(1, 1, 8), .base = RAX) },
	{ "dec byte [rax]", M64, BYTES(0xfe, 0x08),
	  WANT(.op = INSN_DEC, SZ(1, 1, 8), .base = RAX) },
	{ "inc dword [rax]", M64, BYTES(0xff, 0x00),
	  WANT(.op = INSN_INC, SZ(4, 4, 8), .base = RAX) },
	{ "dec word [rax]", M64, BYTES(0x66, 0xff, 0x08),
	  WANT(.op = INSN_DEC, SZ(2, 2, 8), .base = RAX) },
	{ "inc qword [rax]", M64, BYTES(0x48, 0xff, 0x00),
	  WANT(.op = INSN_INC, SZ(8, 8, 8), .base = RAX) },
	/* LOCK, REP, REPNE. */
	{ "lock add [rax],ecx", M64, BYTES(0xf0, 0x01, 0x08),
	  WANT(.op = INSN_ALU_STORE, .alu = ALU_ADD, SZ(4, 4, 8), .reg = RCX, .base = RAX,
	       .lock = true) },
	{ "lock or byte [rax],1", M64, BYTES(0xf0, 0x80, 0x08, 0x01),
	  WANT(.op = INSN_ALU_IMM, .alu = ALU_OR, SZ(1, 1, 8), .base = RAX, .imm = 1, .lock = true) },
	{ "lock bts dword [rax],5", M64, BYTES(0xf0, 0x0f, 0xba, 0x28, 0x05),
	  WANT(.op = INSN_BT, .alu = ALU_BTS, SZ(4, 4, 8), .base = RAX, .imm = 5, .lock = true) },
	{ "lock xchg [rax],ecx", M64, BYTES(0xf0, 0x87, 0x08),
	  WANT(.op = INSN_XCHG, SZ(4, 4, 8), .reg = RCX, .base = RAX, .lock = true) },
	{ "lock neg dword [rax]", M64, BYTES(0xf0, 0xf7, 0x18),
	  WANT(.op = INSN_NEG, SZ(4, 4, 8), .base = RAX, .lock = true) },
	{ "lock dec byte [rax]", M64, BYTES(0xf0, 0xfe, 0x08),
	  WANT(.op = INSN_DEC, SZ(1, 1, 8), .base = RAX, .lock = true) },
	{ "rep mov [rax],ecx", M64, BYTES(0xf3, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(4, 4, 8), .reg = RCX, .base = RAX, .rep = true) },
	{ "repne mov [rax],ecx", M64, BYTES(0xf2, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(4, 4, 8), .reg = RCX, .base = RAX, .repne = true) },
	{ "repne rep: the last counts", M64, BYTES(0xf2, 0xf3, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(4, 4, 8), .reg = RCX, .base = RAX, .rep = true) },
	{ "rep repne: the last counts", M64, BYTES(0xf3, 0xf2, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(4, 4, 8), .reg = RCX, .base = RAX, .repne = true) },
	{ "lock rep 66 67 gs REX.B add [r8d],cx", M64,
	  BYTES(0xf0, 0xf3, 0x66, 0x67, 0x65, 0x41, 0x01, 0x08),
	  WANT(.op = INSN_ALU_STORE, .alu = ALU_ADD, SZ(2, 2, 4), .reg = RCX, .base = R8,
	       .seg = SEG_GS, .lock = true, .rep = true) },

	/* 16-bit mode: the eight 16-bit addressing forms, disp8/disp16, 66, 67. */
	{ "mov [bx+si],ax", M16, BYTES(0x89, 0x00),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RBX, .index = RSI) },
	{ "mov [bx+di],ax", M16, BYTES(0x89, 0x01),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RBX, .index = RDI) },
	{ "mov [bp+si],ax", M16, BYTES(0x89, 0x02),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RBP, .index = RSI, .seg = SEG_SS) },
	{ "mov [bp+di],ax", M16, BYTES(0x89, 0x03),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RBP, .index = RDI, .seg = SEG_SS) },
	{ "mov [si],ax", M16, BYTES(0x89, 0x04),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RSI) },
	{ "mov [di],ax", M16, BYTES(0x89, 0x05),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RDI) },
	{ "mov [0x1234],ax", M16, BYTES(0x89, 0x06, 0x34, 0x12),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .disp = 0x1234) },
	{ "mov [bx],ax", M16, BYTES(0x89, 0x07),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RBX) },
	{ "mov [bp-2],ax", M16, BYTES(0x89, 0x46, 0xfe),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RBP, .seg = SEG_SS, .disp = -2) },
	{ "mov [bx+0x1234],ax", M16, BYTES(0x89, 0x87, 0x34, 0x12),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RBX, .disp = 0x1234) },
	{ "mov [bp-0x8000],ax", M16, BYTES(0x89, 0x86, 0x00, 0x80),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RBP, .seg = SEG_SS,
	       .disp = -0x8000) },
	{ "mov cx,[si+0x7fff]", M16, BYTES(0x8b, 0x8c, 0xff, 0x7f),
	  WANT(.op = INSN_MOV_LOAD, SZ(2, 2, 2), .reg = RCX, .base = RSI, .disp = 0x7fff) },
	{ "mov [bx],eax", M16, BYTES(0x66, 0x89, 0x07),
	  WANT(.op = INSN_MOV_STORE, SZ(4, 4, 2), .reg = RAX, .base = RBX) },
	{ "mov [bx],ah", M16, BYTES(0x88, 0x27),
	  WANT(.op = INSN_MOV_STORE, SZ(1, 1, 2), .reg = RAX, .reg_high8 = true, .base = RBX) },
	{ "mov [esp],ax", M16, BYTES(0x67, 0x89, 0x04, 0x24),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 4), .reg = RAX, .base = RSP, .seg = SEG_SS) },
	{ "mov [0x12345678],eax", M16, BYTES(0x67, 0x66, 0x89, 0x05, 0x78, 0x56, 0x34, 0x12),
	  WANT(.op = INSN_MOV_STORE, SZ(4, 4, 4), .reg = RAX, .disp = 0x12345678) },
	{ "mov ax,[0x1234] (A1)", M16, BYTES(0xa1, 0x34, 0x12),
	  WANT(.op = INSN_MOV_LOAD, SZ(2, 2, 2), .reg = RAX, .disp = 0x1234) },
	{ "mov ax,[moffs32]", M16, BYTES(0x67, 0xa1, 0x78, 0x56, 0x34, 0x12),
	  WANT(.op = INSN_MOV_LOAD, SZ(2, 2, 4), .reg = RAX, .disp = 0x12345678) },
	{ "mov word [0x1234],0x5678", M16, BYTES(0xc7, 0x06, 0x34, 0x12, 0x78, 0x56),
	  WANT(.op = INSN_MOV_STORE_IMM, SZ(2, 2, 2), .disp = 0x1234, .imm = 0x5678) },
	{ "mov dword [bx],0x12345678", M16, BYTES(0x66, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12),
	  WANT(.op = INSN_MOV_STORE_IMM, SZ(4, 4, 2), .base = RBX, .imm = 0x12345678) },
	{ "add word [0x1234],-1", M16, BYTES(0x83, 0x06, 0x34, 0x12, 0xff),
	  WANT(.op = INSN_ALU_IMM, .alu = ALU_ADD, SZ(2, 2, 2), .disp = 0x1234, .imm = 0xffff) },
	{ "movzx ax,byte [bx]", M16, BYTES(0x0f, 0xb6, 0x07),
	  WANT(.op = INSN_MOVZX, SZ(2, 1, 2), .reg = RAX, .base = RBX) },
	{ "mov es:[bx],ax", M16, BYTES(0x26, 0x89, 0x07),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RBX, .seg = SEG_ES) },
	{ "mov ax,cs:[bx]", M16, BYTES(0x2e, 0x8b, 0x07),
	  WANT(.op = INSN_MOV_LOAD, SZ(2, 2, 2), .reg = RAX, .base = RBX, .seg = SEG_CS) },
	{ "mov ss:[bx],ax", M16, BYTES(0x36, 0x89, 0x07),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RBX, .seg = SEG_SS) },
	{ "mov ds:[bp+0],ax", M16, BYTES(0x3e, 0x89, 0x46, 0x00),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RBP, .seg = SEG_DS) },
	{ "fs: es: the last override counts", M16, BYTES(0x64, 0x26, 0x89, 0x07),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 2), .reg = RAX, .base = RBX, .seg = SEG_ES) },

	/* 32-bit mode. */
	{ "mov [eax],ecx", M32, BYTES(0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(4, 4, 4), .reg = RCX, .base = RAX) },
	{ "mov [eax],cx", M32, BYTES(0x66, 0x89, 0x08),
	  WANT(.op = INSN_MOV_STORE, SZ(2, 2, 4), .reg = RCX, .base = RAX) },
	{ "mov [eax],ah", M32, BYTES(0x88, 0x20),
	  WANT(.op = INSN_MOV_STORE, SZ(1, 1, 4), .reg = RAX, .reg_high8 = true, .base = RAX) },
	{ "mov eax,[0x12345678]: disp32, not RIP-relative", M32, BYTES(0x8b, 0x05, 0x78, 0x56, 0x34, 0x12),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 4), .reg = RAX, .disp = 0x12345678) },
	{ "mov [bx],ecx", M32, BYTES(0x67, 0x89, 0x0f),
	  WANT(.op = INSN_MOV_STORE, SZ(4, 4, 2), .reg = RCX, .base = RBX) },
	{ "mov eax,[ecx*4+0x1000]", M32, BYTES(0x8b, 0x04, 0x8d, 0x00, 0x10, 0x00, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 4), .reg = RAX, .index = RCX, .scale = 4, .disp = 0x1000) },
	{ "mov eax,[ebp+esi*2+8]", M32, BYTES(0x8b, 0x44, 0x75, 0x08),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 4), .reg = RAX, .base = RBP, .index = RSI, .scale = 2,
	       .seg = SEG_SS, .disp = 8) },
	{ "mov eax,ds:[ebp+0]: an override beats SS", M32, BYTES(0x3e, 0x8b, 0x45, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 4), .reg = RAX, .base = RBP) },
	{ "mov eax,ss:[eax]", M32, BYTES(0x36, 0x8b, 0x00),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 4), .reg = RAX, .base = RAX, .seg = SEG_SS) },
	{ "mov eax,[moffs32]", M32, BYTES(0xa1, 0x78, 0x56, 0x34, 0x12),
	  WANT(.op = INSN_MOV_LOAD, SZ(4, 4, 4), .reg = RAX, .disp = 0x12345678) },
	{ "mov al,[moffs16]", M32, BYTES(0x67, 0xa0, 0x34, 0x12),
	  WANT(.op = INSN_MOV_LOAD, SZ(1, 1, 2), .reg = RAX, .disp = 0x1234) },
	{ "add byte [eax],1 (82: an alias of 80)", M32, BYTES(0x82, 0x00, 0x01),
	  WANT(.op = INSN_ALU_IMM, .alu = ALU_ADD, SZ(1, 1, 4), .base = RAX, .imm = 1) },
	{ "lock bts [eax],ecx", M32, BYTES(0xf0, 0x0f, 0xab, 0x08),
	  WANT(.op = INSN_BT, .alu = ALU_BTS, SZ(4, 4, 4), .reg = RCX, .base = RAX, .lock = true) },
	{ "movzx ecx,word [eax]", M32, BYTES(0x0f, 0xb7, 0x08),
	  WANT(.op = INSN_MOVZX, SZ(4, 2, 4), .reg = RCX, .base = RAX) },
};

static void check_decoded(const struct decode_case *c, const struct insn *got)
{
	struct insn want = c->want;

	want.len = c->n;
#define FIELD(f) do {                                                          \
		if ((int64_t)got->f != (int64_t)want.f) {                      \
			print_error("%s: " #f " is %#llx, want %#llx\n", c->name, \
				    (unsigned long long)got->f, (unsigned long long)want.f); \
			fail();                                                \
		}                                                              \
	} while (0)
	FIELD(len); FIELD(op); FIELD(alu); FIELD(opsize); FIELD(memsize); FIELD(addrsize);
	FIELD(reg); FIELD(reg_high8); FIELD(imm); FIELD(seg); FIELD(base); FIELD(index);
	FIELD(scale); FIELD(disp); FIELD(lock); FIELD(rep); FIELD(repne);
#undef FIELD
}

static void decode_table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(decode_cases); i++) {
		const struct decode_case *c = &decode_cases[i];
		struct insn in;
		uint8_t padded[INSN_MAX_LEN];
		int err = insn_decode(&in, c->b, c->n, c->mode);

		if (err) {
			print_error("%s: %d\n", c->name, err);
			fail();
		}
		check_decoded(c, &in);
		/* Bytes after the instruction change nothing. */
		memset(padded, 0xcc, sizeof(padded));
		memcpy(padded, c->b, c->n);
		assert_int_equal(insn_decode(&in, padded, sizeof(padded), c->mode), 0);
		check_decoded(c, &in);
	}
}

/* Every cut short of the end asks for more, and reads nothing past the cut
 * (each prefix is given in a buffer of exactly that size, for ASan). */
static void decode_truncated(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(decode_cases); i++) {
		const struct decode_case *c = &decode_cases[i];

		for (size_t cut = 0; cut < c->n; cut++) {
			uint8_t *b = malloc(cut ? cut : 1);
			struct insn in;
			int err;

			memcpy(b, c->b, cut);
			err = insn_decode(&in, b, cut, c->mode);
			free(b);
			if (err != -EAGAIN) {
				print_error("%s: cut at %zu: %d\n", c->name, cut, err);
				fail();
			}
		}
	}
}

struct refused_case {
	const char *name;
	enum insn_mode mode;
	uint8_t b[INSN_MAX_LEN];
	uint8_t n;
	int err;
};

static const struct refused_case refused_cases[] = {
	/* Register forms: no memory operand, nothing to emulate. */
	{ "mov eax,ecx", M64, BYTES(0x89, 0xc8), -EOPNOTSUPP },
	{ "mov ecx,eax (8B)", M64, BYTES(0x8b, 0xc8), -EOPNOTSUPP },
	{ "add eax,ecx", M64, BYTES(0x01, 0xc8), -EOPNOTSUPP },
	{ "test eax,ecx", M64, BYTES(0x85, 0xc8), -EOPNOTSUPP },
	{ "xchg eax,ecx (87)", M64, BYTES(0x87, 0xc8), -EOPNOTSUPP },
	{ "mov al,1 (C6)", M64, BYTES(0xc6, 0xc0, 0x01), -EOPNOTSUPP },
	{ "or eax,1 (83)", M64, BYTES(0x83, 0xc8, 0x01), -EOPNOTSUPP },
	{ "neg eax", M64, BYTES(0xf7, 0xd8), -EOPNOTSUPP },
	{ "inc eax (FF)", M64, BYTES(0xff, 0xc0), -EOPNOTSUPP },
	{ "bt eax,5", M64, BYTES(0x0f, 0xba, 0xe0, 0x05), -EOPNOTSUPP },
	{ "bts eax,ecx", M64, BYTES(0x0f, 0xab, 0xc8), -EOPNOTSUPP },
	{ "movzx eax,cl", M64, BYTES(0x0f, 0xb6, 0xc1), -EOPNOTSUPP },
	{ "movsxd rax,ecx", M64, BYTES(0x48, 0x63, 0xc1), -EOPNOTSUPP },
	{ "mov [bx+si],ax in 16-bit mode is memory, mov ax,ax is not", M16, BYTES(0x89, 0xc0),
	  -EOPNOTSUPP },
	/* Instructions this emulator does not do. */
	{ "nop", M64, BYTES(0x90), -EOPNOTSUPP },
	{ "add al,1 (04)", M64, BYTES(0x04, 0x01), -EOPNOTSUPP },
	{ "lea eax,[rax]", M64, BYTES(0x8d, 0x00), -EOPNOTSUPP },
	{ "mov [rax],es", M64, BYTES(0x8c, 0x00), -EOPNOTSUPP },
	{ "movsb", M64, BYTES(0xa4), -EOPNOTSUPP },
	{ "mul byte [rax]", M64, BYTES(0xf6, 0x20), -EOPNOTSUPP },
	{ "idiv dword [rax]", M64, BYTES(0xf7, 0x38), -EOPNOTSUPP },
	{ "call [rax]", M64, BYTES(0xff, 0x10), -EOPNOTSUPP },
	{ "push qword [rax]", M64, BYTES(0xff, 0x30), -EOPNOTSUPP },
	{ "shl dword [rax],1", M64, BYTES(0xd1, 0x20), -EOPNOTSUPP },
	{ "cmpxchg [rax],ecx", M64, BYTES(0x0f, 0xb1, 0x08), -EOPNOTSUPP },
	{ "movups xmm0,[rax]", M64, BYTES(0x0f, 0x10, 0x00), -EOPNOTSUPP },
	{ "popcnt eax,[rax]", M64, BYTES(0xf3, 0x0f, 0xb8, 0x00), -EOPNOTSUPP },
	{ "xabort 0 (C6 F8)", M64, BYTES(0xc6, 0xf8, 0x00), -EOPNOTSUPP },
	{ "dec eax in 32-bit mode (48 is no REX)", M32, BYTES(0x48, 0x89, 0x08), -EOPNOTSUPP },
	{ "inc ax in 16-bit mode", M16, BYTES(0x40), -EOPNOTSUPP },
	{ "arpl in 32-bit mode (63)", M32, BYTES(0x63, 0x00), -EOPNOTSUPP },
	{ "les in 32-bit mode (C4)", M32, BYTES(0xc4, 0x00), -EOPNOTSUPP },
	/* #UD: LOCK where it is not allowed. */
	{ "lock mov [rax],ecx", M64, BYTES(0xf0, 0x89, 0x08), -EINVAL },
	{ "lock mov ecx,[rax]", M64, BYTES(0xf0, 0x8b, 0x08), -EINVAL },
	{ "lock mov dword [rax],1", M64, BYTES(0xf0, 0xc7, 0x00, 0x01, 0x00, 0x00, 0x00), -EINVAL },
	{ "lock mov eax,[moffs64]", M64, BYTES(0xf0, 0xa1, MOFFS64), -EINVAL },
	{ "lock add ecx,[rax] (the register is the destination)", M64, BYTES(0xf0, 0x03, 0x08), -EINVAL },
	{ "lock cmp [rax],ecx", M64, BYTES(0xf0, 0x39, 0x08), -EINVAL },
	{ "lock cmp dword [rax],1", M64, BYTES(0xf0, 0x83, 0x38, 0x01), -EINVAL },
	{ "lock test [rax],ecx", M64, BYTES(0xf0, 0x85, 0x08), -EINVAL },
	{ "lock bt [rax],ecx", M64, BYTES(0xf0, 0x0f, 0xa3, 0x08), -EINVAL },
	{ "lock bt dword [rax],1", M64, BYTES(0xf0, 0x0f, 0xba, 0x20, 0x01), -EINVAL },
	{ "lock movzx eax,byte [rax]", M64, BYTES(0xf0, 0x0f, 0xb6, 0x00), -EINVAL },
	{ "lock add eax,ecx (a register destination)", M64, BYTES(0xf0, 0x01, 0xc8), -EINVAL },
	/* #UD: undefined group slots, 82 in 64-bit mode. */
	{ "FE /2", M64, BYTES(0xfe, 0x10), -EINVAL },
	{ "FE /7", M64, BYTES(0xfe, 0x38), -EINVAL },
	{ "FF /7", M64, BYTES(0xff, 0x38), -EINVAL },
	{ "C6 /1", M64, BYTES(0xc6, 0x08, 0x01), -EINVAL },
	{ "C7 /6", M64, BYTES(0xc7, 0x30, 0x00, 0x00, 0x00, 0x00), -EINVAL },
	{ "0F BA /0", M64, BYTES(0x0f, 0xba, 0x00, 0x01), -EINVAL },
	{ "0F BA /3", M64, BYTES(0x0f, 0xba, 0x18, 0x01), -EINVAL },
	{ "82 in 64-bit mode", M64, BYTES(0x82, 0x00, 0x01), -EINVAL },
	/* More than 15 bytes: #GP. */
	{ "16 bytes: 14 times 66, mov [rax],cx", M64,
	  BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x89),
	  -EINVAL },
	{ "15 prefixes", M64,
	  BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66),
	  -EINVAL },
	{ "16 bytes: ds*4 mov qword [rsp+disp32],imm32", M64,
	  BYTES(0x3e, 0x3e, 0x3e, 0x3e, 0x48, 0xc7, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00, 0x80, 0xff, 0xff),
	  -EINVAL },
	{ "16 bytes: 7 prefixes, mov rax,[moffs64]", M64,
	  BYTES(0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x3e, 0x48, 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33),
	  -EINVAL },
};

static void decode_refused(void **state)
{
	struct insn in;

	for (size_t i = 0; i < ARRAY_SIZE(refused_cases); i++) {
		const struct refused_case *c = &refused_cases[i];
		int err = insn_decode(&in, c->b, c->n, c->mode);

		if (err != c->err) {
			print_error("%s: %d, want %d\n", c->name, err, c->err);
			fail();
		}
	}
	/* Nothing at all: more, please. */
	assert_int_equal(insn_decode(&in, NULL, 0, M64), -EAGAIN);
}

/* ------------------------------------------------------------ addresses */

static uint64_t ea_of(enum insn_mode mode, const uint8_t *b, size_t n, const uint64_t gpr[16],
		      uint64_t rip)
{
	struct insn in;

	assert_int_equal(insn_decode(&in, b, n, mode), 0);
	return insn_ea(&in, gpr, rip);
}

#define EA(mode, gpr, rip, ...) \
	ea_of(mode, (const uint8_t[]){ __VA_ARGS__ }, sizeof((uint8_t[]){ __VA_ARGS__ }), gpr, rip)

static void effective_address(void **state)
{
	uint64_t gpr[16] = { 0 };

	/* 16-bit: the sum wraps at 64 KiB. */
	gpr[RBX] = 0xfff0;
	gpr[RSI] = 0x0020;
	assert_int_equal(EA(M16, gpr, 0, 0x89, 0x40, 0x01), 0x0011);          /* [bx+si+1] */
	gpr[RBP] = 0x12340010;
	assert_int_equal(EA(M16, gpr, 0, 0x89, 0x46, 0xf0), 0x0000);          /* [bp-16]: BP is 16 bits */
	assert_int_equal(EA(M16, gpr, 0, 0x89, 0x06, 0xff, 0xff), 0xffff);    /* [0xffff] */
	/* 32-bit: registers' upper halves do not count, the sum wraps at 4 GiB. */
	gpr[RAX] = 0xffffffff00000010ULL;
	gpr[RCX] = 0x40000000;
	assert_int_equal(EA(M32, gpr, 0, 0x8b, 0x54, 0x88, 0xf0), 0x00000000); /* [eax+ecx*4-16] */
	assert_int_equal(EA(M32, gpr, 0, 0x8b, 0x05, 0x78, 0x56, 0x34, 0x12), 0x12345678);
	/* 64-bit: base, index, scale, displacement; 67 truncates to 32 bits. */
	gpr[R12] = 0x1000;
	gpr[R13] = 0x7fff00000000ULL;
	assert_int_equal(EA(M64, gpr, 0, 0x4b, 0x8b, 0x44, 0xa5, 0x80), 0x7fff00003f80ULL);
	assert_int_equal(EA(M64, gpr, 0, 0x8b, 0x00), 0xffffffff00000010ULL);
	assert_int_equal(EA(M64, gpr, 0, 0x67, 0x8b, 0x00), 0x10);
	/* RIP-relative: from the end of the instruction, immediate included. */
	assert_int_equal(EA(M64, gpr, 0xffffffff80001000ULL, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff),
			 0xffffffff80000ff6ULL);
	assert_int_equal(EA(M64, gpr, 0x1000, 0xc7, 0x05, 0x10, 0x00, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12),
			 0x1000 + 10 + 0x10);
	assert_int_equal(EA(M64, gpr, 0xfffffff0, 0x67, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00), 0x7);
	/* moffs. */
	assert_int_equal(EA(M64, gpr, 0, 0xa1, MOFFS64), 0x1122334455667788ULL);
	assert_int_equal(EA(M32, gpr, 0, 0x67, 0xa1, 0x34, 0x12), 0x1234);
	/* BT with the offset in a register: signed, in operand-sized steps. */
	gpr[RAX] = 0x10000;
	gpr[RCX] = 100;                                                 /* 3 dwords on, bit 4 */
	assert_int_equal(EA(M64, gpr, 0, 0x0f, 0xa3, 0x08), 0x1000c);
	gpr[RCX] = 0xffffffff;                                          /* ecx = -1: a dword back */
	assert_int_equal(EA(M64, gpr, 0, 0x0f, 0xa3, 0x08), 0xfffc);
	assert_int_equal(EA(M64, gpr, 0, 0x48, 0x0f, 0xa3, 0x08), 0x10000 + 0x1ffffff8);
	gpr[RCX] = 0xabcdffef;                                          /* cx = -17: two words back */
	assert_int_equal(EA(M64, gpr, 0, 0x66, 0x0f, 0xa3, 0x08), 0xfffc);
	gpr[RCX] = 64;
	assert_int_equal(EA(M64, gpr, 0, 0x48, 0x0f, 0xab, 0x08), 0x10008);
	assert_int_equal(EA(M64, gpr, 0, 0x0f, 0xba, 0x20, 0x64), 0x10000);    /* imm8: no step */
	assert_int_equal(EA(M16, gpr, 0, 0x0f, 0xa3, 0x0f), 0xfff0 + 8);       /* [bx], cx = 64 */
}

/* ------------------------------------------------------------ emulation */

/* A device that is a buffer; it records the calls and can fail them. */
struct dev {
	uint8_t *mem;
	size_t off;             /* the operand's place in mem */
	size_t mem_size;
	char calls[8];
	int read_err, write_err;
};

static int dev_read(void *ctx, uint64_t *val, unsigned int size)
{
	struct dev *d = ctx;

	strcat(d->calls, "r");
	if (d->read_err)
		return d->read_err;
	assert_true(d->off + size <= d->mem_size);
	*val = 0xa5a5a5a5a5a5a5a5ULL;           /* junk above `size`: not to be used */
	memcpy(val, d->mem + d->off, size);
	return 0;
}

static int dev_write(void *ctx, uint64_t val, unsigned int size)
{
	struct dev *d = ctx;

	strcat(d->calls, "w");
	if (d->write_err)
		return d->write_err;
	assert_true(d->off + size <= d->mem_size);
	assert_true(size == 8 || val >> (8 * size) == 0);
	memcpy(d->mem + d->off, &val, size);
	return 0;
}

static const struct insn_emul_ops dev_ops = { dev_read, dev_write };

/*
 * The same instruction natively: a stub loads every register but RSP from
 * a struct cpu_state, sets RFLAGS, points RDI at the memory operand, runs
 * the instruction (patched into 15 bytes of NOPs in an executable copy) and
 * stores everything back.
 */
struct cpu_state {
	uint64_t gpr[16];
	uint64_t rflags;
};

extern const uint8_t stub_start[], stub_insn[], stub_end[];
__asm__(".pushsection .text\n"
	"stub_start:\n"
	"	push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"	push %rdi\n"
	"	mov 0x00(%rdi), %rax\n mov 0x08(%rdi), %rcx\n mov 0x10(%rdi), %rdx\n"
	"	mov 0x18(%rdi), %rbx\n mov 0x28(%rdi), %rbp\n mov 0x30(%rdi), %rsi\n"
	"	mov 0x40(%rdi), %r8\n mov 0x48(%rdi), %r9\n mov 0x50(%rdi), %r10\n"
	"	mov 0x58(%rdi), %r11\n mov 0x60(%rdi), %r12\n mov 0x68(%rdi), %r13\n"
	"	mov 0x70(%rdi), %r14\n mov 0x78(%rdi), %r15\n"
	"	pushq 0x80(%rdi)\n popfq\n"
	"	mov 0x38(%rdi), %rdi\n"
	"stub_insn:\n"
	"	.fill 15, 1, 0x90\n"
	"	pushfq\n"
	"	mov 8(%rsp), %rdi\n"
	"	popq 0x80(%rdi)\n"
	"	mov %rax, 0x00(%rdi)\n mov %rcx, 0x08(%rdi)\n mov %rdx, 0x10(%rdi)\n"
	"	mov %rbx, 0x18(%rdi)\n mov %rbp, 0x28(%rdi)\n mov %rsi, 0x30(%rdi)\n"
	"	mov %r8, 0x40(%rdi)\n mov %r9, 0x48(%rdi)\n mov %r10, 0x50(%rdi)\n"
	"	mov %r11, 0x58(%rdi)\n mov %r12, 0x60(%rdi)\n mov %r13, 0x68(%rdi)\n"
	"	mov %r14, 0x70(%rdi)\n mov %r15, 0x78(%rdi)\n"
	"	pop %rdi\n"
	"	pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
	"	ret\n"
	"stub_end:\n"
	".popsection\n");

/* Writable and executable: x86 keeps instruction fetch coherent with
 * stores to the same address, and mprotect twice per run was most of the
 * test's time. */
static uint8_t *stub;

static void run_native(const uint8_t *code, size_t n, struct cpu_state *s)
{
	uint8_t *slot = stub + (stub_insn - stub_start);

	memset(slot, 0x90, INSN_MAX_LEN);
	memcpy(slot, code, n);
	((void (*)(struct cpu_state *))stub)(s);
}

static int stub_setup(void **state)
{
	stub = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (stub == MAP_FAILED)
		return -1;
	memcpy(stub, stub_start, stub_end - stub_start);
	return 0;
}

static int stub_teardown(void **state)
{
	return munmap(stub, 4096);
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)       /* xorshift64 */
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Random values, half of them edge cases at every size. */
static uint64_t value(void)
{
	static const uint64_t edge[] = {
		0, 1, 2, 0x0f, 0x10, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
		0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffffULL,
		0x8000000000000000ULL, ~0ULL, ~0ULL - 1, 0x8080808080808080ULL,
	};
	uint64_t e = edge[rnd() % ARRAY_SIZE(edge)];

	switch (rnd() % 4) {
	case 0:
		return e;
	case 1:
		return -e;
	default:
		return rnd();
	}
}

#define B    (1u << 1)
#define WDQ  ((1u << 2) | (1u << 4) | (1u << 8))

/* An instruction form to run, with its memory operand at [rdi]. */
struct form {
	uint8_t opc[2], nopc;
	int8_t ext;             /* ModRM.reg opcode extension; -1: a register operand */
	uint16_t sizes;         /* 1 << operand size, for each size to run */
	uint8_t imm;            /* 1: imm8; 4: imm16/imm32 by operand size */
	bool moffs;
};

/* A register form (ModRM.reg a register), an opcode-extension form (with
 * an immediate of 0, 1 or 4 bytes), a moffs form; one or two opcode bytes. */
#define R1(o, sz)       { .opc = { o }, .nopc = 1, .ext = -1, .sizes = (sz) }
#define R2(o, sz)       { .opc = { 0x0f, o }, .nopc = 2, .ext = -1, .sizes = (sz) }
#define X1(o, e, sz, i) { .opc = { o }, .nopc = 1, .ext = (e), .sizes = (sz), .imm = (i) }
#define X2(o, e, sz, i) { .opc = { 0x0f, o }, .nopc = 2, .ext = (e), .sizes = (sz), .imm = (i) }
#define MO(o, sz)       { .opc = { o }, .nopc = 1, .ext = -1, .sizes = (sz), .moffs = true }
#define ALU_FORMS(a)                                                    \
	R1((a) * 8 + 0, B), R1((a) * 8 + 1, WDQ),                       \
	R1((a) * 8 + 2, B), R1((a) * 8 + 3, WDQ),                       \
	X1(0x80, (a), B, 1), X1(0x81, (a), WDQ, 4), X1(0x83, (a), WDQ, 1)

static const struct form forms[] = {
	ALU_FORMS(ALU_ADD), ALU_FORMS(ALU_OR), ALU_FORMS(ALU_ADC), ALU_FORMS(ALU_SBB),
	ALU_FORMS(ALU_AND), ALU_FORMS(ALU_SUB), ALU_FORMS(ALU_XOR), ALU_FORMS(ALU_CMP),
	R1(0x84, B), R1(0x85, WDQ),                             /* TEST */
	X1(0xf6, 0, B, 1), X1(0xf7, 0, WDQ, 4), X1(0xf6, 1, B, 1), X1(0xf7, 1, WDQ, 4),
	R1(0x86, B), R1(0x87, WDQ),                             /* XCHG */
	R1(0x88, B), R1(0x89, WDQ), R1(0x8a, B), R1(0x8b, WDQ), /* MOV */
	X1(0xc6, 0, B, 1), X1(0xc7, 0, WDQ, 4),
	MO(0xa0, B), MO(0xa1, WDQ), MO(0xa2, B), MO(0xa3, WDQ),
	R2(0xb6, WDQ), R2(0xb7, WDQ), R2(0xbe, WDQ), R2(0xbf, WDQ), R1(0x63, WDQ),
	R2(0xa3, WDQ), R2(0xab, WDQ), R2(0xb3, WDQ), R2(0xbb, WDQ),     /* BT */
	X2(0xba, 4, WDQ, 1), X2(0xba, 5, WDQ, 1), X2(0xba, 6, WDQ, 1), X2(0xba, 7, WDQ, 1),
	X1(0xf6, 2, B, 0), X1(0xf7, 2, WDQ, 0), X1(0xf6, 3, B, 0), X1(0xf7, 3, WDQ, 0),
	X1(0xfe, 0, B, 0), X1(0xff, 0, WDQ, 0), X1(0xfe, 1, B, 0), X1(0xff, 1, WDQ, 0),
};

/* Register operands to try: all but RSP and RDI (the memory operand's
 * base). For 8 bits: AL CL AH BH without REX, BPL SIL with, R9B R15B. */
static const struct { int8_t reg; bool rex; } byte_regs[] = {
	{ RAX, false }, { RCX, false }, { 4, false }, { 7, false },
	{ RBP, true }, { RSI, true }, { R9, false }, { R15, false },
};
static const int8_t wide_regs[] = { RAX, RCX, RDX, RBX, RBP, RSI, R8, R12, R15 };

static size_t encode(uint8_t *b, const struct form *f, unsigned int size, int reg, bool rex40,
		     uint64_t imm, uint64_t moffs)
{
	uint8_t rex = (size == 8 ? 0x48 : 0) | (reg >= 8 ? 0x44 : 0) | (rex40 ? 0x40 : 0);
	size_t n = 0;

	if (size == 2)
		b[n++] = 0x66;
	if (rex)
		b[n++] = rex;
	memcpy(b + n, f->opc, f->nopc);
	n += f->nopc;
	if (f->moffs) {
		memcpy(b + n, &moffs, 8);
		n += 8;
	} else {
		b[n++] = ((f->ext >= 0 ? f->ext : reg & 7) << 3) | RDI;   /* mod 00: [rdi] */
	}
	if (f->imm) {
		unsigned int k = f->imm == 1 ? 1 : MIN(size, 4u);

		memcpy(b + n, &imm, k);
		n += k;
	}
	return n;
}

static bool is_bt_reg(const uint8_t *opc)
{
	return opc[0] == 0x0f && (opc[1] & 0xc7) == 0x83;        /* 0F A3 AB B3 BB */
}

static uint64_t mask(unsigned int size)
{
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/*
 * BT's OF, SF, AF and PF are undefined (SDM and APM). AMD CPUs leave them
 * alone, as the emulator does, and this was seen on an AMD EPYC host; other
 * vendors' CPUs were not at hand, so there they are not compared. The AF of
 * AND/OR/XOR/TEST, also undefined, is 0 on every CPU and always compared.
 */
static uint64_t bt_unchecked_flags(void)
{
	unsigned int a, b = 0, c, d;

	__get_cpuid(0, &a, &b, &c, &d);
	return b == 0x68747541 ? 0 : RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF;  /* "Auth" */
}

static unsigned long long native_runs;

/* Run one encoding natively and emulated from the same state; compare. */
static void compare(const uint8_t *code, size_t n, const struct cpu_state *init,
		    const uint8_t mem_init[64], uint8_t *hw_mem, uint64_t unchecked)
{
	struct cpu_state hw = *init, emu = *init;
	uint8_t emu_mem[64];
	struct dev d = { .mem = emu_mem, .mem_size = sizeof(emu_mem) };
	struct insn in;
	bool same;
	int err;

	memcpy(hw_mem, mem_init, 64);
	memcpy(emu_mem, mem_init, 64);
	run_native(code, n, &hw);
	native_runs++;

	assert_int_equal(insn_decode(&in, code, n, M64), 0);
	assert_int_equal(in.len, n);
	d.off = insn_ea(&in, emu.gpr, 0) - (uint64_t)hw_mem;
	assert_true(d.off + in.memsize <= sizeof(emu_mem));
	err = insn_emulate(&in, emu.gpr, &emu.rflags, &dev_ops, &d);
	assert_int_equal(err, 0);

	same = !memcmp(hw.gpr, emu.gpr, sizeof(hw.gpr)) && !memcmp(hw_mem, emu_mem, 64) &&
	       !((hw.rflags ^ emu.rflags) & ~unchecked);
	if (!same) {
		print_error("%s:", insn_op_name(&in));
		for (size_t i = 0; i < n; i++)
			print_error(" %02x", code[i]);
		print_error("\n  rflags in %#llx cpu %#llx emulated %#llx\n",
			    (unsigned long long)init->rflags, (unsigned long long)hw.rflags,
			    (unsigned long long)emu.rflags);
		for (int i = 0; i < 16; i++)
			if (hw.gpr[i] != emu.gpr[i] || i == in.reg)
				print_error("  gpr[%d] in %#llx cpu %#llx emulated %#llx\n", i,
					    (unsigned long long)init->gpr[i],
					    (unsigned long long)hw.gpr[i], (unsigned long long)emu.gpr[i]);
		print_error("  memory in %#llx cpu %#llx emulated %#llx (operand at %zu)\n",
			    *(unsigned long long *)(mem_init + 32), *(unsigned long long *)(hw_mem + 32),
			    *(unsigned long long *)(emu_mem + 32), d.off);
		fail();
	}
}

/* One form at one operand size with one register operand, from random
 * and edge-case states; the memory operand is in the middle of hw_mem. */
static void run_form(const struct form *fm, unsigned int size, int reg, bool rex40,
		     uint8_t *hw_mem, uint64_t bt_unchecked)
{
	bool bt_reg = is_bt_reg(fm->opc), bt = bt_reg || fm->opc[1] == 0xba;
	uint64_t operand = (uint64_t)hw_mem + 32;

	for (int trial = 0; trial < 128; trial++) {
		struct cpu_state init;
		uint8_t mem[64], code[INSN_MAX_LEN];
		size_t n;

		for (int i = 0; i < 16; i++)
			init.gpr[i] = value();
		init.gpr[RSP] = 0;
		init.gpr[RDI] = operand;
		init.rflags = 0x202 | (rnd() & RFLAGS_ARITH);
		for (int i = 0; i < 64; i += 8) {
			uint64_t v = value();

			memcpy(mem + i, &v, 8);
		}
		/* BT's register offset: at most 16 bytes either way. */
		if (bt_reg) {
			int64_t off = (int8_t)rnd();

			init.gpr[reg] &= ~mask(size);
			init.gpr[reg] |= (uint64_t)off & mask(size);
		}
		n = encode(code, fm, size, reg, rex40, value(), operand);
		compare(code, n, &init, mem, hw_mem, bt ? bt_unchecked : 0);
	}
}

/* Every form, every size, every register operand. */
static void emulate_matches_cpu(void **state)
{
	uint64_t bt_unchecked = bt_unchecked_flags();
	uint8_t *hw_mem = malloc(64);

	for (size_t f = 0; f < ARRAY_SIZE(forms); f++) {
		const struct form *fm = &forms[f];
		bool one_reg = fm->ext >= 0 || fm->moffs;       /* no register, or AL/rAX */

		for (unsigned int size = 1; size <= 8; size *= 2) {
			if (!(fm->sizes & (1u << size)))
				continue;
			if (size == 1)
				for (size_t r = 0; r < (one_reg ? 1 : ARRAY_SIZE(byte_regs)); r++)
					run_form(fm, size, byte_regs[r].reg, byte_regs[r].rex,
						 hw_mem, bt_unchecked);
			else
				for (size_t r = 0; r < (one_reg ? 1 : ARRAY_SIZE(wide_regs)); r++)
					run_form(fm, size, wide_regs[r], false, hw_mem, bt_unchecked);
		}
	}
	free(hw_mem);
	print_message("  %llu instructions compared with the CPU\n", native_runs);
}

/* The register rules, spelled out: merge below 32 bits, zero-extend at 32. */
static void emulate_register_writes(void **state)
{
	static const struct {
		enum insn_mode mode;
		uint8_t b[3], n;
		int reg;
		uint64_t want;
	} cases[] = {
		{ M64, { 0x8a, 0x27 }, 2, RAX, 0x000000000000ff00ULL },         /* mov ah,[rdi] */
		{ M64, { 0x8a, 0x3f }, 2, RBX, 0x333333333333ff33ULL },         /* mov bh,[rdi] */
		{ M64, { 0x40, 0x8a, 0x37 }, 3, RSI, 0x66666666666666ffULL },   /* mov sil,[rdi] */
		{ M16, { 0x8b, 0x0f }, 2, RCX, 0x111111111111eeffULL },         /* mov cx,[bx] */
		{ M32, { 0x8b, 0x17 }, 2, RDX, 0x00000000ccddeeffULL },         /* mov edx,[edi] */
		{ M32, { 0x0f, 0xbf, 0x37 }, 3, RSI, 0x00000000ffffeeffULL },   /* movsx esi,word [edi] */
		{ M64, { 0x4c, 0x8b, 0x3f }, 3, R15, 0x8899aabbccddeeffULL },   /* mov r15,[rdi] */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t mem = 0x8899aabbccddeeffULL, gpr[16], flags = 0x2;
		struct dev d = { .mem = (uint8_t *)&mem, .mem_size = 8 };
		struct insn in;

		for (int r = 0; r < 16; r++)
			gpr[r] = 0x1111111111111111ULL * r;
		assert_int_equal(insn_decode(&in, cases[i].b, cases[i].n, cases[i].mode), 0);
		assert_int_equal(insn_emulate(&in, gpr, &flags, &dev_ops, &d), 0);
		assert_int_equal(gpr[cases[i].reg], cases[i].want);
		assert_int_equal(flags, 0x2);
	}
}

/* Which callbacks each kind of instruction calls, in which order. */
static void emulate_call_order(void **state)
{
	static const struct { uint8_t b[4]; uint8_t n; const char *calls; } cases[] = {
		{ { 0x89, 0x07 }, 2, "w" },                     /* mov [rdi],eax */
		{ { 0xc6, 0x07, 0x01 }, 3, "w" },               /* mov byte [rdi],1 */
		{ { 0x8b, 0x07 }, 2, "r" },                     /* mov eax,[rdi] */
		{ { 0x0f, 0xb6, 0x07 }, 3, "r" },               /* movzx */
		{ { 0x01, 0x07 }, 2, "rw" },                    /* add [rdi],eax */
		{ { 0x03, 0x07 }, 2, "r" },                     /* add eax,[rdi] */
		{ { 0x39, 0x07 }, 2, "r" },                     /* cmp [rdi],eax */
		{ { 0x83, 0x3f, 0x01 }, 3, "r" },               /* cmp dword [rdi],1 */
		{ { 0x83, 0x0f, 0x01 }, 3, "rw" },              /* or dword [rdi],1 */
		{ { 0x85, 0x07 }, 2, "r" },                     /* test */
		{ { 0x87, 0x07 }, 2, "rw" },                    /* xchg */
		{ { 0x0f, 0xa3, 0x07 }, 3, "r" },               /* bt */
		{ { 0x0f, 0xab, 0x07 }, 3, "rw" },              /* bts */
		{ { 0xf7, 0x17 }, 2, "rw" },                    /* not */
		{ { 0xff, 0x07 }, 2, "rw" },                    /* inc */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t mem = 0, gpr[16] = { 0 }, flags = 0x2;
		struct dev d = { .mem = (uint8_t *)&mem, .mem_size = 8 };
		struct insn in;

		assert_int_equal(insn_decode(&in, cases[i].b, cases[i].n, M64), 0);
		assert_int_equal(insn_emulate(&in, gpr, &flags, &dev_ops, &d), 0);
		assert_string_equal(d.calls, cases[i].calls);
	}
}

/* A failing callback: its error back, registers, flags and memory untouched.
 * Each callback an instruction makes is failed in turn. */
static void emulate_callback_fails(void **state)
{
	static const struct { uint8_t b[4]; uint8_t n; } cases[] = {
		{ { 0x89, 0x07 }, 2 }, { { 0x8b, 0x07 }, 2 }, { { 0x8a, 0x27 }, 2 },
		{ { 0x01, 0x07 }, 2 }, { { 0x03, 0x07 }, 2 }, { { 0x83, 0x07, 0x01 }, 3 },
		{ { 0x85, 0x07 }, 2 }, { { 0x87, 0x07 }, 2 }, { { 0x86, 0x27 }, 2 },
		{ { 0x0f, 0xab, 0x07 }, 3 }, { { 0x0f, 0xb6, 0x07 }, 3 }, { { 0xf7, 0x1f }, 2 },
		{ { 0xff, 0x0f }, 2 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t mem = 0x8000000000000001ULL, gpr[16], before[16];
		uint64_t flags = 0x2 | RFLAGS_ARITH;
		struct dev probe = { .mem = (uint8_t *)&mem, .mem_size = 8 };
		struct insn in;

		for (int r = 0; r < 16; r++)
			before[r] = 0x0101010101010101ULL * (r + 1);
		memcpy(gpr, before, sizeof(gpr));
		assert_int_equal(insn_decode(&in, cases[i].b, cases[i].n, M64), 0);
		assert_int_equal(insn_emulate(&in, gpr, &flags, &dev_ops, &probe), 0);
		for (const char *call = probe.calls; *call; call++) {
			struct dev d = { .mem = (uint8_t *)&mem, .mem_size = 8 };

			mem = 0x8000000000000001ULL;
			flags = 0x2 | RFLAGS_ARITH;
			memcpy(gpr, before, sizeof(gpr));
			if (*call == 'r')
				d.read_err = -EAGAIN;
			else
				d.write_err = -EIO;
			assert_int_equal(insn_emulate(&in, gpr, &flags, &dev_ops, &d),
					 *call == 'r' ? -EAGAIN : -EIO);
			assert_memory_equal(gpr, before, sizeof(gpr));
			assert_int_equal(flags, 0x2 | RFLAGS_ARITH);
			assert_int_equal(mem, 0x8000000000000001ULL);
		}
	}
}

static void op_names(void **state)
{
	static const struct { uint8_t b[6]; uint8_t n; const char *name; } cases[] = {
		{ { 0x89, 0x07 }, 2, "mov" }, { { 0x67, 0xa1, 0, 0, 0, 0 }, 6, "mov" },
		{ { 0xc6, 0x07, 0 }, 3, "mov" },
		{ { 0x08, 0x07 }, 2, "or" }, { { 0x3b, 0x07 }, 2, "cmp" },
		{ { 0x83, 0x37, 0x01 }, 3, "xor" }, { { 0x85, 0x07 }, 2, "test" },
		{ { 0x0f, 0xb6, 0x07 }, 3, "movzx" }, { { 0x63, 0x07 }, 2, "movsx" },
		{ { 0x0f, 0xbb, 0x07 }, 3, "btc" }, { { 0x0f, 0xba, 0x2f, 1 }, 4, "bts" },
		{ { 0x87, 0x07 }, 2, "xchg" }, { { 0xf7, 0x1f }, 2, "neg" },
		{ { 0xfe, 0x0f }, 2, "dec" },
	};
	struct insn in = { .op = INSN_OP_NONE };

	assert_string_equal(insn_op_name(&in), "?");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (insn_decode(&in, cases[i].b, cases[i].n, M64))
			in.op = INSN_OP_NONE;
		assert_string_equal(insn_op_name(&in), cases[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_table),
		cmocka_unit_test(decode_truncated),
		cmocka_unit_test(decode_refused),
		cmocka_unit_test(effective_address),
		cmocka_unit_test_setup_teardown(emulate_matches_cpu, stub_setup, stub_teardown),
		cmocka_unit_test(emulate_register_writes),
		cmocka_unit_test(emulate_call_order),
		cmocka_unit_test(emulate_callback_fails),
		cmocka_unit_test(op_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
