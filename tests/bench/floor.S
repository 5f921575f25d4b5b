/*
 * The floor kernel of the bring-up benchmark (tests/bench/run.py): a
 * multiboot2 kernel that does nothing but say it runs. Booted through the
 * same GRUB ISO layout as the hypervisor and Xen, the time to its line is
 * what firmware, GRUB and QEMU cost before any kernel works; the others
 * are reported over it. 32-bit code, loaded at 1 MiB.
 */
#define MB2_MAGIC   0xe85250d6
#define COM1        0x3f8

	.section .text, "ax"
	.code32
	.balign 8
mb2_header:
	.long MB2_MAGIC, 0, mb2_end - mb2_header
	.long -(MB2_MAGIC + (mb2_end - mb2_header))
	.balign 8
	.short 0, 0                     /* end tag */
	.long 8
mb2_end:

	.global _start
_start:
	movl $msg, %esi
1:	movb (%esi), %al
	testb %al, %al
	jz 3f
	movw $COM1 + 5, %dx             /* wait for the transmitter */
2:	inb %dx, %al
	testb $0x20, %al
	jz 2b
	movb (%esi), %al
	movw $COM1, %dx
	outb %al, %dx
	incl %esi
	jmp 1b
3:	cli
	hlt
	jmp 3b

msg:	.asciz "floor: up\r\n"
