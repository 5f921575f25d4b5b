/*
 * Offsets into struct hv_regs (include/uapi/hv/hypercall.h) for the VM
 * entry/exit assembly of both backends; svm_vcpu.c checks them at build time.
 */
#ifndef X86_REGS_OFFSETS_H
#define X86_REGS_OFFSETS_H

#define R_RAX 0
#define R_RBX 8
#define R_RCX 16
#define R_RDX 24
#define R_RSI 32
#define R_RDI 40
#define R_RSP 48
#define R_RBP 56
#define R_R8  64
#define R_R9  72
#define R_R10 80
#define R_R11 88
#define R_R12 96
#define R_R13 104
#define R_R14 112
#define R_R15 120

#endif
