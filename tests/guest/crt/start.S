/*
 * Entry of a child payload (layout and initial state: child.h) and the
 * exception stubs of its IDT. Every vCPU enters at CRT_LOAD with RDI =
 * its index, RSI = the RAM size, RDX = the number of vCPUs, RSP = the top
 * of its own stack.
 */
#include "child.h"

	.section .text.start, "ax"
	.code64
	.global _start
/* struct crt_header: the root checks the magic and the image's end. */
_start:
	jmp 1f
	.balign 8
	.quad CRT_MAGIC
	.quad __image_end
1:	movq %cr4, %rax                 /* SSE exceptions as #XM, whatever the root set */
	orq $(1 << 9 | 1 << 10), %rax   /* OSFXSR, OSXMMEXCPT */
	movq %rax, %cr4
	subq $CRT_CPU_AREA, %rsp        /* struct crt_cpu at the stack's top */
	xorl %ebp, %ebp
	call crt_start                  /* (index, ram, nvcpus): never returns */
2:	hlt
	jmp 2b

/* One stub per vector 0-31: push 0 where the CPU pushes no error code,
 * then the vector. */
	.section .text
.macro STUB vec
	.balign 16
crt_stub_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp crt_trap_common
.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	STUB \v
	.endr

/* The frame is struct trap_frame (child.h). The CPU aligned RSP to 16
 * before its 5 words; with the 2 pushed above and 15 here, RSP is aligned
 * again for the call. */
crt_trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	call crt_trap
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp                  /* vector, error code */
	iretq

	.section .rodata
	.balign 8
	.global crt_stubs
crt_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad crt_stub_\v
	.endr
