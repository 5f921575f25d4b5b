/*
 * vmx_launch(regs, resume): VMLAUNCH (resume 0) or VMRESUME the current
 * VMCS with the guest's general registers from `regs` (struct hv_regs;
 * RSP, RIP, RFLAGS live in the VMCS). HOST_RIP is vmx_exit, HOST_RSP is
 * written here, so a VM exit returns through vmx_exit as if vmx_launch had
 * returned 0. An entry that fails (VMfail) returns 1. SDM Vol. 3C, 26, 27.
 */
#include <x86/regs_offsets.h>
#define HOST_RSP_FIELD 0x6c14

	.section .text
	.code64
	.global vmx_launch, vmx_exit
vmx_launch:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi                      /* (%rsp): regs, for the way back */
	movl $HOST_RSP_FIELD, %eax
	vmwrite %rsp, %rax
	movl %esi, %r8d                 /* resume? (r8 is reloaded below) */
	testl %r8d, %r8d

	movq R_RAX(%rdi), %rax
	movq R_RBX(%rdi), %rbx
	movq R_RCX(%rdi), %rcx
	movq R_RDX(%rdi), %rdx
	movq R_RSI(%rdi), %rsi
	movq R_RBP(%rdi), %rbp
	movq R_R8(%rdi), %r8
	movq R_R9(%rdi), %r9
	movq R_R10(%rdi), %r10
	movq R_R11(%rdi), %r11
	movq R_R12(%rdi), %r12
	movq R_R13(%rdi), %r13
	movq R_R14(%rdi), %r14
	movq R_R15(%rdi), %r15
	movq R_RDI(%rdi), %rdi          /* MOVs leave the flags of the TEST */
	jnz 2f
	vmlaunch
	jmp 3f
2:	vmresume
3:
	/* VMfail: nothing of the guest ran. */
	popq %rdi
	movl $1, %eax
	jmp 1f

vmx_exit:
	/* RSP is what vmx_launch wrote: the regs pointer on top. */
	xchgq %rdi, (%rsp)
	movq %rax, R_RAX(%rdi)
	movq %rbx, R_RBX(%rdi)
	movq %rcx, R_RCX(%rdi)
	movq %rdx, R_RDX(%rdi)
	movq %rsi, R_RSI(%rdi)
	movq %rbp, R_RBP(%rdi)
	movq %r8, R_R8(%rdi)
	movq %r9, R_R9(%rdi)
	movq %r10, R_R10(%rdi)
	movq %r11, R_R11(%rdi)
	movq %r12, R_R12(%rdi)
	movq %r13, R_R13(%rdi)
	movq %r14, R_R14(%rdi)
	movq %r15, R_R15(%rdi)
	popq %rax
	movq %rax, R_RDI(%rdi)
	xorl %eax, %eax
1:	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
