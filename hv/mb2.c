/*
 * Multiboot2 boot information parser (Multiboot2 spec 3.6).
 *
 * The info block is loader-written memory that EBX merely points at, so
 * every size and offset in it is checked against total_size before use.
 * Fields are read with memcpy: the spec aligns tags to 8 bytes, but entries
 * inside a tag are only as aligned as entry_size makes them.
 */
#include "hv/mb2.h"
#include "hv/compiler.h"
#include "hv/errno.h"
#include "hv/printk.h"
#include "hv/string.h"
#include "hv/unaligned.h"

#define MB2_TAG_HDR     8       /* u32 type, u32 size */
#define MB2_ALIGN       8       /* spec 3.6.1: tags start 8-byte aligned */
#define MB2_MMAP_HDR    16      /* tag header + entry_size + entry_version */
#define MB2_MMAP_ENTRY  24      /* base, len, type, reserved (spec 3.6.8) */
#define MB2_MODULE_HDR  16      /* tag header + mod_start + mod_end */
#define MB2_EFI_MMAP_HDR 16     /* tag header + descr_size + descr_vers */
#define EFI_MEMDESC_MIN 40      /* sizeof(EFI_MEMORY_DESCRIPTOR), UEFI 7.2 */

/* Parser state: the block and the singular tags already seen. */
struct mb2_state {
	const uint8_t *base;
	uint32_t total;
	uint32_t seen;          /* bit per tag type < 32 */
	char *err;
	size_t errlen;
};

/* Record the reason for a failure and pass the error code through. */
static int mb2_fail(struct mb2_state *st, int e, const char *what,
		    uint32_t off, uint32_t val)
{
	if (st->err && st->errlen)
		snprintf(st->err, st->errlen, "multiboot2: %s (offset %u, value %u)",
			 what, off, val);
	return e;
}

/*
 * Copy the NUL-terminated string that must lie within [p, p + room).
 * Returns false when no NUL is found there (the loader overran the tag).
 */
static bool mb2_copy_str(char *dst, size_t dstlen, const uint8_t *p,
			 size_t room, bool *truncated)
{
	size_t n = strnlen((const char *)p, room);

	if (n == room)
		return false;
	*truncated = n >= dstlen;
	if (*truncated)
		n = dstlen - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return true;
}

/*
 * A truncated command line must not end in half a token ("mem=4096" cut to
 * "mem=40" would silently change a value), so drop the partial last token.
 */
static void mb2_cut_partial_token(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] != ' ' && s[n - 1] != '\t')
		n--;
	s[n] = '\0';
}

/* Tags that describe one thing must not appear twice: that is corruption. */
static int mb2_once(struct mb2_state *st, uint32_t type, uint32_t off)
{
	if (type < 32) {
		if (st->seen & (1u << type))
			return mb2_fail(st, ERR(-EEXIST), "duplicate tag", off, type);
		st->seen |= 1u << type;
	}
	return 0;
}

static int mb2_tag_string(struct mb2_state *st, const uint8_t *t, uint32_t off,
			  uint32_t size, char *dst, size_t dstlen, bool *trunc)
{
	if (!mb2_copy_str(dst, dstlen, t + MB2_TAG_HDR, size - MB2_TAG_HDR, trunc))
		return mb2_fail(st, ERR(-EINVAL), "string not NUL-terminated in tag",
				off, get_le32(t));
	return 0;
}

/* Tag 6 (spec 3.6.8). */
static int mb2_tag_mmap(struct mb2_state *st, struct boot_info *bi,
			const uint8_t *t, uint32_t off, uint32_t size)
{
	uint32_t esize = get_le32(t + 8);
	uint32_t count, i;

	if (esize < MB2_MMAP_ENTRY || esize % 8 != 0)
		return mb2_fail(st, ERR(-EINVAL), "bad mmap entry_size", off, esize);
	bi->mmap_entry_version = get_le32(t + 12);
	/* Later versions are promised to extend the entry compatibly. */
	if (bi->mmap_entry_version != 0)
		pr_warn("multiboot2: mmap entry_version %u, reading as version 0\n",
			bi->mmap_entry_version);
	if ((size - MB2_MMAP_HDR) % esize)
		pr_warn("multiboot2: mmap tag has %u trailing bytes, ignored\n",
			(size - MB2_MMAP_HDR) % esize);
	count = (size - MB2_MMAP_HDR) / esize;
	bi->mmap_total = count;
	if (count > BOOT_MMAP_MAX) {
		pr_warn("multiboot2: %u mmap entries, keeping the first %u\n",
			count, BOOT_MMAP_MAX);
		bi->truncated |= BOOT_TRUNC_MMAP;
		count = BOOT_MMAP_MAX;
	}
	for (i = 0; i < count; i++) {
		const uint8_t *e = t + MB2_MMAP_HDR + (size_t)i * esize;
		struct mb2_mmap_entry *m = &bi->mmap[i];

		m->base = get_le64(e);
		m->len = get_le64(e + 8);
		m->type = get_le32(e + 16);
		m->reserved = get_le32(e + 20);
	}
	bi->mmap_count = count;
	return 0;
}

/* Tag 3 (spec 3.6.6). */
static int mb2_tag_module(struct mb2_state *st, struct boot_info *bi,
			  const uint8_t *t, uint32_t off, uint32_t size)
{
	uint32_t start = get_le32(t + 8), end = get_le32(t + 12);
	char tmp[1];
	bool trunc;

	if (end < start)
		return mb2_fail(st, ERR(-EINVAL), "module end below start", off, end);
	bi->module_total++;
	if (bi->module_count >= BOOT_MODULES_MAX) {
		/* Still insist the string is terminated: a malformed tag is an error. */
		if (!mb2_copy_str(tmp, sizeof(tmp), t + MB2_MODULE_HDR,
				  size - MB2_MODULE_HDR, &trunc))
			return mb2_fail(st, ERR(-EINVAL),
					"module string not NUL-terminated", off, size);
		if (!(bi->truncated & BOOT_TRUNC_MODULES))
			pr_warn("multiboot2: more than %u modules, extra ones ignored\n",
				BOOT_MODULES_MAX);
		bi->truncated |= BOOT_TRUNC_MODULES;
		return 0;
	}
	struct boot_module *m = &bi->modules[bi->module_count];

	if (!mb2_copy_str(m->string, sizeof(m->string), t + MB2_MODULE_HDR,
			  size - MB2_MODULE_HDR, &trunc))
		return mb2_fail(st, ERR(-EINVAL), "module string not NUL-terminated",
				off, size);
	if (trunc) {
		pr_warn("multiboot2: module %u string truncated\n", bi->module_count);
		bi->truncated |= BOOT_TRUNC_MODULE_STR;
	}
	m->start = start;
	m->end = end;
	bi->module_count++;
	return 0;
}

/* Tags 14 and 15 (spec 3.6.13/14): keep the bytes, the new one wins. */
static void mb2_tag_rsdp(struct boot_info *bi, const uint8_t *t, uint32_t size,
			 bool is_new)
{
	uint32_t len = size - MB2_TAG_HDR;

	if (is_new)
		bi->has_rsdp_new = true;
	else
		bi->has_rsdp_old = true;
	if (!is_new && bi->rsdp_src == BOOT_RSDP_NEW)
		return;
	if (len > BOOT_RSDP_MAX) {
		pr_warn("multiboot2: RSDP tag of %u bytes, keeping %u\n", len,
			BOOT_RSDP_MAX);
		bi->truncated |= BOOT_TRUNC_RSDP;
		len = BOOT_RSDP_MAX;
	}
	memset(bi->rsdp, 0, sizeof(bi->rsdp));
	memcpy(bi->rsdp, t + MB2_TAG_HDR, len);
	bi->rsdp_len = len;
	bi->rsdp_src = is_new ? BOOT_RSDP_NEW : BOOT_RSDP_OLD;
}

/*
 * Tag 8 (spec 3.6.12, with GRUB's 16-bit reserved field: the colour info
 * starts at offset 32 in every loader in use). Console output is optional:
 * a tag too short to use is reported and skipped, not a malformed boot.
 */
static void mb2_tag_fb(struct boot_info *bi, const uint8_t *t, uint32_t size)
{
	struct boot_fb *fb = &bi->fb;

	if (bi->has_fb) {
		pr_warn("multiboot2: a second framebuffer tag, ignored\n");
		return;
	}
	if (size < MB2_FB_TAG_MIN) {
		pr_warn("multiboot2: framebuffer tag of %u bytes (below %u), ignored\n",
			size, MB2_FB_TAG_MIN);
		return;
	}
	memset(fb, 0, sizeof(*fb));
	fb->addr = get_le64(t + 8);
	fb->pitch = get_le32(t + 16);
	fb->width = get_le32(t + 20);
	fb->height = get_le32(t + 24);
	fb->bpp = t[28];
	fb->type = t[29];
	if (fb->type == MB2_FB_RGB && size >= MB2_FB_RGB_TAG_MIN) {
		fb->has_rgb = true;
		fb->red_pos = t[32];
		fb->red_size = t[33];
		fb->green_pos = t[34];
		fb->green_size = t[35];
		fb->blue_pos = t[36];
		fb->blue_size = t[37];
	}
	bi->has_fb = true;
}

/* Smallest valid size of each tag type we read (fixed part + data). */
static uint32_t mb2_min_size(uint32_t type)
{
	switch (type) {
	case MB2_TAG_END:           return 8;
	case MB2_TAG_CMDLINE:       return 9;       /* at least the NUL */
	case MB2_TAG_LOADER_NAME:   return 9;
	case MB2_TAG_MODULE:        return MB2_MODULE_HDR + 1;
	case MB2_TAG_BASIC_MEMINFO: return 16;
	case MB2_TAG_MMAP:          return MB2_MMAP_HDR;
	case MB2_TAG_EFI64_ST:      return 16;
	case MB2_TAG_ACPI_OLD:      return MB2_TAG_HDR + 20;
	case MB2_TAG_ACPI_NEW:      return MB2_TAG_HDR + 36;
	case MB2_TAG_EFI_MMAP:      return MB2_EFI_MMAP_HDR;
	case MB2_TAG_LOAD_BASE_ADDR: return 12;
	default:                    return MB2_TAG_HDR;
	}
}

static int mb2_tag(struct mb2_state *st, struct boot_info *bi, uint32_t off,
		   uint32_t type, uint32_t size)
{
	const uint8_t *t = st->base + off;
	bool trunc;
	int r;

	switch (type) {
	case MB2_TAG_CMDLINE:
	case MB2_TAG_LOADER_NAME:
	case MB2_TAG_BASIC_MEMINFO:
	case MB2_TAG_MMAP:
	case MB2_TAG_EFI64_ST:
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
	case MB2_TAG_EFI_MMAP:
	case MB2_TAG_EFI_BS:
	case MB2_TAG_LOAD_BASE_ADDR:
		r = mb2_once(st, type, off);
		if (r)
			return r;
		break;
	}

	switch (type) {
	case MB2_TAG_CMDLINE:
		r = mb2_tag_string(st, t, off, size, bi->cmdline,
				   sizeof(bi->cmdline), &trunc);
		if (r)
			return r;
		if (trunc) {
			mb2_cut_partial_token(bi->cmdline);
			pr_warn("multiboot2: command line longer than %u bytes, truncated\n",
				BOOT_CMDLINE_MAX - 1);
			bi->truncated |= BOOT_TRUNC_CMDLINE;
		}
		bi->has_cmdline = true;
		return 0;
	case MB2_TAG_LOADER_NAME:
		r = mb2_tag_string(st, t, off, size, bi->loader_name,
				   sizeof(bi->loader_name), &trunc);
		if (r)
			return r;
		if (trunc)
			bi->truncated |= BOOT_TRUNC_LOADER_NAME;
		bi->has_loader_name = true;
		return 0;
	case MB2_TAG_MODULE:
		return mb2_tag_module(st, bi, t, off, size);
	case MB2_TAG_BASIC_MEMINFO:
		bi->has_meminfo = true;
		bi->mem_lower_kib = get_le32(t + 8);
		bi->mem_upper_kib = get_le32(t + 12);
		return 0;
	case MB2_TAG_MMAP:
		return mb2_tag_mmap(st, bi, t, off, size);
	case MB2_TAG_EFI64_ST:
		bi->has_efi64_systab = true;
		bi->efi64_systab = get_le64(t + 8);
		return 0;
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
		mb2_tag_rsdp(bi, t, size, type == MB2_TAG_ACPI_NEW);
		return 0;
	case MB2_TAG_EFI_MMAP: {
		uint32_t dsize = get_le32(t + 8);

		if (dsize < EFI_MEMDESC_MIN || dsize % 8 != 0)
			return mb2_fail(st, ERR(-EINVAL), "bad EFI mmap descriptor size",
					off, dsize);
		bi->has_efi_mmap = true;
		bi->efi_mmap = t + MB2_EFI_MMAP_HDR;
		bi->efi_mmap_desc_size = dsize;
		bi->efi_mmap_desc_version = get_le32(t + 12);
		bi->efi_mmap_count = (size - MB2_EFI_MMAP_HDR) / dsize;
		return 0;
	}
	case MB2_TAG_EFI_BS:
		bi->efi_boot_services = true;
		return 0;
	case MB2_TAG_LOAD_BASE_ADDR:
		bi->has_load_base = true;
		bi->load_base = get_le32(t + 8);
		return 0;
	case MB2_TAG_FRAMEBUFFER:
		mb2_tag_fb(bi, t, size);
		return 0;
	default:
		return 0;       /* tags we have no use for are skipped (spec 3.6) */
	}
}

int mb2_parse(const void *info, struct boot_info *bi, char *err, size_t errlen)
{
	struct mb2_state st = { .base = info, .err = err, .errlen = errlen };
	uint32_t off;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!bi)
		return ERR(-EINVAL);
	memset(bi, 0, sizeof(*bi));
	if (!info || !IS_ALIGNED((uintptr_t)info, MB2_ALIGN))
		return mb2_fail(&st, ERR(-EINVAL), "info NULL or not 8-byte aligned",
				0, (uint32_t)(uintptr_t)info);

	/* Fixed part (spec 3.6.1): u32 total_size, u32 reserved (ignored). */
	st.total = get_le32(st.base);
	if (st.total < MB2_INFO_MIN_SIZE)
		return mb2_fail(&st, ERR(-EINVAL), "total_size too small", 0, st.total);
	if (st.total > MB2_INFO_MAX_SIZE)
		return mb2_fail(&st, ERR(-E2BIG), "total_size above 1 MiB", 0, st.total);
	bi->info_start = (phys_addr_t)(uintptr_t)info;
	bi->info_size = st.total;

	/* off stays <= total <= 1 MiB, so off + size below cannot wrap a u64. */
	for (off = 8; ; ) {
		uint32_t type, size;

		if ((uint64_t)off + MB2_TAG_HDR > st.total)
			return mb2_fail(&st, ERR(-ENOENT), "no end tag", off, st.total);
		type = get_le32(st.base + off);
		size = get_le32(st.base + off + 4);
		if (size < MB2_TAG_HDR)
			return mb2_fail(&st, ERR(-EINVAL), "tag size below 8", off, size);
		if ((uint64_t)off + size > st.total)
			return mb2_fail(&st, ERR(-ERANGE), "tag runs past total_size",
					off, size);
		if (size < mb2_min_size(type))
			return mb2_fail(&st, ERR(-EINVAL), "tag too small for its type",
					off, type);
		if (type == MB2_TAG_END) {
			if (size != MB2_TAG_HDR)
				return mb2_fail(&st, ERR(-EINVAL), "end tag size not 8",
						off, size);
			break;
		}
		r = mb2_tag(&st, bi, off, type, size);
		if (r)
			return r;
		/* Next tag at the following 8-byte boundary (spec 3.6.1). */
		off = (uint32_t)ALIGN_UP((uint64_t)off + size, MB2_ALIGN);
	}

	if (!(st.seen & (1u << MB2_TAG_MMAP)))
		return mb2_fail(&st, ERR(-ENODEV), "no memory map tag", 0, 0);
	return 0;
}

const char *mb2_mmap_type_name(uint32_t type)
{
	switch (type) {
	case MB2_MMAP_AVAILABLE:    return "available";
	case MB2_MMAP_RESERVED:     return "reserved";
	case MB2_MMAP_ACPI_RECLAIM: return "ACPI reclaimable";
	case MB2_MMAP_ACPI_NVS:     return "ACPI NVS";
	case MB2_MMAP_BADRAM:       return "bad RAM";
	default:                    return "unknown (reserved)";
	}
}
