/*
 * bzImage loader: a synthetic image with the header fields at their real
 * offsets (Documentation/x86/boot.rst), and Debian's kernel when
 * scripts/guest-images.sh has fetched it into build/images (or $HV_IMAGES).
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
#include "vmm/bzimage.h"

#define MiB_ (1ull << 20)
#define RAM  (64 * MiB_)
#define PM   (64 * 1024)                /* protected-mode part of the synthetic image */

static uint8_t *ram;
static char err[256];
static struct linux_boot lb;

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* A bzImage as Linux 6.1's build makes it: protocol 2.15, relocatable to 16 MiB. */
struct image {
	uint8_t *data;
	size_t size;
};

static struct image img;

static void make_image(unsigned int setup_sects, size_t pm)
{
	unsigned int sects = setup_sects ? setup_sects : 4;
	size_t setup = (sects + 1) * 512;
	uint8_t *k;

	free(img.data);
	img.size = setup + pm;
	img.data = k = calloc(1, img.size);
	assert_non_null(k);
	memset(k + 0x270, 0xee, setup - 0x270); /* junk past the header: must not be copied */
	k[0x1f1] = (uint8_t)setup_sects;
	put32(k + 0x1f4, (uint32_t)(pm / 16)); /* syssize */
	put16(k + 0x1fe, 0xaa55);
	k[0x200] = 0xeb;                        /* jmp to 0x26c: the header ends there */
	k[0x201] = 0x6a;
	memcpy(k + 0x202, "HdrS", 4);
	put16(k + 0x206, 0x020f);
	k[0x211] = 0x01;                        /* LOADED_HIGH */
	put32(k + 0x214, 0x100000);             /* code32_start */
	put32(k + 0x22c, 0x7fffffff);           /* initrd_addr_max */
	put32(k + 0x230, 0x200000);             /* kernel_alignment */
	k[0x234] = 1;                           /* relocatable */
	put32(k + 0x238, 2047);                 /* cmdline_size */
	put64(k + 0x258, 0x1000000);            /* pref_address */
	put32(k + 0x260, 4 * MiB_);             /* init_size */
	put32(k + 0x268, 0x1234);               /* kernel_info_offset: last header field */
	for (size_t i = 0; i < pm; i++)
		k[setup + i] = (uint8_t)(i * 7 + 1);
}

static int setup(void **state)
{
	free(ram);
	ram = calloc(1, RAM);
	assert_non_null(ram);
	make_image(4, PM);
	memset(&lb, 0, sizeof(lb));
	err[0] = 0;
	return 0;
}

static int teardown(void **state)
{
	free(ram);
	free(img.data);
	ram = NULL;
	img.data = NULL;
	return 0;
}

static int load(const void *initrd, size_t isize, const char *cmdline)
{
	return linux_load(ram, RAM, img.data, img.size, initrd, isize, cmdline, &lb, err, sizeof(err));
}

static const uint8_t *bp(void) { return ram + LINUX_BOOT_PARAMS; }

static void check_e820(const uint8_t *p, uint64_t ram_size)
{
	const uint8_t *t = p + 0x2d0;

	assert_int_equal(p[0x1e8], 3);
	assert_int_equal(rd64(t), 0);
	assert_int_equal(rd64(t + 8), 0x9fc00);
	assert_int_equal(rd32(t + 16), E820_RAM);
	assert_int_equal(rd64(t + 20), 0x9fc00);
	assert_int_equal(rd64(t + 28), 0x100000 - 0x9fc00);
	assert_int_equal(rd32(t + 36), E820_RESERVED);
	assert_int_equal(rd64(t + 40), 0x100000);
	assert_int_equal(rd64(t + 48), ram_size - 0x100000);
	assert_int_equal(rd32(t + 56), E820_RAM);
	assert_int_equal(rd64(t + 60), 0);              /* nothing after */
}

static void test_load(void **state)
{
	static uint8_t initrd[100000];
	const uint8_t *p;
	uint64_t istart = (RAM - sizeof(initrd)) & ~4095ull;

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(load(initrd, sizeof(initrd), "console=ttyS0 acpi=off"), 0);
	assert_int_equal(lb.entry, 0x1000000);
	assert_int_equal(lb.kernel_start, 0x1000000);
	assert_int_equal(lb.kernel_end, 0x1000000 + 4 * MiB_);
	assert_int_equal(lb.boot_params, LINUX_BOOT_PARAMS);
	assert_int_equal(lb.protocol, 0x20f);
	assert_int_equal(lb.initrd_start, istart);
	assert_int_equal(lb.initrd_size, sizeof(initrd));
	assert_memory_equal(ram + 0x1000000, img.data + 5 * 512, PM);
	assert_memory_equal(ram + istart, initrd, sizeof(initrd));
	assert_string_equal((char *)ram + LINUX_CMDLINE, "console=ttyS0 acpi=off");

	p = bp();
	/* The setup header, as the file has it, through its end at 0x26c ... */
	assert_memory_equal(p + 0x202, "HdrS", 4);
	assert_int_equal(rd16(p + 0x206), 0x20f);
	assert_int_equal(p[0x1f1], 4);
	assert_int_equal(rd16(p + 0x1fe), 0xaa55);
	assert_int_equal(rd32(p + 0x260), 4 * MiB_);
	assert_int_equal(rd32(p + 0x268), 0x1234);
	/* ... and not a byte past it. */
	for (int i = 0x26c; i < 0x290; i++)
		assert_int_equal(p[i], 0);
	/* Loader fields. */
	assert_int_equal(p[0x210], 0xff);               /* type_of_loader */
	assert_int_equal(rd32(p + 0x228), LINUX_CMDLINE);
	assert_int_equal(rd32(p + 0x218), istart);
	assert_int_equal(rd32(p + 0x21c), sizeof(initrd));
	assert_int_equal(rd32(p + 0x214), 0x1000000);   /* code32_start */
	assert_int_equal(rd32(p + 0x0c0), 0);           /* ext_ramdisk_image */
	assert_int_equal(rd32(p + 0x0c4), 0);           /* ext_ramdisk_size */
	assert_int_equal(rd32(p + 0x0c8), 0);           /* ext_cmd_line_ptr */
	check_e820(p, RAM);
	/* Nothing below 1 MiB but the zero page and the command line. */
	for (size_t i = 0; i < 0x100000; i++)
		if (i < LINUX_BOOT_PARAMS || (i >= LINUX_BOOT_PARAMS + 4096 && i < LINUX_CMDLINE) ||
		    i >= LINUX_CMDLINE + 64)
			assert_int_equal(ram[i], 0);
}

static void test_no_initrd_no_cmdline(void **state)
{
	assert_int_equal(load(NULL, 0, NULL), 0);
	assert_int_equal(lb.initrd_start, 0);
	assert_int_equal(lb.initrd_size, 0);
	assert_int_equal(rd32(bp() + 0x218), 0);
	assert_int_equal(rd32(bp() + 0x21c), 0);
	assert_string_equal((char *)ram + LINUX_CMDLINE, "");
	/* A size without data is no initrd either. */
	assert_int_equal(load(NULL, 4096, ""), 0);
	assert_int_equal(lb.initrd_size, 0);
}

/* setup_sects 0 means 4 (boot.rst). */
static void test_setup_sects_zero(void **state)
{
	make_image(0, PM);
	assert_int_equal(load(NULL, 0, ""), 0);
	assert_memory_equal(ram + 0x1000000, img.data + 5 * 512, PM);
	make_image(30, PM);
	assert_int_equal(load(NULL, 0, ""), 0);
	assert_memory_equal(ram + 0x1000000, img.data + 31 * 512, PM);
}

/* The initrd stays below initrd_addr_max and the kernel's init_size end. */
static void test_initrd_addr_max(void **state)
{
	static uint8_t initrd[8192 + 1];

	put32(img.data + 0x22c, 0x02ffffff);    /* 48 MiB - 1 */
	assert_int_equal(load(initrd, sizeof(initrd), ""), 0);
	assert_int_equal(lb.initrd_start, 0x3000000 - 3 * 4096);
	assert_true(lb.initrd_start + sizeof(initrd) <= 0x3000000);
	/* Exactly enough room between init_size's end (20 MiB) and the limit. */
	put32(img.data + 0x22c, 0x1400000 + 8192 - 1);
	assert_int_equal(load(initrd, 8192, ""), 0);
	assert_int_equal(lb.initrd_start, 0x1400000);
	assert_int_equal(load(initrd, 8193, ""), -ENOMEM);
	assert_non_null(strstr(err, "initrd_addr_max"));
}

/* Not relocatable: loaded at code32_start (1 MiB), it runs at pref_address. */
static void test_not_relocatable(void **state)
{
	img.data[0x234] = 0;
	assert_int_equal(load(NULL, 0, ""), 0);
	assert_int_equal(lb.entry, 0x100000);
	assert_int_equal(lb.kernel_start, 0x100000);
	assert_int_equal(lb.kernel_end, 0x1000000 + 4 * MiB_);
	assert_memory_equal(ram + 0x100000, img.data + 5 * 512, PM);
}

/* pref_address is aligned up to kernel_alignment; below 1 MiB it is raised. */
static void test_alignment(void **state)
{
	put64(img.data + 0x258, 0x1100000);
	assert_int_equal(load(NULL, 0, ""), 0);
	assert_int_equal(lb.entry, 0x1200000);
	put64(img.data + 0x258, 0);
	assert_int_equal(load(NULL, 0, ""), 0);
	assert_int_equal(lb.entry, 0x200000);
	put32(img.data + 0x230, 0x3000);
	assert_int_equal(load(NULL, 0, ""), -EINVAL);
	assert_non_null(strstr(err, "kernel_alignment"));
}

/* 2.06 - 2.09: no pref_address, no init_size. */
static void test_protocol_2_06(void **state)
{
	put16(img.data + 0x206, 0x0206);
	assert_int_equal(load(NULL, 0, ""), 0);
	assert_int_equal(lb.protocol, 0x206);
	assert_int_equal(lb.entry, 0x200000);           /* 1 MiB, aligned to 2 MiB */
	assert_int_equal(lb.kernel_end, 0x200000 + PM);
}

static void test_cmdline_limit(void **state)
{
	char line[2049];

	memset(line, 'a', sizeof(line) - 1);
	line[2047] = 0;
	assert_int_equal(load(NULL, 0, line), 0);       /* 2047 is cmdline_size: fits */
	assert_int_equal(strlen((char *)ram + LINUX_CMDLINE), 2047);
	line[2047] = 'a';
	line[2048] = 0;
	assert_int_equal(load(NULL, 0, line), -E2BIG);
	assert_non_null(strstr(err, "command line too long: 2048 bytes"));
	assert_non_null(strstr(err, "at most 2047"));
}

/* Each refusal has its errno and a message, and writes nothing. */
static void test_refusals(void **state)
{
	static uint8_t initrd[64];
	struct image good = img;
	uint8_t *copy = malloc(img.size);

	assert_non_null(copy);
#define REFUSED(ret, what) do {                                                   \
		memcpy(copy, good.data, good.size);                               \
		what;                                                             \
		assert_int_equal(linux_load(ram, ram_size, copy, size, initrd, isize, \
					    "x", &lb, err, sizeof(err)), ret);    \
		assert_true(err[0]);                                              \
	} while (0)
	uint64_t ram_size = RAM;
	size_t size = good.size, isize = 0;

	REFUSED(-EINVAL, size = 1000);
	assert_non_null(strstr(err, "too short"));
	REFUSED(-EINVAL, size = good.size - 1);         /* one byte short of syssize */
	assert_non_null(strstr(err, "truncated"));
	size = good.size;
	REFUSED(-EINVAL, size = 5 * 512);               /* setup only */
	assert_non_null(strstr(err, "truncated"));
	size = good.size;
	REFUSED(-EINVAL, copy[0x202] = 'X');
	assert_string_equal(err, "not a bzImage: no HdrS signature at 0x202");
	REFUSED(-EOPNOTSUPP, put16(copy + 0x206, 0x0205));
	assert_non_null(strstr(err, "2.05 is too old"));
	REFUSED(-EOPNOTSUPP, copy[0x211] = 0);
	assert_non_null(strstr(err, "zImage"));
	REFUSED(-EINVAL, (copy[0x234] = 0, put32(copy + 0x214, 0x10000)));
	assert_non_null(strstr(err, "below 1 MiB"));
	REFUSED(-ENOMEM, ram_size = 20 * MiB_ - 1);
	assert_string_equal(err, "kernel too large for the VM's memory: it needs 4 MiB (init_size) from 16 MiB, the VM has 19 MiB");
	REFUSED(-ENOMEM, ram_size = 8 * MiB_);
	REFUSED(-ENOMEM, put64(copy + 0x258, ~0ull - 4095));   /* absurd pref_address */
	ram_size = RAM;
	REFUSED(-ENOMEM, isize = RAM);
	assert_non_null(strstr(err, "initrd of 65536 KiB does not fit"));
	/* Room for the kernel but not for an initrd after its init_size. */
	REFUSED(-ENOMEM, (ram_size = 20 * MiB_, isize = 1));
	assert_non_null(strstr(err, "end of RAM"));
	ram_size = RAM;
	isize = 0;
	REFUSED(-E2BIG, put32(copy + 0x238, 0));
#undef REFUSED
	for (size_t i = 0; i < RAM; i++)
		if (ram[i])
			fail_msg("refused loads wrote ram[0x%zx]", i);
	free(copy);
}

static void test_e820(void **state)
{
	struct e820_entry t[4];

	assert_int_equal(linux_e820(t, 4, 512 * 1024), 0);
	assert_int_equal(linux_e820(t, 4, 1 * MiB_), 2);
	assert_int_equal(t[1].addr + t[1].size, 0x100000);
	assert_int_equal(t[1].type, E820_RESERVED);
	assert_int_equal(linux_e820(t, 4, 6ull << 30), 3);
	assert_int_equal(t[2].addr, 0x100000);
	assert_int_equal(t[2].size, (6ull << 30) - 0x100000);
	assert_int_equal(linux_e820(t, 1, RAM), 1);
	assert_int_equal(sizeof(struct e820_entry), 20);
}

static void test_errf(void **state)
{
	char b[64];

	vmm_errf(b, sizeof(b), "%s %u %x %d %llx %zu %lu %c%%", "ab", 42u, 0xbeefu, -7,
		 0x123456789ull, (size_t)99, 5ul, 'z');
	assert_string_equal(b, "ab 42 beef -7 123456789 99 5 z%");
	vmm_errf(b, 6, "%s", "truncated");
	assert_string_equal(b, "trunc");
	vmm_errf(b, sizeof(b), "%d|%u|%x|%02u|%04llx|%02u", 0, 0u, 0u, 6u, 0xabull, 123u);
	assert_string_equal(b, "0|0|0|06|00ab|123");
	vmm_errf(NULL, 0, "nothing %s", "at all");
}

/* ---------------------------------------------------------------- Debian's kernel */

static void *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc(n ? n : 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, n, f), (size_t)n);
	fclose(f);
	*size = n;
	return data;
}

static void test_debian_kernel(void **state)
{
	const char *dir = getenv("HV_IMAGES") ? getenv("HV_IMAGES") : "build/images";
	char path[512];
	size_t ksize, isize = 0;
	uint8_t *k, *initrd, *big;
	uint64_t big_size = 256 * MiB_;
	uint32_t init_size;
	const uint8_t *p;

	snprintf(path, sizeof(path), "%s/vmlinuz", dir);
	k = read_file(path, &ksize);
	if (!k) {
		printf("[ SKIPPED  ] %s absent: run scripts/guest-images.sh %s\n", path, dir);
		return;
	}
	snprintf(path, sizeof(path), "%s/initramfs.cpio.gz", dir);
	initrd = read_file(path, &isize);
	big = calloc(1, big_size);
	assert_non_null(big);

	assert_int_equal(linux_load(big, big_size, k, ksize, initrd, isize,
				    "console=ttyS0 acpi=off", &lb, err, sizeof(err)), 0);
	printf("           Debian kernel: protocol %u.%02u, %zu bytes, load 0x%llx, init_size %llu MiB\n",
	       lb.protocol >> 8, lb.protocol & 0xff, ksize, (unsigned long long)lb.kernel_start,
	       (unsigned long long)((lb.kernel_end - lb.kernel_start) >> 20));
	assert_true(lb.protocol >= 0x20f);
	assert_int_equal(lb.entry, 0x1000000);          /* CONFIG_PHYSICAL_START */
	p = big + LINUX_BOOT_PARAMS;
	init_size = rd32(p + 0x260);
	assert_true(init_size > 16 * MiB_);
	assert_int_equal(lb.kernel_end, 0x1000000 + init_size);
	assert_int_equal(p[0x210], 0xff);
	assert_int_equal(rd32(p + 0x228), LINUX_CMDLINE);
	assert_memory_equal(p + 0x202, "HdrS", 4);
	assert_int_equal(p[0x211] & 1, 1);
	assert_int_equal(p[0x234], 1);
	check_e820(p, big_size);
	{
		unsigned int sects = k[0x1f1] ? k[0x1f1] : 4;

		assert_memory_equal(big + 0x1000000, k + (sects + 1) * 512, ksize - (sects + 1) * 512);
	}
	if (initrd) {
		assert_int_equal(lb.initrd_start, (big_size - isize) & ~4095ull);
		assert_int_equal(rd32(p + 0x218), lb.initrd_start);
		assert_int_equal(rd32(p + 0x21c), isize);
		assert_memory_equal(big + lb.initrd_start, initrd, isize);
	}

	/* 32 MiB is too small for it: the message says why. */
	memset(big, 0, big_size);
	assert_int_equal(linux_load(big, 32 * MiB_, k, ksize, NULL, 0, "", &lb, err, sizeof(err)), -ENOMEM);
	printf("           32 MiB: %s\n", err);
	assert_non_null(strstr(err, "(init_size) from 16 MiB, the VM has 32 MiB"));
	free(big);
	free(initrd);
	free(k);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_load),
		T(test_no_initrd_no_cmdline),
		T(test_setup_sects_zero),
		T(test_initrd_addr_max),
		T(test_not_relocatable),
		T(test_alignment),
		T(test_protocol_2_06),
		T(test_cmdline_limit),
		T(test_refusals),
		T(test_e820),
		T(test_errf),
		T(test_debian_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
