/*
 * Linux bzImage loader, 32-bit boot protocol (Documentation/x86/boot.rst;
 * the zero-page offsets are Documentation/x86/zero-page.rst). The shape is
 * kvmtool's x86/kvm.c load_bzimage(), minus the real-mode setup code: we
 * enter startup_32 directly, so only the setup header matters.
 *
 * The decode step reads and checks every header field and works out the
 * whole placement; only then is guest memory written, so a refused image
 * leaves the VM untouched.
 */
#include "bzimage.h"

#include <stdarg.h>
#include <stdbool.h>

#include "bytes.h"
#include "hv/errno.h"          /* and hv/types.h: MiB, PAGE_SIZE */

/* Setup header fields: offsets in the file and in struct boot_params alike. */
#define HDR_START        0x1f1
#define SETUP_SECTS      0x1f1          /* u8, 0 means 4 */
#define SYSSIZE          0x1f4          /* u32, protected-mode size / 16 (2.04+) */
#define HDR_JUMP         0x200          /* the byte at 0x201 gives the header end */
#define HDR_MAGIC        0x202          /* "HdrS" */
#define HDR_VERSION      0x206          /* u16, e.g. 0x020f for 2.15 */
#define TYPE_OF_LOADER   0x210
#define LOADFLAGS        0x211
#define  LOADED_HIGH     0x01           /* protected-mode code goes to 1 MiB+ */
#define CODE32_START     0x214
#define RAMDISK_IMAGE    0x218
#define RAMDISK_SIZE     0x21c
#define CMD_LINE_PTR     0x228
#define INITRD_ADDR_MAX  0x22c          /* highest byte address an initrd may use */
#define KERNEL_ALIGNMENT 0x230
#define RELOCATABLE      0x234
#define CMDLINE_SIZE     0x238          /* longest command line, NUL excluded */
#define PREF_ADDRESS     0x258          /* u64, 2.10+ */
#define INIT_SIZE        0x260          /* u32, 2.10+ */
#define HDR_AREA_END     0x290          /* end of the header area in boot_params */

/* Zero-page fields outside the setup header. */
#define E820_ENTRIES     0x1e8          /* u8 */
#define E820_TABLE       0x2d0          /* struct e820_entry[128] */
#define E820_MAX         128
#define ZERO_PAGE_SIZE   4096

#define LOADER_UNDEFINED 0xff           /* type_of_loader: "not an assigned id" */
#define MIN_PROTOCOL     0x206          /* cmdline_size appears in 2.06 */
#define HIGH_MEM         0x100000ull
#define EBDA_START       0x9fc00ull

static uint64_t mib_up(uint64_t n) { return (n + MiB - 1) / MiB; }

/* ---------------------------------------------------------------- messages */

struct vmm_buf {
	char *p;
	size_t len, pos;
};

static void buf_putc(struct vmm_buf *b, char c)
{
	if (b->pos + 1 < b->len)
		b->p[b->pos++] = c;
}

static void buf_num(struct vmm_buf *b, unsigned long long v, unsigned int base, int width)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		buf_putc(b, '0');
	while (n)
		buf_putc(b, tmp[--n]);
}

_Static_assert(sizeof(size_t) == sizeof(long), "%z is read as long");

void vmm_errf(char *buf, size_t len, const char *fmt, ...)
{
	struct vmm_buf b = { buf, len, 0 };
	va_list ap;

	if (!len)
		return;
	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int lng = 0, width = 0;

		if (*fmt != '%') {
			buf_putc(&b, *fmt);
			continue;
		}
		if (fmt[1] == '0')              /* %02x: zero padding to a width */
			for (fmt++; fmt[1] >= '0' && fmt[1] <= '9'; fmt++)
				width = width * 10 + fmt[1] - '0';
		while (*++fmt == 'l' || *fmt == 'z')
			lng++;          /* z: size_t is unsigned long on x86-64 */
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			for (s = s ? s : "(null)"; *s; s++)
				buf_putc(&b, *s);
			break;
		}
		case 'c':
			buf_putc(&b, (char)va_arg(ap, int));
			break;
		case 'd': {
			long long v = lng > 1 ? va_arg(ap, long long) :
				      lng ? va_arg(ap, long) : va_arg(ap, int);

			if (v < 0)
				buf_putc(&b, '-');
			buf_num(&b, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, 10, width);
			break;
		}
		case 'u':
		case 'x':
			buf_num(&b, lng > 1 ? va_arg(ap, unsigned long long) :
				    lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int),
				*fmt == 'u' ? 10 : 16, width);
			break;
		case '%':
			buf_putc(&b, '%');
			break;
		default:                /* not ours: stop rather than misread va_args */
			goto out;
		}
	}
out:
	va_end(ap);
	b.p[b.pos] = 0;
}

/* ---------------------------------------------------------------- e820 */

int linux_e820(struct e820_entry *t, int max, uint64_t ram_size)
{
	/*
	 * What a PC BIOS reports: conventional memory up to the EBDA, the EBDA
	 * and the ROM area reserved (our MP table lives there, and Linux must
	 * not hand it out), then everything from 1 MiB up.
	 */
	struct e820_entry map[3] = {
		{ 0, EBDA_START, E820_RAM },
		{ EBDA_START, HIGH_MEM - EBDA_START, E820_RESERVED },
		{ HIGH_MEM, 0, E820_RAM },
	};
	int n = 0;

	if (ram_size < HIGH_MEM)
		return 0;
	map[2].size = ram_size - HIGH_MEM;
	for (int i = 0; i < 3 && n < max; i++)
		if (map[i].size)
			t[n++] = map[i];
	return n;
}

/* ---------------------------------------------------------------- loading */

/* Everything linux_load decided before it writes a byte. */
struct bz_plan {
	size_t setup_size, pm_size, hdr_len, cmdline_len;
	uint64_t load, end, initrd;
	uint32_t protocol;
};

static int bz_check_header(const uint8_t *k, size_t ksize, struct bz_plan *p,
			   char *err, size_t errlen)
{
	unsigned int sects;
	uint32_t syssize;

	/* The boot sector and the header through init_size (0x264) at least. */
	if (ksize < 1024) {
		vmm_errf(err, errlen, "not a bzImage: %zu bytes is too short for a boot sector and setup header",
			 ksize);
		return -EINVAL;
	}
	if (rd32(k + HDR_MAGIC) != 0x53726448) {        /* "HdrS" */
		vmm_errf(err, errlen, "not a bzImage: no HdrS signature at 0x202");
		return -EINVAL;
	}
	p->protocol = rd16(k + HDR_VERSION);
	if (p->protocol < MIN_PROTOCOL) {
		vmm_errf(err, errlen, "boot protocol %u.%02u is too old: this loader needs 2.06 or later (a kernel from 2.6.22 on)",
			 p->protocol >> 8, p->protocol & 0xff);
		return -EOPNOTSUPP;
	}
	if (!(k[LOADFLAGS] & LOADED_HIGH)) {
		vmm_errf(err, errlen, "a zImage (loadflags without LOADED_HIGH) must load at 0x10000: not supported, use a bzImage");
		return -EOPNOTSUPP;
	}

	/* setup_sects 0 means 4 for compatibility (boot.rst); +1: the boot sector. */
	sects = k[SETUP_SECTS] ? k[SETUP_SECTS] : 4;
	p->setup_size = (sects + 1) * 512;
	syssize = rd32(k + SYSSIZE);
	if (ksize <= p->setup_size || (ksize - p->setup_size) / 16 < syssize) {
		vmm_errf(err, errlen, "truncated bzImage: %zu bytes, the header says %zu of setup and %llu of kernel",
			 ksize, p->setup_size, 16ull * syssize);
		return -EINVAL;
	}
	p->pm_size = ksize - p->setup_size;

	/* The header ends at 0x202 + the byte at 0x201 (the jump's offset). */
	p->hdr_len = 0x202 + k[HDR_JUMP + 1] - HDR_START;
	if (p->hdr_len > HDR_AREA_END - HDR_START)
		p->hdr_len = HDR_AREA_END - HDR_START;
	if (p->hdr_len > p->setup_size - HDR_START)
		p->hdr_len = p->setup_size - HDR_START;
	return 0;
}

/*
 * Where the kernel goes and how much it needs there. A relocatable kernel
 * (2.05+) loaded below pref_address moves itself up to it anyway (its
 * startup_32 uses max(load, LOAD_PHYSICAL_ADDR)), so loading lower saves
 * nothing: load it at pref_address, aligned to kernel_alignment. A
 * non-relocatable one loads at code32_start (1 MiB) and runs at its compiled
 * address, which 2.10+ reports as pref_address. init_size (2.10+) is what it
 * needs from where it runs; older protocols do not say, and like GRUB we then
 * reserve the image only.
 */
static int bz_place_kernel(const uint8_t *k, uint64_t ram_size, struct bz_plan *p,
			   char *err, size_t errlen)
{
	bool v210 = p->protocol >= 0x20a;
	uint64_t pref = v210 ? rd64(k + PREF_ADDRESS) : HIGH_MEM;
	uint64_t init_size = v210 ? rd32(k + INIT_SIZE) : 0;
	uint64_t run;

	if (pref >= ram_size) {
		vmm_errf(err, errlen, "kernel too large for the VM's memory: it runs at 0x%llx (pref_address), the VM has %llu MiB",
			 (unsigned long long)pref, (unsigned long long)(ram_size / MiB));
		return -ENOMEM;
	}
	if (k[RELOCATABLE]) {
		uint32_t align = rd32(k + KERNEL_ALIGNMENT);

		if (align < PAGE_SIZE || (align & (align - 1))) {
			vmm_errf(err, errlen, "bad bzImage header: kernel_alignment 0x%x is not a power of two of at least 4 KiB",
				 align);
			return -EINVAL;
		}
		if (pref < HIGH_MEM)
			pref = HIGH_MEM;
		p->load = (pref + align - 1) & ~(uint64_t)(align - 1);
		run = p->load;
	} else {
		p->load = rd32(k + CODE32_START);
		run = v210 && pref > p->load ? pref : p->load;
	}
	if (p->load < HIGH_MEM) {
		vmm_errf(err, errlen, "bad bzImage header: load address 0x%llx is below 1 MiB",
			 (unsigned long long)p->load);
		return -EINVAL;
	}

	if (run >= ram_size || ram_size - run < init_size || ram_size - p->load < p->pm_size) {
		vmm_errf(err, errlen, "kernel too large for the VM's memory: it needs %llu MiB (%s) from %llu MiB, the VM has %llu MiB",
			 (unsigned long long)mib_up(init_size > p->pm_size ? init_size : p->pm_size), init_size ? "init_size" : "image size",
			 (unsigned long long)(run / MiB), (unsigned long long)(ram_size / MiB));
		return -ENOMEM;
	}
	p->end = run + init_size;
	if (p->end < p->load + p->pm_size)
		p->end = p->load + p->pm_size;
	return 0;
}

/*
 * The initrd goes as high as it can (boot.rst: "as high as possible"), below
 * initrd_addr_max and the end of RAM, page-aligned, and must clear what the
 * kernel needs while it decompresses (init_size). ramdisk_image is 32-bit:
 * below 4 GiB as well, so the ext_ramdisk fields stay zero.
 */
static int bz_place_initrd(const uint8_t *k, uint64_t ram_size, size_t isize,
			   struct bz_plan *p, char *err, size_t errlen)
{
	uint64_t limit = (uint64_t)rd32(k + INITRD_ADDR_MAX) + 1;

	p->initrd = 0;
	if (!isize)
		return 0;
	if (limit > ram_size)
		limit = ram_size;
	if (isize > limit || ((limit - isize) & ~(PAGE_SIZE - 1)) < p->end) {
		vmm_errf(err, errlen, "initrd of %llu KiB does not fit: the kernel ends at 0x%llx, the initrd must end below 0x%llx (%s); give the VM more memory",
			 (unsigned long long)(isize + 1023) / 1024, (unsigned long long)p->end,
			 (unsigned long long)limit, limit == ram_size ? "end of RAM" : "initrd_addr_max");
		return -ENOMEM;
	}
	p->initrd = (limit - isize) & ~(PAGE_SIZE - 1);
	return 0;
}

int linux_load(uint8_t *ram, uint64_t ram_size, const void *kernel, size_t ksize,
	       const void *initrd, size_t isize, const char *cmdline,
	       struct linux_boot *out, char *err, size_t errlen)
{
	const uint8_t *k = kernel;
	struct bz_plan p;
	uint8_t *bp = ram + LINUX_BOOT_PARAMS;
	uint32_t cmdline_size;
	int ret, n;

	if (!cmdline)
		cmdline = "";
	if (!initrd)
		isize = 0;
	ret = bz_check_header(k, ksize, &p, err, errlen);
	if (!ret)
		ret = bz_place_kernel(k, ram_size, &p, err, errlen);
	if (!ret)
		ret = bz_place_initrd(k, ram_size, isize, &p, err, errlen);
	if (ret)
		return ret;

	p.cmdline_len = vmm_strlen(cmdline);
	cmdline_size = rd32(k + CMDLINE_SIZE);
	if (p.cmdline_len > cmdline_size || p.cmdline_len >= LINUX_CMDLINE_MAX) {
		vmm_errf(err, errlen, "command line too long: %zu bytes, the kernel takes at most %u (cmdline_size)",
			 p.cmdline_len, cmdline_size < LINUX_CMDLINE_MAX ? cmdline_size : LINUX_CMDLINE_MAX - 1);
		return -E2BIG;
	}

	/* Invoke: nothing below can fail. */
	memcpy(ram + p.load, k + p.setup_size, p.pm_size);
	if (isize)
		memcpy(ram + p.initrd, initrd, isize);
	memcpy(ram + LINUX_CMDLINE, cmdline, p.cmdline_len + 1);

	/*
	 * The zero page: all zero, then the setup header as the file has it
	 * (boot.rst, 32-bit protocol), then the fields a loader fills in.
	 */
	memset(bp, 0, ZERO_PAGE_SIZE);
	memcpy(bp + HDR_START, k + HDR_START, p.hdr_len);
	bp[TYPE_OF_LOADER] = LOADER_UNDEFINED;
	wr32(bp + CODE32_START, (uint32_t)p.load);
	wr32(bp + CMD_LINE_PTR, LINUX_CMDLINE);
	wr32(bp + RAMDISK_IMAGE, (uint32_t)p.initrd);
	wr32(bp + RAMDISK_SIZE, (uint32_t)isize);
	n = linux_e820((struct e820_entry *)(bp + E820_TABLE), E820_MAX, ram_size);
	bp[E820_ENTRIES] = (uint8_t)n;

	out->entry = p.load;
	out->boot_params = LINUX_BOOT_PARAMS;
	out->kernel_start = p.load;
	out->kernel_end = p.end;
	out->initrd_start = p.initrd;
	out->initrd_size = isize;
	out->protocol = p.protocol;
	return 0;
}
