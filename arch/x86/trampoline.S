/*
 * AP start-up trampoline (SDM Vol. 3A, 8.4.4 and 9.8.5). Copied to
 * TRAMPOLINE_BASE below 1 MiB; a STARTUP IPI with vector BASE >> 12 starts
 * each AP here in real mode at CS = BASE >> 4, IP = 0. It goes through
 * protected mode into long mode on the hypervisor's page tables and jumps
 * to ap_entry. All APs may run it at once: it touches no memory it writes.
 */
#include <x86/smp_boot.h>

#define ABS(x) (TRAMPOLINE_BASE + (x) - trampoline_start)

	.section .rodata
	.balign 4096
	.global trampoline_start, trampoline_end, trampoline_params
	.code16
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl tramp_gdt_ptr - trampoline_start
	movl %cr0, %eax
	orl $1, %eax                    /* PE */
	movl %eax, %cr0
	ljmpl $0x08, $ABS(tramp32)

	.code32
tramp32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl ABS(tramp_cr4), %eax
	movl %eax, %cr4
	movl ABS(tramp_cr3), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx          /* EFER: the boot CPU's LME/NXE */
	rdmsr
	orl ABS(tramp_efer), %eax
	wrmsr
	movl %cr0, %eax
	/* An AP leaves INIT with caching off (CD, NW): turn it on. */
	andl $~0x60000000, %eax
	orl $0x80010000, %eax           /* PG | WP */
	movl %eax, %cr0
	ljmpl $0x18, $ABS(tramp64)

	.code64
tramp64:
	movabsq $ap_entry, %rax
	jmpq *%rax

	.balign 8
/* Accessed bits preset: the CPU would otherwise write them when loading a
 * selector, and this page is read-only (W^X) by then. */
tramp_gdt:
	.quad 0
	.quad 0x00cf9b000000ffff        /* 0x08: 32-bit code */
	.quad 0x00cf93000000ffff        /* 0x10: 32-bit data */
	.quad 0x00209b0000000000        /* 0x18: 64-bit code */
tramp_gdt_ptr:
	.short tramp_gdt_ptr - tramp_gdt - 1
	.long ABS(tramp_gdt)

	.balign 8
trampoline_params:                      /* struct trampoline_params */
tramp_cr3:
	.long 0
tramp_cr4:
	.long 0
tramp_efer:
	.long 0
	.long 0
trampoline_end:

/*
 * ap_entry: 64-bit, on the hypervisor's page tables, no stack yet. Find
 * this CPU's number by its APIC ID in ap_boot_apic[], take its stack from
 * ap_boot_stack[], and call ap_main(cpu). A CPU that is not in the table
 * (it was never asked to start) halts.
 */
	.section .text
	.code64
	.global ap_entry
ap_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	cpuid
	cmpl $0xb, %eax
	jb 1f
	movl $0xb, %eax
	xorl %ecx, %ecx
	cpuid
	testl %ebx, %ebx
	jz 1f
	movl %edx, %esi                 /* x2APIC ID */
	jmp 2f
1:	movl $1, %eax
	cpuid
	shrl $24, %ebx
	movl %ebx, %esi                 /* xAPIC ID */
2:	xorl %edi, %edi
3:	cmpl ap_boot_count(%rip), %edi
	jae 5f
	leaq ap_boot_apic(%rip), %rax
	cmpl (%rax,%rdi,4), %esi
	je 4f
	incl %edi
	jmp 3b
4:	leaq ap_boot_stack(%rip), %rax
	movq (%rax,%rdi,8), %rsp
	xorl %ebp, %ebp
	call ap_main
5:	cli
	hlt
	jmp 5b
