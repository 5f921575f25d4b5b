/* Entry of a root partition program: RDI = struct hv_root_info, a stack is
 * set up, 64-bit mode on identity page tables (include/uapi/hv/hypercall.h). */
	.section .text.start, "ax"
	.global _start
_start:
	xorl %ebp, %ebp
	andq $-16, %rsp                 /* the ABI's alignment at the call */
	call guest_main
1:	hlt
	jmp 1b
