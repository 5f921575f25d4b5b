/*
 * Loading a Multiboot (version 1) kernel into a child VM, as GRUB's
 * `multiboot` command does (the Multiboot Specification 0.6.96,
 * gnu.org/software/grub/manual/multiboot).
 *
 * Guest-physical layout:
 *   0x10000 - ...        the multiboot information structure (MB_INFO_ADDR)
 *                        with, after it, the memory map, the module list and
 *                        every string (command lines, "hv vmm"); it must end
 *                        below MB_INFO_END
 *   0x9fc00 - 0xfffff    reserved in the memory map (EBDA, ROM, MP table):
 *                        no segment may land there
 *   kernel               its ELF PT_LOAD segments at p_paddr, or the a.out
 *                        kludge's load_addr..bss_end_addr (typically 1 MiB)
 *   modules              one after another from the first page boundary
 *                        after the kernel (and after 1 MiB), page-aligned
 *
 * Entry (the caller sets the vCPU up): EAX = MB_BOOTLOADER_MAGIC, EBX = mbi,
 * 32-bit protected mode with flat 4 GiB code and data segments (any
 * selectors), paging off, IF=0, EIP = entry. The kernel sets up its own
 * stack and GDT.
 */
#ifndef VMM_MULTIBOOT_H
#define VMM_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#define MB_HEADER_MAGIC     0x1BADB002u /* in the kernel's header */
#define MB_BOOTLOADER_MAGIC 0x2BADB002u /* in EAX at entry */
#define MB_SEARCH           8192        /* the header lies in the first 8 KiB */

#define MB_INFO_ADDR        0x10000u
#define MB_INFO_END         0x9fc00u

/* Multiboot information flags (which mbi fields are valid). */
#define MB_INFO_MEMORY      0x001       /* mem_lower, mem_upper */
#define MB_INFO_CMDLINE     0x004
#define MB_INFO_MODS        0x008
#define MB_INFO_MMAP        0x040
#define MB_INFO_LOADER_NAME 0x200

/* Offsets in the multiboot information structure (all fields u32). */
#define MBI_FLAGS           0
#define MBI_MEM_LOWER       4
#define MBI_MEM_UPPER       8
#define MBI_CMDLINE         16
#define MBI_MODS_COUNT      20
#define MBI_MODS_ADDR       24
#define MBI_MMAP_LENGTH     44
#define MBI_MMAP_ADDR       48
#define MBI_LOADER_NAME     64
#define MBI_SIZE            116         /* through the framebuffer fields */

struct mb_module {
	const void *data;
	size_t size;
	const char *cmdline;            /* its string in the mbi; NULL: "" */
};

struct mb_boot {
	uint32_t entry;                 /* EIP */
	uint32_t mbi;                   /* EBX */
	char warning[128];              /* "" or what the kernel asked for and did not get */
};

/*
 * Load the multiboot kernel image `kernel` (ksize bytes) and its modules
 * into ram[0, ram_size) and build the multiboot information structure with
 * the memory fields and map, the command line (NULL: empty), the modules
 * and the boot loader name. Returns 0 and fills *out, or a negative errno
 * with a message in err: -EINVAL (no header, bad checksum, a malformed ELF
 * or a.out kludge, overlapping segments), -EOPNOTSUPP (a required feature
 * we do not offer, an entry point above 4 GiB), -ENOMEM (something does not
 * fit in RAM or the mbi area). Nothing is written unless every check passed.
 */
int mb_load(uint8_t *ram, uint64_t ram_size, const void *kernel, size_t ksize,
	    const char *cmdline, const struct mb_module *mods, unsigned int nmods,
	    struct mb_boot *out, char *err, size_t errlen);

#endif
