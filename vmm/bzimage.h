/*
 * Loading a Linux bzImage into a child VM for the 32-bit boot protocol
 * (Documentation/x86/boot.rst, "32-bit Boot Protocol"): no BIOS and no
 * real-mode setup code run; the VMM builds the zero page (struct boot_params)
 * itself and enters the kernel's protected-mode part directly.
 *
 * Guest-physical layout (RAM is one buffer, guest-physical [0, ram_size)):
 *
 *   0x00000 - 0x0ffff   left alone (real-mode IVT/BDA area, unused)
 *   0x10000 - 0x10fff   zero page (LINUX_BOOT_PARAMS)
 *   0x20000 - 0x2ffff   kernel command line (LINUX_CMDLINE, NUL-terminated)
 *   0x9fc00 - 0xfffff   reserved in the e820 map: EBDA and the BIOS area,
 *                       where the VMM writes the MP table (MPTABLE_ADDR,
 *                       0xf0000, one of the places Linux scans)
 *   kernel_start        the protected-mode part of the bzImage, at
 *                       pref_address (16 MiB for Debian) when relocatable,
 *                       else 1 MiB; it decompresses itself in place and
 *                       needs init_size bytes from where it runs
 *   initrd_start        the initrd, page-aligned, as high as the kernel's
 *                       initrd_addr_max and the RAM allow
 *
 * Entry (the caller sets the vCPU up): 32-bit protected mode, paging off,
 * IF=0, a GDT with flat 4 GiB segments at the selectors boot.rst names,
 * __BOOT_CS = 0x10 (execute/read) and __BOOT_DS = 0x18 (read/write), CS =
 * 0x10, DS = ES = SS = 0x18; ESI = boot_params, EIP = entry; EBP, EDI and
 * EBX zero.
 */
#ifndef VMM_BZIMAGE_H
#define VMM_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#define LINUX_BOOT_PARAMS 0x10000u
#define LINUX_CMDLINE     0x20000u
#define LINUX_CMDLINE_MAX 0x10000u      /* bytes reserved for it, NUL included */

/* e820 memory map entry, as in struct boot_params (packed, 20 bytes). */
struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_RAM      1
#define E820_RESERVED 2

struct linux_boot {
	uint64_t entry;                 /* EIP: the load address of the kernel */
	uint64_t boot_params;           /* ESI: the zero page */
	uint64_t kernel_start, kernel_end; /* load address .. end of init_size */
	uint64_t initrd_start, initrd_size; /* 0, 0 without an initrd */
	uint32_t protocol;              /* boot protocol, e.g. 0x20f for 2.15 */
};

/*
 * Load the bzImage `kernel` (ksize bytes), the optional initrd (isize 0: none)
 * and the command line (NULL: empty) into ram[0, ram_size), and build the
 * zero page. Returns 0 and fills *out, or a negative errno with a message
 * in err: -EINVAL (not a bzImage, truncated, bad header values),
 * -EOPNOTSUPP (boot protocol older than 2.06, a zImage), -ENOMEM (the kernel
 * or the initrd does not fit in the VM's memory), -E2BIG (command line too
 * long). Nothing is written to ram unless every check passed.
 */
int linux_load(uint8_t *ram, uint64_t ram_size, const void *kernel, size_t ksize,
	       const void *initrd, size_t isize, const char *cmdline,
	       struct linux_boot *out, char *err, size_t errlen);

/*
 * The VM's memory map: RAM [0, 0x9fc00), reserved [0x9fc00, 0x100000)
 * (EBDA, ROM area), RAM [0x100000, ram_size). Fills at most max entries and
 * returns how many it filled (0 when ram_size is below 1 MiB: no layout).
 */
int linux_e820(struct e820_entry *t, int max, uint64_t ram_size);

/*
 * A small snprintf for the loaders' error messages: %s %c %d %u %x with the
 * l, ll and z length modifiers, a zero-padded width (%02u), and %%. Always
 * NUL-terminates when len > 0; buf may be NULL when len is 0.
 */
void vmm_errf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
