/*
 * Interrupt stubs of child payloads (apic.h): vectors 32-255 push an error
 * code of 0 and the vector, as the exception stubs of start.S do, and
 * call crt_irq with the same frame (struct trap_frame).
 */
#include "child.h"

	.section .text
	.code64
.macro IRQ_STUB vec
	.balign 16
crt_irq_stub_\vec:
	pushq $0
	pushq $\vec
	jmp crt_irq_common
.endm

	.altmacro
.macro IRQ_STUBS from, to
	IRQ_STUB %(\from)
	.if \to-\from
	IRQ_STUBS %(\from+1), \to
	.endif
.endm
.macro IRQ_ADDR vec
	.quad crt_irq_stub_\vec
.endm
.macro IRQ_ADDRS from, to
	IRQ_ADDR %(\from)
	.if \to-\from
	IRQ_ADDRS %(\from+1), \to
	.endif
.endm

	IRQ_STUBS 32, 95
	IRQ_STUBS 96, 159
	IRQ_STUBS 160, 223
	IRQ_STUBS 224, 255

/* RSP was aligned to 16 before the CPU's 5 words; with the 2 pushed above
 * and 15 here, it is aligned again for the call. */
crt_irq_common:
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
	call crt_irq
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
	.global crt_irq_stubs
crt_irq_stubs:
	IRQ_ADDRS 32, 95
	IRQ_ADDRS 96, 159
	IRQ_ADDRS 160, 223
	IRQ_ADDRS 224, 255
