/*
 * Multiboot2 boot information (Multiboot2 spec 3.6): the parser turns the
 * loader's tag list into a fixed-size struct boot_info that the rest of the
 * hypervisor uses, so nothing after early boot reads loader memory directly
 * (except the EFI memory map, see efi_mmap below).
 */
#ifndef HV_MB2_H
#define HV_MB2_H

#include "hv/types.h"

/* EAX value a Multiboot2 loader hands over (spec 3.3). */
#define MB2_BOOTLOADER_MAGIC    0x36d76289u

/* Tag types (spec 3.6). Only the ones the parser reads or names. */
#define MB2_TAG_END             0
#define MB2_TAG_CMDLINE         1
#define MB2_TAG_LOADER_NAME     2
#define MB2_TAG_MODULE          3
#define MB2_TAG_BASIC_MEMINFO   4
#define MB2_TAG_BOOTDEV         5
#define MB2_TAG_MMAP            6
#define MB2_TAG_FRAMEBUFFER     8
#define MB2_TAG_EFI32_ST        11
#define MB2_TAG_EFI64_ST        12
#define MB2_TAG_ACPI_OLD        14
#define MB2_TAG_ACPI_NEW        15
#define MB2_TAG_EFI_MMAP        17
#define MB2_TAG_EFI_BS          18
#define MB2_TAG_LOAD_BASE_ADDR  21

/* Memory map entry types (spec 3.6.8). Any other value means reserved. */
#define MB2_MMAP_AVAILABLE      1
#define MB2_MMAP_RESERVED       2
#define MB2_MMAP_ACPI_RECLAIM   3
#define MB2_MMAP_ACPI_NVS       4
#define MB2_MMAP_BADRAM         5

/*
 * Limits. The info is rejected above MB2_INFO_MAX_SIZE: a real one is a few
 * KiB (a 128-entry map is 3 KiB, an EFI map of a few hundred descriptors
 * 20 KiB), so a larger total_size means EBX did not point at boot info, and
 * the bound keeps the parser from walking over unrelated memory.
 */
#define MB2_INFO_MIN_SIZE       16      /* fixed part + end tag */
#define MB2_INFO_MAX_SIZE       (1024u * 1024u)
#define BOOT_CMDLINE_MAX        1024    /* bytes, NUL included */
#define BOOT_LOADER_NAME_MAX    64
#define BOOT_MMAP_MAX           128
#define BOOT_MODULES_MAX        16
#define BOOT_MODULE_STR_MAX     128
#define BOOT_RSDP_MAX           64      /* v1 RSDP is 20 bytes, v2 36 */

/* One memory map entry, same layout as the spec's (spec 3.6.8). */
struct mb2_mmap_entry {
	uint64_t base;
	uint64_t len;
	uint32_t type;
	uint32_t reserved;
};

struct boot_module {
	phys_addr_t start;
	phys_addr_t end;                /* exclusive, as GRUB fills it; >= start */
	char string[BOOT_MODULE_STR_MAX];
};

/* Framebuffer types (spec 3.6.12). */
#define MB2_FB_INDEXED          0
#define MB2_FB_RGB              1
#define MB2_FB_EGA_TEXT         2
#define MB2_FB_TAG_MIN          32      /* up to the colour info (GRUB's layout) */
#define MB2_FB_RGB_TAG_MIN      38      /* with the six RGB field bytes */

/*
 * The framebuffer tag (8) as the loader wrote it. Only its size is checked
 * here; whether the console can draw on it (pixel format, bounds, overflow)
 * is fbcon_setup's (hv/fbcon.h) and vga's business.
 */
struct boot_fb {
	uint64_t addr;
	uint32_t pitch;                 /* bytes per line */
	uint32_t width, height;         /* pixels, or characters for EGA text */
	uint8_t bpp;
	uint8_t type;                   /* MB2_FB_* */
	bool has_rgb;                   /* the RGB fields were in the tag */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

/* Where the copied RSDP came from. */
enum boot_rsdp_src {
	BOOT_RSDP_NONE = 0,
	BOOT_RSDP_OLD,                  /* tag 14: ACPI 1.0 RSDP */
	BOOT_RSDP_NEW,                  /* tag 15: ACPI 2.0+ RSDP (preferred) */
};

/* boot_info.truncated: something did not fit and was cut (logged as warning). */
#define BOOT_TRUNC_CMDLINE      (1u << 0)  /* cut at a token boundary */
#define BOOT_TRUNC_LOADER_NAME  (1u << 1)
#define BOOT_TRUNC_MMAP         (1u << 2)  /* entries past BOOT_MMAP_MAX dropped */
#define BOOT_TRUNC_MODULES      (1u << 3)  /* modules past BOOT_MODULES_MAX dropped */
#define BOOT_TRUNC_MODULE_STR   (1u << 4)
#define BOOT_TRUNC_RSDP         (1u << 5)  /* RSDP tag larger than BOOT_RSDP_MAX */

struct boot_info {
	/* The info block itself, so memory code can reserve it. */
	phys_addr_t info_start;
	uint32_t info_size;             /* total_size */
	uint32_t truncated;             /* BOOT_TRUNC_* */

	bool has_cmdline;
	char cmdline[BOOT_CMDLINE_MAX]; /* always NUL-terminated, "" if absent */
	bool has_loader_name;
	char loader_name[BOOT_LOADER_NAME_MAX];

	bool has_meminfo;               /* tag 4 */
	uint32_t mem_lower_kib, mem_upper_kib;

	uint32_t mmap_count;            /* entries kept in mmap[] */
	uint32_t mmap_total;            /* entries the loader gave */
	uint32_t mmap_entry_version;
	struct mb2_mmap_entry mmap[BOOT_MMAP_MAX];

	uint32_t module_count;          /* modules kept */
	uint32_t module_total;          /* modules the loader gave */
	struct boot_module modules[BOOT_MODULES_MAX];

	/* RSDP bytes as the loader copied them (not validated: see acpi.h). */
	enum boot_rsdp_src rsdp_src;
	bool has_rsdp_old, has_rsdp_new;
	uint32_t rsdp_len;
	uint8_t rsdp[BOOT_RSDP_MAX];

	/* EFI memory map (tag 17): points into the info block, not copied. */
	bool has_efi_mmap;
	const void *efi_mmap;           /* first descriptor */
	uint32_t efi_mmap_desc_size;
	uint32_t efi_mmap_desc_version;
	uint32_t efi_mmap_count;

	bool has_efi64_systab;
	uint64_t efi64_systab;
	bool efi_boot_services;         /* tag 18: ExitBootServices not called */
	bool has_load_base;
	uint32_t load_base;             /* tag 21: where the image was loaded */

	bool has_fb;                    /* tag 8 (the first one; a short one is ignored) */
	struct boot_fb fb;
};

/*
 * Parse the boot information at `info` (identity-mapped, at least
 * total_size readable bytes) into *bi. Returns 0, or a negative errno with a
 * one-line reason in err (always NUL-terminated when errlen > 0; err may be
 * NULL). Error codes:
 *   -EINVAL  info NULL/not 8-byte aligned, total_size < 16, a tag smaller
 *            than 8 or than its type's fixed part, end tag size != 8,
 *            a string not NUL-terminated within its tag, a bad mmap
 *            entry_size, a module with end < start
 *   -E2BIG   total_size > MB2_INFO_MAX_SIZE
 *   -ERANGE  a tag runs past total_size
 *   -ENOENT  no end tag before total_size
 *   -EEXIST  a tag that may appear once appears twice
 *   -ENODEV  no memory map tag (the hypervisor cannot run without one)
 * Overflowing fixed-size arrays are truncated, flagged in bi->truncated and
 * logged with pr_warn; that is not an error. Does not log errors itself.
 */
int mb2_parse(const void *info, struct boot_info *bi, char *err, size_t errlen);

/* Human name of a memory map type ("available", "reserved", ...). */
const char *mb2_mmap_type_name(uint32_t type);

#endif
