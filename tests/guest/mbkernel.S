/*
 * mbkernel: a tiny Multiboot (version 1) test kernel, a 32-bit ELF loaded
 * at 1 MiB (tests/guest/mbkernel.ld). It checks what a multiboot loader
 * hands over, reports on COM1 and ends with a status byte on port 0xf4:
 *
 *   mbkernel: cmdline "<cmdline>" module "<module up to a newline>" mem_upper <n> KiB
 *
 * Status (also in the failure line "mbkernel: check N failed: ..."):
 *   0 everything as expected
 *   1 EAX is not 0x2BADB002
 *   2 no command line (mbi flag 2)
 *   3 no module (mbi flag 3, mods_count 0)
 *   4 no memory size (mbi flag 0) or mem_upper 0
 *   5 no memory map (mbi flag 6) or an empty one
 *
 * Build (not part of the Makefile):
 *   gcc -m32 -c tests/guest/mbkernel.S -o build/guest/mbkernel.o
 *   ld -m elf_i386 -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments \
 *      -T tests/guest/mbkernel.ld -o build/guest/mbkernel.elf build/guest/mbkernel.o
 * Try it under QEMU's own multiboot loader:
 *   qemu-system-i386 -kernel build/guest/mbkernel.elf -append "hello" \
 *      -initrd "some-file" -device isa-debug-exit,iobase=0xf4 -nographic
 * (QEMU's exit status is then status * 2 + 1).
 */
#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        0x00000003      /* page-aligned modules, memory info */
#define MB_BOOT_MAGIC   0x2BADB002

#define COM1            0x3f8           /* THR; the VMM's UART transmits at once */
#define EXIT_PORT       0xf4

/* Multiboot information (spec 3.3) */
#define MBI_FLAGS       0
#define MBI_MEM_UPPER   8
#define MBI_CMDLINE     16
#define MBI_MODS_COUNT  20
#define MBI_MODS_ADDR   24
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR   48
#define MBI_F_MEM       (1 << 0)
#define MBI_F_CMDLINE   (1 << 2)
#define MBI_F_MODS      (1 << 3)
#define MBI_F_MMAP      (1 << 6)

#define MODULE_SHOWN    64              /* at most this many module bytes */

	/* The header: 4-byte aligned within the first 8 KiB of the file. */
	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.text
	.code32
	.global _start
_start:
	cli
	movl $stack_top, %esp
	cld
	movl %ebx, %esi                 /* ESI: the mbi throughout */

	movl $1, %ecx
	movl $msg_magic, %edx
	cmpl $MB_BOOT_MAGIC, %eax
	jne fail
	movl MBI_FLAGS(%esi), %ebx      /* EBX: mbi flags */

	movl $2, %ecx
	movl $msg_cmdline, %edx
	testl $MBI_F_CMDLINE, %ebx
	jz fail

	movl $3, %ecx
	movl $msg_mods, %edx
	testl $MBI_F_MODS, %ebx
	jz fail
	cmpl $0, MBI_MODS_COUNT(%esi)
	je fail

	movl $4, %ecx
	movl $msg_mem, %edx
	testl $MBI_F_MEM, %ebx
	jz fail
	cmpl $0, MBI_MEM_UPPER(%esi)
	je fail

	movl $5, %ecx
	movl $msg_mmap, %edx
	testl $MBI_F_MMAP, %ebx
	jz fail
	cmpl $0, MBI_MMAP_LENGTH(%esi)
	je fail

	/* mbkernel: cmdline "..." */
	movl $str_cmdline, %eax
	call puts
	movl MBI_CMDLINE(%esi), %eax
	call puts

	/* module "...": its first bytes, up to a newline or MODULE_SHOWN */
	movl $str_module, %eax
	call puts
	movl MBI_MODS_ADDR(%esi), %edi
	movl (%edi), %ebx               /* mod_start */
	movl 4(%edi), %edi              /* mod_end */
	movl $MODULE_SHOWN, %ecx
1:	cmpl %edi, %ebx
	jae 2f
	movb (%ebx), %al
	cmpb $'\n', %al
	je 2f
	call putc
	incl %ebx
	loop 1b
2:
	/* mem_upper <n> KiB */
	movl $str_mem, %eax
	call puts
	movl MBI_MEM_UPPER(%esi), %eax
	call putdec
	movl $str_kib, %eax
	call puts
	xorl %ecx, %ecx
	jmp finish

	/* ECX: status, EDX: what failed. */
fail:
	movl $str_fail, %eax
	call puts
	movl %ecx, %eax
	call putdec
	movl $str_failed, %eax
	call puts
	movl %edx, %eax
	call puts
	movb $'\n', %al
	call putc

finish:
	movl %ecx, %eax
	movw $EXIT_PORT, %dx
	outb %al, %dx
3:	hlt
	jmp 3b

/* putc: AL to COM1. Keeps every register. */
putc:
	pushl %edx
	movw $COM1, %dx
	outb %al, %dx
	popl %edx
	ret

/* puts: the NUL-terminated string at EAX. */
puts:
	pushl %ebx
	movl %eax, %ebx
1:	movb (%ebx), %al
	testb %al, %al
	jz 2f
	call putc
	incl %ebx
	jmp 1b
2:	popl %ebx
	ret

/* putdec: EAX in decimal. */
putdec:
	pushl %ebx
	pushl %ecx
	pushl %edx
	movl $10, %ebx
	xorl %ecx, %ecx
1:	xorl %edx, %edx
	divl %ebx
	pushl %edx
	incl %ecx
	testl %eax, %eax
	jnz 1b
2:	popl %eax
	addb $'0', %al
	call putc
	loop 2b
	popl %edx
	popl %ecx
	popl %ebx
	ret

	.section .rodata
str_cmdline:	.asciz "mbkernel: cmdline \""
str_module:	.asciz "\" module \""
str_mem:	.asciz "\" mem_upper "
str_kib:	.asciz " KiB\n"
str_fail:	.asciz "mbkernel: check "
str_failed:	.asciz " failed: "
msg_magic:	.asciz "EAX is not 0x2BADB002"
msg_cmdline:	.asciz "no command line in the multiboot information"
msg_mods:	.asciz "no module"
msg_mem:	.asciz "no memory size (mem_upper)"
msg_mmap:	.asciz "no memory map"

	.bss
	.balign 16
	.space 4096
stack_top:

	.section .note.GNU-stack, "", @progbits
