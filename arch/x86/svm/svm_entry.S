/*
 * svm_vmrun(guest_vmcb_pa, regs, host_vmcb_pa): one VMRUN (APM 15.5).
 * VMRUN saves and restores only part of the host state: the rest (FS/GS
 * bases, TR, LDTR, syscall MSRs) is VMLOADed from the host's own VMCB after
 * it (saved there once per enable), and the general registers other than
 * RAX/RSP go through `regs` (struct hv_regs; offsets checked in
 * svm_vcpu.c). Called with GIF clear (CLGI) and interrupts off.
 */
#include <x86/regs_offsets.h>

	.section .text
	.code64
	.global svm_vmrun
svm_vmrun:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx                      /* 16(%rsp): host VMCB */
	pushq %rsi                      /* 8(%rsp) after the next push: regs */
	pushq %rdi                      /* 0(%rsp): guest VMCB */

	/* The host's FS/GS/TR/LDTR/syscall MSRs are in the host VMCB already:
	 * VMSAVEd once when SVM was enabled on this CPU (svm_save_host_state),
	 * as the hypervisor never changes them; VMLOAD restores them below. */
	movq (%rsp), %rax
	vmload %rax

	movq R_RBX(%rsi), %rbx
	movq R_RCX(%rsi), %rcx
	movq R_RDX(%rsi), %rdx
	movq R_RDI(%rsi), %rdi
	movq R_RBP(%rsi), %rbp
	movq R_R8(%rsi), %r8
	movq R_R9(%rsi), %r9
	movq R_R10(%rsi), %r10
	movq R_R11(%rsi), %r11
	movq R_R12(%rsi), %r12
	movq R_R13(%rsi), %r13
	movq R_R14(%rsi), %r14
	movq R_R15(%rsi), %r15
	movq R_RSI(%rsi), %rsi
	movq (%rsp), %rax

	vmrun %rax
	.global svm_vmrun_resume
svm_vmrun_resume:                       /* where #VMEXIT resumes the host */

	/* Guest GPRs are live; keep the guest's RSI on the stack for now. */
	xchgq %rsi, 8(%rsp)
	movq %rbx, R_RBX(%rsi)
	movq %rcx, R_RCX(%rsi)
	movq %rdx, R_RDX(%rsi)
	movq %rdi, R_RDI(%rsi)
	movq %rbp, R_RBP(%rsi)
	movq %r8, R_R8(%rsi)
	movq %r9, R_R9(%rsi)
	movq %r10, R_R10(%rsi)
	movq %r11, R_R11(%rsi)
	movq %r12, R_R12(%rsi)
	movq %r13, R_R13(%rsi)
	movq %r14, R_R14(%rsi)
	movq %r15, R_R15(%rsi)
	movq 8(%rsp), %rax
	movq %rax, R_RSI(%rsi)

	movq (%rsp), %rax
	vmsave %rax                     /* the guest's part VMRUN did not save */
	movq 16(%rsp), %rax
	vmload %rax

	addq $24, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
