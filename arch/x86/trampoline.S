/*
 * AP start-up trampoline (SDM Vol. 3A, 8.4.4 and 9.8.5). Copied to a free
 * page below 1 MiB (mm_low_page(): GRUB may have put a module anywhere
 * there); a STARTUP IPI with vector base >> 12 starts each AP here in real
 * mode at CS = base >> 4, IP = 0. It goes through protected mode into long
 * mode on the hypervisor's page tables and jumps to ap_entry. The code uses
 * no absolute address: the far jumps and the GDT pointer are data in
 * trampoline_params, filled in for the page it is copied to. All APs may
 * run it at once: it touches no memory it writes.
 */
#include <x86/smp_boot.h>

#define OFF(x) ((x) - trampoline_start)

	.section .rodata
	.balign 4096
	.global trampoline_start, trampoline_end, trampoline_params
	.code16
trampoline_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	movzwl %ax, %ebx
	shll $4, %ebx                   /* EBX: the page's linear address */
	lgdtl OFF(tramp_gdt_ptr)
	movl %cr0, %eax
	orl $1, %eax                    /* PE */
	movl %eax, %cr0
	ljmpl *OFF(tramp_far32)

	.code32
tramp32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl OFF(tramp_cr4)(%ebx), %eax
	movl %eax, %cr4
	movl OFF(tramp_cr3)(%ebx), %eax
	movl %eax, %cr3
	movl $0xc0000080, %ecx          /* EFER: the boot CPU's LME/NXE */
	rdmsr
	orl OFF(tramp_efer)(%ebx), %eax
	wrmsr
	movl %cr0, %eax
	/* An AP leaves INIT with caching off (CD, NW): turn it on. */
	andl $~0x60000000, %eax
	orl $0x80010000, %eax           /* PG | WP */
	movl %eax, %cr0
	ljmpl *OFF(tramp_far64)(%ebx)

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
tramp_gdt_end:

	.balign 8
trampoline_params:                      /* struct trampoline_params */
tramp_cr3:
	.long 0
tramp_cr4:
	.long 0
tramp_efer:
	.long 0
	.long 0
tramp_far32:                            /* base + OFF(tramp32) : 0x08 */
	.long 0
	.short 0
tramp_far64:                            /* base + OFF(tramp64) : 0x18 */
	.long 0
	.short 0
tramp_gdt_ptr:                          /* limit, base + OFF(tramp_gdt) */
	.short 0
	.long 0
trampoline_end:

	.section .rodata
	.balign 4
	.global trampoline_offsets
trampoline_offsets:                     /* struct trampoline_offsets */
	.long OFF(tramp32), OFF(tramp64), OFF(tramp_gdt), tramp_gdt_end - tramp_gdt

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
