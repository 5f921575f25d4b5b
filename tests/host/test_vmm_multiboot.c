/*
 * Multiboot (version 1) loader: ELF32, ELF64 and a.out-kludge kernels built
 * here, the multiboot information read back as a kernel would, and every
 * refusal. When tests/guest/mbkernel.S has been built into
 * build/guest/mbkernel.elf, that is loaded too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/errno.h"
#include "vmm/multiboot.h"

#define RAM      (32u << 20)
#define IMG_MAX  (64 * 1024)
#define HDR_OFF  0x200                  /* where the builders put the multiboot header */

static uint8_t *ram;
static uint8_t img[IMG_MAX];
static size_t img_size;
static char err[256];
static struct mb_boot mb;

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static int setup(void **state)
{
	free(ram);
	ram = malloc(RAM);
	assert_non_null(ram);
	memset(ram, 0xcc, RAM);         /* so that bss zeroing shows */
	memset(img, 0, sizeof(img));
	memset(&mb, 0, sizeof(mb));
	err[0] = 0;
	return 0;
}

static int teardown(void **state)
{
	free(ram);
	ram = NULL;
	return 0;
}

static void mb_header(size_t off, uint32_t flags)
{
	put32(img + off, MB_HEADER_MAGIC);
	put32(img + off + 4, flags);
	put32(img + off + 8, -(MB_HEADER_MAGIC + flags));
}

struct seg {
	uint64_t vaddr, paddr, filesz, memsz;
};

/* The segment data: byte j of segment i is (i * 16 + j) & 0xff, never 0 or 0xcc at j 0. */
static uint8_t seg_byte(int i, size_t j) { return (uint8_t)(i * 16 + j + 1); }

/*
 * An ELF executable: header, program headers, the multiboot header at
 * HDR_OFF, then each segment's file bytes from 0x1000 on.
 */
static void build_elf(bool is64, const struct seg *s, int n, uint64_t entry, uint32_t mbflags)
{
	size_t eh = is64 ? 64 : 52, ph = is64 ? 56 : 32, off = 0x1000;

	memcpy(img, "\177ELF", 4);
	img[4] = is64 ? 2 : 1;
	img[5] = 1;                     /* little-endian */
	img[6] = 1;
	put16(img + 16, 2);             /* ET_EXEC */
	put16(img + 18, is64 ? 62 : 3);
	put32(img + 20, 1);
	if (is64) {
		put64(img + 24, entry);
		put64(img + 32, eh);    /* e_phoff */
		put16(img + 52, (uint16_t)eh);
		put16(img + 54, (uint16_t)ph);
		put16(img + 56, (uint16_t)n);
	} else {
		put32(img + 24, (uint32_t)entry);
		put32(img + 28, (uint32_t)eh);
		put16(img + 40, (uint16_t)eh);
		put16(img + 42, (uint16_t)ph);
		put16(img + 44, (uint16_t)n);
	}
	for (int i = 0; i < n; i++) {
		uint8_t *p = img + eh + i * ph;

		put32(p, 1);            /* PT_LOAD */
		if (is64) {
			put64(p + 8, off);
			put64(p + 16, s[i].vaddr);
			put64(p + 24, s[i].paddr);
			put64(p + 32, s[i].filesz);
			put64(p + 40, s[i].memsz);
		} else {
			put32(p + 4, (uint32_t)off);
			put32(p + 8, (uint32_t)s[i].vaddr);
			put32(p + 12, (uint32_t)s[i].paddr);
			put32(p + 16, (uint32_t)s[i].filesz);
			put32(p + 20, (uint32_t)s[i].memsz);
		}
		assert_true(off + s[i].filesz <= IMG_MAX);
		for (size_t j = 0; j < s[i].filesz; j++)
			img[off + j] = seg_byte(i, j);
		off += (s[i].filesz + 15) & ~15ull;
	}
	mb_header(HDR_OFF, mbflags);
	img_size = off;
}

/*
 * An a.out-kludge image: the file is loaded from offset 0 at 1 MiB, the
 * header at file offset 0x40 (so header_addr 0x100040), 0x3000 bytes of
 * image and 0x2000 of bss.
 */
static void build_aout(uint32_t load_end, uint32_t bss_end)
{
	img_size = 0x3000;
	for (size_t j = 0; j < img_size; j++)
		img[j] = seg_byte(0, j);
	mb_header(0x40, 0x10003);
	put32(img + 0x4c, 0x100040);    /* header_addr */
	put32(img + 0x50, 0x100000);    /* load_addr */
	put32(img + 0x54, load_end);
	put32(img + 0x58, bss_end);
	put32(img + 0x5c, 0x100100);    /* entry_addr */
}

static int load(const char *cmdline, const struct mb_module *mods, unsigned int n)
{
	return mb_load(ram, RAM, img, img_size, cmdline, mods, n, &mb, err, sizeof(err));
}

static const uint8_t *mbi(void) { return ram + mb.mbi; }

/* The fixed parts of the mbi every load gives. */
static void check_mbi_common(uint64_t ram_size)
{
	const uint8_t *i = mbi();
	const uint8_t *m;

	assert_int_equal(mb.mbi, MB_INFO_ADDR);
	assert_int_equal(rd32(i + MBI_FLAGS), MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS |
			 MB_INFO_MMAP | MB_INFO_LOADER_NAME);
	assert_int_equal(rd32(i + MBI_MEM_LOWER), 639);
	assert_int_equal(rd32(i + MBI_MEM_UPPER), (ram_size - (1u << 20)) / 1024);
	assert_string_equal((char *)ram + rd32(i + MBI_LOADER_NAME), "hv vmm");

	/* The memory map: size (20), base, length, type; mmap_addr at the first size. */
	assert_int_equal(rd32(i + MBI_MMAP_LENGTH), 3 * 24);
	m = ram + rd32(i + MBI_MMAP_ADDR);
	assert_int_equal(rd32(m), 20);
	assert_int_equal(rd64(m + 4), 0);
	assert_int_equal(rd64(m + 12), 0x9fc00);
	assert_int_equal(rd32(m + 20), 1);
	assert_int_equal(rd32(m + 24), 20);
	assert_int_equal(rd64(m + 28), 0x9fc00);
	assert_int_equal(rd64(m + 36), 0x100000 - 0x9fc00);
	assert_int_equal(rd32(m + 44), 2);
	assert_int_equal(rd64(m + 52), 0x100000);
	assert_int_equal(rd64(m + 60), ram_size - 0x100000);
	assert_int_equal(rd32(m + 68), 1);
	/* Unused fields stay zero: boot_device, syms, drives, config, apm, vbe. */
	assert_int_equal(rd32(i + 12), 0);
	for (int off = 28; off < 44; off += 4)
		assert_int_equal(rd32(i + off), 0);
	for (int off = 52; off < 64; off += 4)
		assert_int_equal(rd32(i + off), 0);
	for (int off = 68; off < MBI_SIZE; off++)
		assert_int_equal(i[off], 0);
}

static void check_seg(int idx, uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	for (size_t j = 0; j < filesz; j++)
		assert_int_equal(ram[paddr + j], seg_byte(idx, j));
	for (size_t j = filesz; j < memsz; j++)
		assert_int_equal(ram[paddr + j], 0);    /* bss */
	assert_int_equal(ram[paddr + memsz], 0xcc);     /* and not a byte more */
}

/* The a.out image: file bytes from file_off at 1 MiB, then bss. */
static void check_aout(size_t file_off, uint64_t filesz, uint64_t memsz)
{
	assert_memory_equal(ram + 0x100000, img + file_off, filesz);
	for (size_t j = filesz; j < memsz; j++)
		assert_int_equal(ram[0x100000 + j], 0);
	assert_int_equal(ram[0x100000 + memsz], 0xcc);
}

static void test_elf32(void **state)
{
	static const uint8_t mod0[] = "module zero\nline two\n";
	static uint8_t mod1[5000];
	const struct seg s[2] = {
		{ 0x100000, 0x100000, 0x300, 0x300 },
		{ 0x102000, 0x102000, 0x100, 0x1234 },  /* bss to 0x103234 */
	};
	const struct mb_module mods[2] = {
		{ mod0, sizeof(mod0) - 1, "mod0 a=1" },
		{ mod1, sizeof(mod1), NULL },
	};
	const uint8_t *i, *e;

	memset(mod1, 0x77, sizeof(mod1));
	build_elf(false, s, 2, 0x100010, 0x3);
	assert_int_equal(load("/boot/kernel arg=1", mods, 2), 0);
	assert_int_equal(mb.entry, 0x100010);
	assert_string_equal(mb.warning, "");
	check_seg(0, 0x100000, 0x300, 0x300);
	check_seg(1, 0x102000, 0x100, 0x1234);
	check_mbi_common(RAM);

	i = mbi();
	assert_string_equal((char *)ram + rd32(i + MBI_CMDLINE), "/boot/kernel arg=1");
	assert_int_equal(rd32(i + MBI_MODS_COUNT), 2);
	e = ram + rd32(i + MBI_MODS_ADDR);
	/* Module 0 on the first page after the kernel's bss, module 1 on the next boundary. */
	assert_int_equal(rd32(e), 0x104000);
	assert_int_equal(rd32(e + 4), 0x104000 + sizeof(mod0) - 1);
	assert_string_equal((char *)ram + rd32(e + 8), "mod0 a=1");
	assert_int_equal(rd32(e + 12), 0);
	assert_memory_equal(ram + 0x104000, mod0, sizeof(mod0) - 1);
	assert_int_equal(rd32(e + 16), 0x105000);
	assert_int_equal(rd32(e + 20), 0x105000 + sizeof(mod1));
	assert_string_equal((char *)ram + rd32(e + 24), "");
	assert_memory_equal(ram + 0x105000, mod1, sizeof(mod1));
	/* Everything the mbi uses lies in its area. */
	assert_true(rd32(e + 24) < MB_INFO_END);
}

/* ELF64 linked high: loaded at p_paddr, the entry translated to its physical address. */
static void test_elf64_high(void **state)
{
	const struct seg s[1] = {
		{ 0xffffffff80200000ull, 0x200000, 0x800, 0x1000 },
	};

	build_elf(true, s, 1, 0xffffffff80200040ull, 0x2);
	assert_int_equal(load(NULL, NULL, 0), 0);
	assert_int_equal(mb.entry, 0x200040);
	check_seg(0, 0x200000, 0x800, 0x1000);
	check_mbi_common(RAM);
	assert_string_equal((char *)ram + rd32(mbi() + MBI_CMDLINE), "");
	assert_int_equal(rd32(mbi() + MBI_MODS_COUNT), 0);
}

/* ELF64 identity-linked below 4 GiB: the entry as it is. */
static void test_elf64_low(void **state)
{
	const struct seg s[1] = { { 0x100000, 0x100000, 0x40, 0x40 } };

	build_elf(true, s, 1, 0x100000, 0);
	assert_int_equal(load("", NULL, 0), 0);
	assert_int_equal(mb.entry, 0x100000);
	/* Entry outside every segment and above 4 GiB: unreachable in 32-bit mode. */
	build_elf(true, s, 1, 0x100000000ull, 0);
	assert_int_equal(load("", NULL, 0), -EOPNOTSUPP);
	assert_non_null(strstr(err, "above 4 GiB"));
}

static void test_aout_kludge(void **state)
{
	static const uint8_t m[] = "abc";
	const struct mb_module mod = { m, 3, "m" };

	build_aout(0x103000, 0x105000);
	assert_int_equal(load("k", NULL, 0), 0);
	assert_int_equal(mb.entry, 0x100100);
	check_aout(0, 0x3000, 0x5000);
	check_mbi_common(RAM);
	assert_int_equal(load("k", &mod, 1), 0);
	assert_int_equal(rd32(ram + rd32(mbi() + MBI_MODS_ADDR)), 0x105000);

	/* load_end_addr 0: the whole file; bss_end_addr 0: no bss. */
	memset(ram, 0xcc, RAM);
	build_aout(0, 0);
	assert_int_equal(load("k", NULL, 0), 0);
	check_aout(0, 0x3000, 0x3000);

	/* Only part of the file, the image starting after the file's start. */
	memset(ram, 0xcc, RAM);
	build_aout(0x101000, 0);
	put32(img + 0x4c, 0x100020);    /* header 0x20 into the image: image from file offset 0x20 */
	assert_int_equal(load("k", NULL, 0), 0);
	check_aout(0x20, 0x1000, 0x1000);
}

/* A kernel that wants a video mode still boots, with a warning. */
static void test_video_warning(void **state)
{
	const struct seg s[1] = { { 0x100000, 0x100000, 0x40, 0x40 } };

	build_elf(false, s, 1, 0x100000, 0x7);
	assert_int_equal(load("", NULL, 0), 0);
	assert_non_null(strstr(mb.warning, "video mode"));
	/* Optional bits (16-31, other than the kludge) are ignored. */
	build_elf(false, s, 1, 0x100000, 0x3 | (1u << 20));
	assert_int_equal(load("", NULL, 0), 0);
	assert_string_equal(mb.warning, "");
}

/* The header anywhere 4-aligned in the first 8 KiB, and nowhere else. */
static void test_header_search(void **state)
{
	const struct seg s[1] = { { 0x100000, 0x100000, 0x40, 0x40 } };

	build_elf(false, s, 1, 0x100000, 0);
	img_size = 12288;                       /* the file goes on past 8 KiB */
	memset(img + HDR_OFF, 0, 12);
	mb_header(8192 - 12, 0);
	assert_int_equal(load("", NULL, 0), 0);
	memset(img + 8192 - 12, 0, 12);
	mb_header(8192 - 8, 0);                 /* straddles the 8 KiB boundary */
	assert_int_equal(load("", NULL, 0), -EINVAL);
	assert_non_null(strstr(err, "no header"));
	memset(img + 8192 - 8, 0, 12);
	mb_header(HDR_OFF + 2, 0);              /* misaligned */
	assert_int_equal(load("", NULL, 0), -EINVAL);
	memset(img + HDR_OFF + 2, 0, 12);
	mb_header(HDR_OFF, 0);
	put32(img + HDR_OFF + 8, 0);            /* bad checksum */
	assert_int_equal(load("", NULL, 0), -EINVAL);
	/* A header in a file shorter than the header: not found, no overread. */
	assert_int_equal(mb_load(ram, RAM, img, 8, "", NULL, 0, &mb, err, sizeof(err)), -EINVAL);
}

static void test_many_modules(void **state)
{
	static uint8_t data[10];
	struct mb_module mods[100];
	const uint8_t *e;

	for (int i = 0; i < 100; i++)
		mods[i] = (struct mb_module){ data, i % 3 ? sizeof(data) : 0, "name" };
	build_aout(0, 0);
	assert_int_equal(load("", mods, 100), 0);
	e = ram + rd32(mbi() + MBI_MODS_ADDR);
	for (int i = 1; i < 100; i++) {
		assert_int_equal(rd32(e + 16 * i) & 4095, 0);
		assert_true(rd32(e + 16 * i) >= rd32(e + 16 * (i - 1) + 4));
		assert_string_equal((char *)ram + rd32(e + 16 * i + 8), "name");
	}
}

/* Each refusal: its errno, a message, and RAM untouched. */
static void test_refusals(void **state)
{
	static uint8_t big[1];
	struct seg s[3] = { { 0x100000, 0x100000, 0x40, 0x40 } };
	struct mb_module mod = { big, RAM, NULL };
	struct mb_module *many;

#define REFUSED(ret, needle, call) do {                                         \
		err[0] = 0;                                                     \
		assert_int_equal(call, ret);                                    \
		if (!strstr(err, needle))                                       \
			fail_msg("message \"%s\" lacks \"%s\"", err, needle);   \
	} while (0)

	memset(img, 0x90, 4096);
	img_size = 4096;
	REFUSED(-EINVAL, "no header", load("", NULL, 0));

	build_elf(false, s, 1, 0x100000, 0x8);  /* required bit 3 */
	REFUSED(-EOPNOTSUPP, "feature bit 3", load("", NULL, 0));
	build_elf(false, s, 1, 0x100000, 0x8000);
	REFUSED(-EOPNOTSUPP, "feature bit 15", load("", NULL, 0));

	build_elf(false, s, 1, 0x100000, 0);
	img[0] = 0;                             /* not ELF, no kludge */
	REFUSED(-EINVAL, "a.out kludge", load("", NULL, 0));
	build_elf(false, s, 1, 0x100000, 0);
	put16(img + 18, 40);                    /* EM_ARM */
	REFUSED(-EINVAL, "machine 40", load("", NULL, 0));
	build_elf(true, s, 1, 0x100000, 0);
	put16(img + 18, 3);                     /* ELF64 claiming i386 */
	REFUSED(-EINVAL, "not a little-endian x86", load("", NULL, 0));
	build_elf(false, s, 1, 0x100000, 0);
	put16(img + 16, 3);                     /* ET_DYN */
	REFUSED(-EINVAL, "type 3", load("", NULL, 0));
	build_elf(false, s, 1, 0x100000, 0);
	put16(img + 44, 2000);                  /* phnum past the file */
	REFUSED(-EINVAL, "program header table", load("", NULL, 0));
	build_elf(false, s, 1, 0x100000, 0);
	put32(img + 52, 0);                     /* PT_NULL only */
	REFUSED(-EINVAL, "no loadable", load("", NULL, 0));
	build_elf(false, s, 1, 0x100000, 0);
	img_size -= 1;                          /* segment data past the end */
	REFUSED(-EINVAL, "bad ELF segment 0", load("", NULL, 0));
	s[0].filesz = 0x80;                     /* filesz > memsz */
	build_elf(false, s, 1, 0x100000, 0);
	REFUSED(-EINVAL, "bad ELF segment 0", load("", NULL, 0));
	s[0].filesz = 0x40;

	s[1] = (struct seg){ 0x100020, 0x100020, 0x40, 0x40 };
	build_elf(false, s, 2, 0x100000, 0);
	REFUSED(-EINVAL, "segments 0 and 1 overlap", load("", NULL, 0));
	s[1] = (struct seg){ 0x10000, 0x10000, 0x40, 0x40 };
	build_elf(false, s, 2, 0x100000, 0);
	REFUSED(-EINVAL, "overlaps the multiboot information", load("", NULL, 0));
	s[1] = (struct seg){ 0x9f000, 0x9f000, 0x40, 0x1000 };
	build_elf(false, s, 2, 0x100000, 0);
	REFUSED(-EINVAL, "reserved EBDA/ROM area", load("", NULL, 0));
	s[1] = (struct seg){ RAM - 0x20, RAM - 0x20, 0x40, 0x40 };
	build_elf(false, s, 2, 0x100000, 0);
	REFUSED(-ENOMEM, "does not fit in the VM's memory", load("", NULL, 0));
	s[1] = (struct seg){ 0, 0x100000000ull, 0x40, 0x40 };
	build_elf(true, s, 2, 0x100000, 0);
	REFUSED(-ENOMEM, "does not fit", load("", NULL, 0));
	s[1] = (struct seg){ 0, 0xffffffffffffffc0ull, 0x10, 0x80 };   /* wraps */
	build_elf(true, s, 2, 0x100000, 0);
	REFUSED(-ENOMEM, "does not fit", load("", NULL, 0));

	build_elf(false, s, 1, 0x100000, 0);
	REFUSED(-ENOMEM, "module 0", load("", &mod, 1));
	many = calloc(40000, sizeof(*many));
	assert_non_null(many);
	REFUSED(-ENOMEM, "40000 modules", load("", many, 40000));
	{
		static char longline[0x90000];

		memset(longline, 'x', sizeof(longline) - 1);
		REFUSED(-ENOMEM, "does not fit in 0x10000-0x9fc00", load(longline, NULL, 0));
	}
	free(many);
	REFUSED(-ENOMEM, "need more than 1 MiB",
		mb_load(ram, 0xfffff, img, img_size, "", NULL, 0, &mb, err, sizeof(err)));

	/* a.out kludge */
	build_aout(0x103000, 0x105000);
	put32(img + 0x50, 0x100080);            /* load_addr above header_addr */
	REFUSED(-EINVAL, "header_addr", load("", NULL, 0));
	build_aout(0x103000, 0x105000);
	put32(img + 0x4c, 0x100080);            /* would start before the file */
	REFUSED(-EINVAL, "before the file's start", load("", NULL, 0));
	build_aout(0xff000, 0);
	REFUSED(-EINVAL, "below load_addr", load("", NULL, 0));
	build_aout(0x104000, 0);
	REFUSED(-EINVAL, "past the end of the file", load("", NULL, 0));
	build_aout(0x103000, 0x102000);
	REFUSED(-EINVAL, "bss_end_addr", load("", NULL, 0));
	build_aout(0, 0);
	REFUSED(-EINVAL, "truncated", mb_load(ram, RAM, img, 0x50, "", NULL, 0, &mb, err, sizeof(err)));
	build_aout(0, 0);
	put32(img + 0x50, 0xa0000);
	put32(img + 0x4c, 0xa0040);
	REFUSED(-EINVAL, "reserved", load("", NULL, 0));
#undef REFUSED

	for (size_t i = 0; i < RAM; i++)
		if (ram[i] != 0xcc)
			fail_msg("a refused load wrote ram[0x%zx]", i);
}

/* The project's own test kernel, when it has been built. */
static void test_mbkernel(void **state)
{
	static const char mod[] = "hello module\nrest";
	const struct mb_module m = { mod, sizeof(mod) - 1, "mod" };
	const char *path = "build/guest/mbkernel.elf";
	FILE *f = fopen(path, "rb");

	if (!f) {
		printf("[ SKIPPED  ] %s absent (see the build commands in tests/guest/mbkernel.S)\n", path);
		return;
	}
	img_size = fread(img, 1, sizeof(img), f);
	fclose(f);
	assert_int_equal(load("mbkernel test", &m, 1), 0);
	assert_true(mb.entry >= 0x100000 && mb.entry < 0x101000);
	assert_string_equal(mb.warning, "");
	check_mbi_common(RAM);
	assert_int_equal(rd32(ram + rd32(mbi() + MBI_MODS_ADDR)) & 4095, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_elf32),
		T(test_elf64_high),
		T(test_elf64_low),
		T(test_aout_kludge),
		T(test_video_warning),
		T(test_header_search),
		T(test_many_modules),
		T(test_refusals),
		T(test_mbkernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
