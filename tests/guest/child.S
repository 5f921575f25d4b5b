/*
 * Child VM payloads, copied by a root program into a child's memory at
 * guest-physical CHILD_LOAD (0x1000) and started there in 32-bit protected
 * mode without paging (flat CS 0x08, DS/ES/SS 0x10). Position-independent.
 * Ports: 0xe9 prints a byte; the others report values to the root.
 */
	.section .rodata.child, "a"
	.code32

/* A GDT matching the selectors the root loads (interrupts reload CS). */
.macro CHILD_GDT
	.balign 8
9:	.quad 0
	.quad 0x00cf9b000000ffff        /* 0x08: 32-bit code */
	.quad 0x00cf93000000ffff        /* 0x10: data */
.endm

/* IDT entry \vec at EBX -> handler at EAX (clobbers EAX). */
.macro GATE vec
	movw %ax, \vec * 8(%ebx)
	movw $0x08, \vec * 8 + 2(%ebx)
	movw $0x8e00, \vec * 8 + 4(%ebx)
	shrl $16, %eax
	movw %ax, \vec * 8 + 6(%ebx)
.endm

/* EDI := 1 on Intel (VMCALL), 0 on AMD (VMMCALL); clobbers EAX-EDX. */
.macro VENDOR
	xorl %eax, %eax
	cpuid
	xorl %edi, %edi
	cmpl $0x756e6547, %ebx
	sete %al
	movzbl %al, %edi
.endm

	.global child_hello_start, child_hello_end
child_hello_start:
	call 0f
0:	popl %ebp
	leal (hello_msg - 0b)(%ebp), %esi
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, $0xe9
	jmp 1b
2:	hlt
	jmp 2b
hello_msg:
	.asciz "Hello from a child VM\n"
child_hello_end:

/*
 * Every exit kind in turn: OUTs (I/O exits), an IN the root answers, a user
 * hypercall the root answers, a root-only hypercall (-EPERM), a permitted
 * one, CPUID's hypervisor leaf, an access to unmapped memory (MMIO exit;
 * the root skips the 5-byte instruction), a VMX/SVM instruction (#UD, which
 * the child's own IDT reports on port 0x94), then HLT.
 */
	.global child_test_start, child_test_end
child_test_start:
	call 0f
0:	popl %ebp
	leal (test_gdt_ptr - 0b)(%ebp), %eax
	leal (9f - 0b)(%ebp), %ebx
	movl %ebx, 2(%eax)
	lgdt (%eax)
	/* IDT: #UD -> ud_handler, #GP -> gp_handler (32-bit interrupt gates). */
	leal (test_idt - 0b)(%ebp), %ebx
	leal (ud_handler - 0b)(%ebp), %eax
	GATE 6
	leal (gp_handler - 0b)(%ebp), %eax
	GATE 13
	leal (test_idt_ptr - 0b)(%ebp), %eax
	movl %ebx, 2(%eax)
	lidt (%eax)

	leal (test_msg - 0b)(%ebp), %esi
1:	lodsb
	testb %al, %al
	jz 2f
	outb %al, $0xe9
	jmp 1b
2:	inb $0x60, %al                  /* the root answers 0x42 */
	outb %al, $0x99
	VENDOR
	movl $0x1007, %eax              /* HC_USER_BASE + 7: goes to the root */
	movl $0x11, %ebx
	movl $0x22, %ecx
	movl $0x33, %edx
	movl $0x44, %esi
	call hc
	outl %eax, $0x98                /* the root's answer (1234) */
	movl $3, %eax                   /* HC_VM_CREATE: root only */
	call hc
	outl %eax, $0x97                /* -HV_EPERM */
	xorl %eax, %eax                 /* HC_API_VERSION: allowed */
	call hc
	outl %eax, $0x96
	movl $0x40000000, %eax
	cpuid
	movl %ebx, %eax
	outl %eax, $0x95                /* hypervisor signature */
	movl $0xc0000080, %ecx          /* EFER: an MSR the hypervisor emulates */
	rdmsr
	outl %eax, $0x93
	movl $0x3a, %ecx                /* IA32_FEATURE_CONTROL: not offered, #GP */
	rdmsr
	movl 0x200000, %eax             /* unmapped: MMIO exit (5 bytes: a1 imm32) */
	testl %edi, %edi
	jnz 3f
	xorl %eax, %eax                 /* an aligned VMCB address: no #GP first */
	vmrun                           /* AMD: intercepted, #UD */
	jmp 4f
3:	vmxon (%ebp)                    /* Intel: VM exit, #UD */
4:	hlt
	jmp 4b
ud_handler:
	movb $0xad, %al
	outb %al, $0x94
	hlt
	jmp ud_handler
gp_handler:                             /* skip the 2-byte RDMSR, report */
	addl $4, %esp                   /* error code */
	addl $2, (%esp)
	movb $0x6d, %al
	outb %al, $0x92
	iret
hc:
	testl %edi, %edi
	jnz 5f
	vmmcall
	ret
5:	vmcall
	ret
test_msg:
	.asciz "child: all exits\n"
	.balign 8
test_gdt_ptr:
	.short 23
	.long 0
	CHILD_GDT
	.balign 8
test_idt_ptr:
	.short 14 * 8 - 1
	.long 0
	.balign 8
test_idt:
	.fill 14, 8, 0
child_test_end:

/* Triple fault: no IDT, then an exception. */
	.global child_crash_start, child_crash_end
child_crash_start:
	call 0f
0:	popl %ebp
	leal (crash_idt - 0b)(%ebp), %eax
	lidt (%eax)
	int3
	hlt
crash_idt:
	.short 0
	.long 0
child_crash_end:

/* A loop of OUTs to port 0x80 (AL counting from 0), for the exit round-trip
 * benchmark and HC_RUN's fast path. */
	.global child_loop_start, child_loop_end
child_loop_start:
1:	outb %al, $0x80
	incl %eax
	jmp 1b
child_loop_end:

/* The same count, each OUT after a CPUID the hypervisor answers itself: a
 * run that starts on HC_RUN's fast path ends on the ordinary one. */
	.global child_cpuid_loop_start, child_cpuid_loop_end
child_cpuid_loop_start:
	xorl %esi, %esi
1:	xorl %eax, %eax
	cpuid
	movl %esi, %eax
	outb %al, $0x80
	incl %esi
	jmp 1b
child_cpuid_loop_end:
