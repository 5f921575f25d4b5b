/* Multiboot2 header (Multiboot2 spec 3.1): must sit in the first 32 KiB. */
#define MB2_MAGIC   0xe85250d6
#define MB2_ARCH    0               /* i386 protected mode */

	.section .multiboot2, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH + (mb2_header_end - mb2_header))

	/* Information request: we cannot run without a memory map. */
	.balign 8
1:	.short 1, 0
	.long 2f - 1b
	.long 6                         /* memory map */
2:
	/* A framebuffer, if the loader can (optional; no preferred mode): on
	 * UEFI there is no VGA text, and GRUB hands over GOP's framebuffer
	 * only to a kernel that asks. scripts/mkiso.sh keeps BIOS machines in
	 * VGA text mode (gfxpayload=text). */
	.balign 8
	.short 5, 1                     /* type 5, optional */
	.long 20
	.long 0, 0, 0                   /* width, height, depth: any */

	/* Modules page-aligned, so they can be handed to guests as whole pages. */
	.balign 8
	.short 6, 0
	.long 8

	.balign 8
	.short 0, 0                     /* end tag */
	.long 8
mb2_header_end:
