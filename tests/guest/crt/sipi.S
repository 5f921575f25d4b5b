/*
 * The real-mode start of application processors (apic.h), as Linux's
 * trampoline_64.S: a SIPI with vector crt_sipi_start >> 12 starts a vCPU
 * here in real mode (CS = vector << 8, IP = 0). It loads a GDT of its own,
 * enters 32-bit protected mode, turns on PAE, the child's page tables
 * (CRT_PML4), EFER.LME and paging, jumps to 64-bit code, switches to the
 * child's GDT (CRT_GDT, the one the root gave the other vCPUs) and joins
 * _start with the registers it expects: RDI = the vCPU index (CPUID 1
 * EBX[31:24], the initial APIC ID), RSI = RAM, RDX = vCPUs, RSP = the
 * top of that vCPU's stack.
 */
#include "child.h"

#define SIPI_SEL_CODE64 0x08
#define SIPI_SEL_DATA   0x10
#define SIPI_SEL_CODE32 0x18

	.section .text.sipi, "ax"
	.balign 4096
	.global crt_sipi_start
	.code16
crt_sipi_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl (sipi_gdtr - crt_sipi_start)
	movl %cr0, %eax
	orl $1, %eax                            /* PE */
	movl %eax, %cr0
	ljmpl $SIPI_SEL_CODE32, $sipi_pm32

	.code32
sipi_pm32:
	movl $SIPI_SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %fs
	movl %eax, %gs
	movl %eax, %ss
	movl %cr4, %eax
	orl $(1 << 5), %eax                     /* PAE */
	movl %eax, %cr4
	movl $CRT_PML4, %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx                  /* EFER */
	rdmsr
	orl $(1 << 8 | 1 << 11), %eax           /* LME, NXE */
	wrmsr
	movl $0x80050033, %eax                  /* PG AM WP NE ET MP PE, as the root sets */
	movl %eax, %cr0
	ljmpl $SIPI_SEL_CODE64, $sipi_lm64

	.code64
sipi_lm64:
	lgdt sipi_crt_gdtr(%rip)
	movl $CRT_SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %fs
	movl %eax, %gs
	movl %eax, %ss
	movl $1, %eax
	cpuid
	shrl $24, %ebx
	movl %ebx, %edi                         /* index */
	movq CRT_BOOT + 8, %rsi                 /* struct crt_boot: ram */
	movl CRT_BOOT + 16, %edx                /* nvcpus */
	movq %rdi, %rax
	imulq $CRT_STACK_SIZE, %rax
	movq %rsi, %rsp                         /* the SIPI left RSP 0 */
	subq %rax, %rsp
	pushq $CRT_SEL_CODE                     /* CS from the child's GDT */
	leaq 1f(%rip), %rax
	pushq %rax
	lretq
1:	jmp _start

	.balign 8
sipi_gdt:
	.quad 0
	.quad 0x00af9b000000ffff                /* 0x08: 64-bit code */
	.quad 0x00cf93000000ffff                /* 0x10: data */
	.quad 0x00cf9b000000ffff                /* 0x18: 32-bit code */
sipi_gdtr:
	.word 4 * 8 - 1
	.long sipi_gdt
sipi_crt_gdtr:
	.word 5 * 8 - 1                         /* null, code, data, the TSS (16 bytes) */
	.quad CRT_GDT
