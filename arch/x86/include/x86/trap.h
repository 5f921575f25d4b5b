/* The trap frame: exactly what arch/x86/isr.S pushes, lowest address first. */
#ifndef X86_TRAP_H
#define X86_TRAP_H

#include "hv/types.h"
#include "hv/compiler.h"

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rdi, rsi, rbp, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	/* pushed by the CPU */
	uint64_t rip, cs, rflags, rsp, ss;
};
BUILD_BUG_ON(__builtin_offsetof(struct trap_frame, vector) != 15 * 8);
BUILD_BUG_ON(sizeof(struct trap_frame) != 22 * 8);

enum {
	VEC_DE = 0, VEC_DB, VEC_NMI, VEC_BP, VEC_OF, VEC_BR, VEC_UD, VEC_NM,
	VEC_DF, VEC_CSO, VEC_TS, VEC_NP, VEC_SS, VEC_GP, VEC_PF, VEC_RES15,
	VEC_MF, VEC_AC, VEC_MC, VEC_XM, VEC_VE, VEC_CP,
	VEC_FIRST_IRQ = 32,
	VEC_SPURIOUS = 0xff,
};

/* A handler returns true when it dealt with the trap and execution resumes. */
typedef bool (*trap_handler_t)(struct trap_frame *tf);
void trap_register(unsigned int vector, trap_handler_t fn);
void trap_dump(const struct trap_frame *tf);

#endif
