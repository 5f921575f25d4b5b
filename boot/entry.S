/*
 * 32-bit entry from a multiboot2 loader (Multiboot2 spec 3.3: EAX = magic,
 * EBX = physical address of the boot information, protected mode, paging
 * off). Builds an identity map of the low 4 GiB with 2 MiB pages, enters
 * long mode and calls kmain(magic, info). C replaces these page tables with
 * W^X ones once the memory map is known.
 */
#include <x86/exit_codes.h>

#define MB2_BOOT_MAGIC  0x36d76289
#define COM1            0x3f8

#define CR0_PG          (1 << 31)
#define CR0_WP          (1 << 16)
#define CR4_PAE         (1 << 5)
#define MSR_EFER        0xc0000080
#define EFER_LME        (1 << 8)
#define EFER_NXE        (1 << 11)

	.section .text.entry, "ax"
	.code32
	.global _start
_start:
	cli
	cld
	movl $boot_stack_top, %esp
	pushl %eax
	pushl %edx
	rdtsc                           /* the boot-time benchmark starts here */
	movl %eax, boot_tsc
	movl %edx, boot_tsc + 4
	popl %edx
	popl %eax
	movl %eax, %edi                 /* kept for kmain */
	movl %ebx, %esi

	cmpl $MB2_BOOT_MAGIC, %eax
	jne .Lbad_magic

	/* Long mode (CPUID 0x80000001 EDX.LM[29]) is required. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb .Lno_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc .Lno_long_mode
	movl %edx, %ebp                 /* NX support is bit 20 */

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
	movl $boot_pdpt, %eax
	orl $0x3, %eax
	movl %eax, boot_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd, %eax
	orl $0x3, %eax
	movl %eax, boot_pdpt(,%ecx,8)
	incl %ecx
	cmpl $4, %ecx
	jne 1b

	xorl %ecx, %ecx                 /* 2048 entries x 2 MiB = 4 GiB */
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax                 /* present, writable, 2 MiB */
	movl %ecx, %edx
	shrl $11, %edx                  /* high half of the physical address */
	movl %eax, boot_pd(,%ecx,8)
	movl %edx, boot_pd+4(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jne 2b

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3

	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	btl $20, %ebp
	jnc 3f
	orl $EFER_NXE, %eax
3:	wrmsr

	movl %cr0, %eax
	andl $~0x60000000, %eax         /* caching on: clear CD, NW */
	orl $(CR0_PG | CR0_WP), %eax
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_entry

.Lbad_magic:
	movl $msg_bad_magic, %ebx
	movl $HV_EXIT_BAD_MAGIC, %edx
	jmp early_fatal
.Lno_long_mode:
	movl $msg_no_long_mode, %ebx
	movl $HV_EXIT_NO_LONG_MODE, %edx
	jmp early_fatal

/*
 * Print the string at EBX on COM1 and the debug port, report exit code DL
 * to QEMU's isa-debug-exit, and halt. No C, no stack use beyond what is here.
 */
early_fatal:
	movb (%ebx), %al
	testb %al, %al
	jz 3f
	movb %al, %ah
	movl $100000, %ecx              /* bounded: a missing UART must not hang us */
1:	pushl %edx
	movw $COM1 + 5, %dx
	inb %dx, %al
	popl %edx
	testb $0x20, %al
	jnz 2f
	loop 1b
2:	pushl %edx
	movb %ah, %al
	movw $COM1, %dx
	outb %al, %dx
	movw $0xe9, %dx
	outb %al, %dx
	popl %edx
	incl %ebx
	jmp early_fatal
3:	movb %dl, %al
	movw $HV_EXIT_PORT, %dx
	outb %al, %dx
4:	cli
	hlt
	jmp 4b

	.code64
long_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp                 /* ends the backtrace */
	/* EDI = magic, ESI = info: zero-extended by the 32-bit moves above. */
	movl %edi, %edi
	movl %esi, %esi
	call kmain
5:	cli
	hlt
	jmp 5b

	.section .rodata
msg_bad_magic:
	.asciz "hv: not started by a multiboot2 loader (bad magic in EAX); halting\r\n"
msg_no_long_mode:
	.asciz "hv: this CPU has no long mode (x86-64); halting\r\n"

	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00209a0000000000        /* 0x08: 64-bit code */
	.quad 0x0000920000000000        /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .bss.page_aligned, "aw", @nobits
	.balign 4096
	.global boot_pml4, boot_stack_guard, boot_stack_bottom, boot_stack_top
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
/* An unmapped guard page under the boot stack turns an overflow into #PF->#DF. */
boot_stack_guard:
	.skip 4096
boot_stack_bottom:
	.skip 16384
boot_stack_top:
