/* Multiboot2 boot information parser: well-formed and malformed blobs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "hv/errno.h"
#include "hv/mb2.h"
#include "host_stubs.h"

/* ---------------------------------------------------------------- builder */

#define BLOB_MAX (64 * 1024)

struct blob {
	uint64_t words[BLOB_MAX / 8];   /* 8-byte aligned, as the spec requires */
	uint32_t len;
};

static uint8_t *blob_bytes(struct blob *b)
{
	return (uint8_t *)b->words;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void blob_init(struct blob *b)
{
	memset(b, 0, sizeof(*b));
	b->len = 8;                     /* total_size, reserved */
}

/* Append a tag with `plen` payload bytes; returns the payload. */
static uint8_t *blob_tag(struct blob *b, uint32_t type, uint32_t plen)
{
	uint8_t *t = blob_bytes(b) + b->len;

	assert_true(b->len + 8 + plen + 8 <= BLOB_MAX);
	put32(t, type);
	put32(t + 4, 8 + plen);
	b->len += (8 + plen + 7) & ~7u;
	return t + 8;
}

static void blob_add(struct blob *b, uint32_t type, const void *p, uint32_t plen)
{
	uint8_t *dst = blob_tag(b, type, plen);

	if (plen)
		memcpy(dst, p, plen);
}

static void blob_str(struct blob *b, uint32_t type, const char *s)
{
	blob_add(b, type, s, (uint32_t)strlen(s) + 1);
}

static void blob_fix_total(struct blob *b)
{
	put32(blob_bytes(b), b->len);
}

static void blob_end(struct blob *b)
{
	blob_tag(b, MB2_TAG_END, 0);
	blob_fix_total(b);
}

static void blob_mmap(struct blob *b, const struct mb2_mmap_entry *e, uint32_t n,
		      uint32_t esize)
{
	uint8_t *p = blob_tag(b, MB2_TAG_MMAP, 8 + n * esize);
	uint32_t i;

	put32(p, esize);
	put32(p + 4, 0);
	for (i = 0; i < n; i++) {
		memset(p + 8 + i * esize, 0xAB, esize);
		memcpy(p + 8 + i * esize, &e[i], sizeof(e[i]));
	}
}

static const struct mb2_mmap_entry std_map[] = {
	{ 0x0, 0x9fc00, MB2_MMAP_AVAILABLE, 0 },
	{ 0x9fc00, 0x400, MB2_MMAP_RESERVED, 0 },
	{ 0x100000, 0x7ee0000, MB2_MMAP_AVAILABLE, 0 },
};

static void blob_std_mmap(struct blob *b)
{
	blob_mmap(b, std_map, 3, 24);
}

static void blob_module(struct blob *b, uint32_t start, uint32_t end,
			const char *s)
{
	uint32_t n = (uint32_t)strlen(s) + 1;
	uint8_t *p = blob_tag(b, MB2_TAG_MODULE, 8 + n);

	put32(p, start);
	put32(p + 4, end);
	memcpy(p + 8, s, n);
}

static struct blob B;
static struct boot_info BI;
static char err[160];

static int parse(void)
{
	host_log_clear();
	return mb2_parse(blob_bytes(&B), &BI, err, sizeof(err));
}

static int setup(void **state)
{
	(void)state;
	blob_init(&B);
	memset(err, 0, sizeof(err));
	return 0;
}

/* ---------------------------------------------------------------- good */

static void test_full_info(void **state)
{
	uint8_t rsdp[20] = "RSD PTR ";
	uint8_t efi[16 + 2 * 48];
	uint64_t st = 0x7f001000;
	uint32_t meminfo[2] = { 639, 130048 };
	uint32_t base = 0x200000;

	(void)state;
	blob_str(&B, MB2_TAG_CMDLINE, "loglevel=debug mem=4G");
	blob_str(&B, MB2_TAG_LOADER_NAME, "GRUB 2.06");
	blob_add(&B, MB2_TAG_BASIC_MEMINFO, meminfo, sizeof(meminfo));
	blob_std_mmap(&B);
	blob_module(&B, 0x400000, 0x401000, "guest.bin root=/dev/vda");
	blob_module(&B, 0x500000, 0x500000, "");
	blob_add(&B, MB2_TAG_ACPI_OLD, rsdp, sizeof(rsdp));
	blob_add(&B, MB2_TAG_EFI64_ST, &st, sizeof(st));
	memset(efi, 0, sizeof(efi));
	put32(efi, 48);
	put32(efi + 4, 1);
	blob_add(&B, MB2_TAG_EFI_MMAP, efi, sizeof(efi));
	blob_add(&B, MB2_TAG_EFI_BS, NULL, 0);
	blob_add(&B, MB2_TAG_LOAD_BASE_ADDR, &base, sizeof(base));
	blob_add(&B, 8 /* framebuffer: skipped */, "xxxxxxxxxxxx", 12);
	blob_end(&B);

	assert_int_equal(parse(), 0);
	assert_string_equal(err, "");
	assert_ptr_equal((void *)(uintptr_t)BI.info_start, blob_bytes(&B));
	assert_int_equal(BI.info_size, B.len);
	assert_true(BI.has_cmdline);
	assert_string_equal(BI.cmdline, "loglevel=debug mem=4G");
	assert_string_equal(BI.loader_name, "GRUB 2.06");
	assert_true(BI.has_meminfo);
	assert_int_equal(BI.mem_lower_kib, 639);
	assert_int_equal(BI.mem_upper_kib, 130048);
	assert_int_equal(BI.mmap_count, 3);
	assert_int_equal(BI.mmap_total, 3);
	assert_memory_equal(BI.mmap, std_map, sizeof(std_map));
	assert_int_equal(BI.module_count, 2);
	assert_int_equal(BI.modules[0].start, 0x400000);
	assert_int_equal(BI.modules[0].end, 0x401000);
	assert_string_equal(BI.modules[0].string, "guest.bin root=/dev/vda");
	assert_string_equal(BI.modules[1].string, "");
	assert_int_equal(BI.rsdp_src, BOOT_RSDP_OLD);
	assert_int_equal(BI.rsdp_len, 20);
	assert_memory_equal(BI.rsdp, rsdp, 20);
	assert_true(BI.has_efi64_systab);
	assert_int_equal(BI.efi64_systab, st);
	assert_true(BI.has_efi_mmap);
	assert_int_equal(BI.efi_mmap_desc_size, 48);
	assert_int_equal(BI.efi_mmap_desc_version, 1);
	assert_int_equal(BI.efi_mmap_count, 2);
	assert_true((const uint8_t *)BI.efi_mmap > blob_bytes(&B));
	assert_true((const uint8_t *)BI.efi_mmap + 96 <= blob_bytes(&B) + B.len);
	assert_true(BI.efi_boot_services);
	assert_true(BI.has_load_base);
	assert_int_equal(BI.load_base, base);
	assert_int_equal(BI.truncated, 0);
}

static void test_minimal_info(void **state)
{
	(void)state;
	blob_std_mmap(&B);
	blob_end(&B);
	assert_int_equal(parse(), 0);
	assert_false(BI.has_cmdline);
	assert_string_equal(BI.cmdline, "");
	assert_int_equal(BI.module_count, 0);
	assert_int_equal(BI.rsdp_src, BOOT_RSDP_NONE);
	assert_false(BI.has_efi_mmap);
}

/* Odd tag sizes: the next tag starts at the following 8-byte boundary. */
static void test_tag_padding(void **state)
{
	(void)state;
	blob_str(&B, MB2_TAG_CMDLINE, "a");            /* size 10 */
	blob_str(&B, 99, "unknown tag");                /* skipped */
	blob_str(&B, MB2_TAG_LOADER_NAME, "abc");      /* size 12 */
	blob_std_mmap(&B);
	blob_end(&B);
	assert_int_equal(parse(), 0);
	assert_string_equal(BI.cmdline, "a");
	assert_string_equal(BI.loader_name, "abc");
	assert_int_equal(BI.mmap_count, 3);
}

/* The reserved header field must be ignored (spec 3.6.1). */
static void test_reserved_ignored(void **state)
{
	(void)state;
	blob_std_mmap(&B);
	blob_end(&B);
	put32(blob_bytes(&B) + 4, 0xdeadbeef);
	assert_int_equal(parse(), 0);
}

/* Larger entries than 24 bytes (a future version) are read by entry_size. */
static void test_mmap_large_entry_size(void **state)
{
	(void)state;
	blob_mmap(&B, std_map, 3, 40);
	blob_end(&B);
	assert_int_equal(parse(), 0);
	assert_int_equal(BI.mmap_count, 3);
	assert_memory_equal(BI.mmap, std_map, sizeof(std_map));
}

static void test_both_rsdp_tags(void **state)
{
	uint8_t v1[20], v2[36];
	int order;

	(void)state;
	memset(v1, 0x11, sizeof(v1));
	memset(v2, 0x22, sizeof(v2));
	for (order = 0; order < 2; order++) {
		blob_init(&B);
		blob_std_mmap(&B);
		if (order == 0) {
			blob_add(&B, MB2_TAG_ACPI_OLD, v1, sizeof(v1));
			blob_add(&B, MB2_TAG_ACPI_NEW, v2, sizeof(v2));
		} else {
			blob_add(&B, MB2_TAG_ACPI_NEW, v2, sizeof(v2));
			blob_add(&B, MB2_TAG_ACPI_OLD, v1, sizeof(v1));
		}
		blob_end(&B);
		assert_int_equal(parse(), 0);
		assert_true(BI.has_rsdp_old);
		assert_true(BI.has_rsdp_new);
		assert_int_equal(BI.rsdp_src, BOOT_RSDP_NEW);
		assert_int_equal(BI.rsdp_len, 36);
		assert_memory_equal(BI.rsdp, v2, 36);
	}
}

static void test_rsdp_new_oversized(void **state)
{
	uint8_t v2[100];

	(void)state;
	memset(v2, 0x33, sizeof(v2));
	blob_std_mmap(&B);
	blob_add(&B, MB2_TAG_ACPI_NEW, v2, sizeof(v2));
	blob_end(&B);
	assert_int_equal(parse(), 0);
	assert_int_equal(BI.rsdp_len, BOOT_RSDP_MAX);
	assert_true(BI.truncated & BOOT_TRUNC_RSDP);
}

/* ---------------------------------------------------------------- limits */

static void test_too_many_mmap_entries(void **state)
{
	static struct mb2_mmap_entry e[200];
	uint32_t i;

	(void)state;
	for (i = 0; i < 200; i++)
		e[i] = (struct mb2_mmap_entry){ i * 0x10000ull, 0x10000, 1, 0 };
	blob_mmap(&B, e, 200, 24);
	blob_end(&B);
	assert_int_equal(parse(), 0);
	assert_int_equal(BI.mmap_count, BOOT_MMAP_MAX);
	assert_int_equal(BI.mmap_total, 200);
	assert_true(BI.truncated & BOOT_TRUNC_MMAP);
	assert_int_equal(BI.mmap[BOOT_MMAP_MAX - 1].base, (BOOT_MMAP_MAX - 1) * 0x10000ull);
	assert_true(host_log_contains("200 mmap entries"));
}

static void test_too_many_modules(void **state)
{
	uint32_t i;

	(void)state;
	blob_std_mmap(&B);
	for (i = 0; i < 20; i++)
		blob_module(&B, 0x1000000 + i * 0x1000, 0x1000000 + (i + 1) * 0x1000,
			    "mod");
	blob_end(&B);
	assert_int_equal(parse(), 0);
	assert_int_equal(BI.module_count, BOOT_MODULES_MAX);
	assert_int_equal(BI.module_total, 20);
	assert_true(BI.truncated & BOOT_TRUNC_MODULES);
	assert_true(host_log_contains("more than 16 modules"));
}

static void test_long_module_string(void **state)
{
	char s[300];

	(void)state;
	memset(s, 'm', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	blob_std_mmap(&B);
	blob_module(&B, 0x1000, 0x2000, s);
	blob_end(&B);
	assert_int_equal(parse(), 0);
	assert_int_equal(strlen(BI.modules[0].string), BOOT_MODULE_STR_MAX - 1);
	assert_true(BI.truncated & BOOT_TRUNC_MODULE_STR);
}

/* An overlong command line is cut at a token boundary, never mid-token. */
static void test_long_cmdline(void **state)
{
	char s[2000];
	size_t n = 0;

	(void)state;
	while (n < 1500) {
		memcpy(s + n, "opt=123456 ", 11);
		n += 11;
	}
	s[n] = '\0';
	blob_str(&B, MB2_TAG_CMDLINE, s);
	blob_std_mmap(&B);
	blob_end(&B);
	assert_int_equal(parse(), 0);
	assert_true(BI.truncated & BOOT_TRUNC_CMDLINE);
	n = strlen(BI.cmdline);
	assert_true(n < BOOT_CMDLINE_MAX);
	assert_true(n > BOOT_CMDLINE_MAX - 20);
	assert_int_equal(n % 11, 0);            /* whole "opt=123456 " tokens */
	assert_true(host_log_contains("command line longer"));
}

static void test_long_loader_name(void **state)
{
	char s[200];

	(void)state;
	memset(s, 'g', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	blob_str(&B, MB2_TAG_LOADER_NAME, s);
	blob_std_mmap(&B);
	blob_end(&B);
	assert_int_equal(parse(), 0);
	assert_int_equal(strlen(BI.loader_name), BOOT_LOADER_NAME_MAX - 1);
	assert_true(BI.truncated & BOOT_TRUNC_LOADER_NAME);
}

/* ---------------------------------------------------------------- malformed */

static void test_bad_args(void **state)
{
	(void)state;
	assert_int_equal(mb2_parse(NULL, &BI, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "aligned"));
	blob_std_mmap(&B);
	blob_end(&B);
	assert_int_equal(mb2_parse(blob_bytes(&B) + 4, &BI, err, sizeof(err)), -EINVAL);
	assert_int_equal(mb2_parse(blob_bytes(&B), NULL, err, sizeof(err)), -EINVAL);
	/* err is optional. */
	assert_int_equal(mb2_parse(blob_bytes(&B), &BI, NULL, 0), 0);
	put32(blob_bytes(&B), 4);
	assert_int_equal(mb2_parse(blob_bytes(&B), &BI, NULL, 0), -EINVAL);
	/* A tiny err buffer is still terminated. */
	assert_int_equal(mb2_parse(blob_bytes(&B), &BI, err, 5), -EINVAL);
	assert_int_equal(strlen(err), 4);
}

static void test_total_too_small(void **state)
{
	(void)state;
	put32(blob_bytes(&B), 15);
	assert_int_equal(parse(), -EINVAL);
	assert_non_null(strstr(err, "total_size too small"));
	put32(blob_bytes(&B), 0);
	assert_int_equal(parse(), -EINVAL);
}

static void test_total_too_large(void **state)
{
	(void)state;
	put32(blob_bytes(&B), MB2_INFO_MAX_SIZE + 8);
	assert_int_equal(parse(), -E2BIG);
	assert_non_null(strstr(err, "above 1 MiB"));
	put32(blob_bytes(&B), 0xFFFFFFF8u);
	assert_int_equal(parse(), -E2BIG);
}

static void test_tag_past_end(void **state)
{
	(void)state;
	blob_std_mmap(&B);
	blob_str(&B, MB2_TAG_CMDLINE, "abcdefgh");
	blob_end(&B);
	/* Cut total_size into the middle of the cmdline tag. */
	put32(blob_bytes(&B), B.len - 16);
	assert_int_equal(parse(), -ERANGE);
	assert_non_null(strstr(err, "tag runs past total_size"));
}

static void test_tag_huge_size(void **state)
{
	uint8_t *p;

	(void)state;
	blob_std_mmap(&B);
	p = blob_bytes(&B) + B.len;
	blob_str(&B, MB2_TAG_CMDLINE, "x");
	blob_end(&B);
	put32(p + 4, 0xFFFFFFF0u);      /* off + size would wrap a u32 */
	assert_int_equal(parse(), -ERANGE);
}

static void test_tag_size_below_8(void **state)
{
	uint8_t *p;
	uint32_t sz;

	(void)state;
	for (sz = 0; sz < 8; sz++) {
		blob_init(&B);
		blob_std_mmap(&B);
		p = blob_bytes(&B) + B.len;
		blob_str(&B, 99, "x");
		blob_end(&B);
		put32(p + 4, sz);
		assert_int_equal(parse(), -EINVAL);
		assert_non_null(strstr(err, "tag size below 8"));
	}
}

static void test_tag_too_small_for_type(void **state)
{
	uint32_t x = 0;

	(void)state;
	blob_add(&B, MB2_TAG_MMAP, &x, 4);      /* needs 16 bytes */
	blob_end(&B);
	assert_int_equal(parse(), -EINVAL);
	assert_non_null(strstr(err, "too small for its type"));

	blob_init(&B);
	blob_std_mmap(&B);
	blob_add(&B, MB2_TAG_ACPI_NEW, "RSD PTR 01234567890", 20);  /* v2 needs 36 */
	blob_end(&B);
	assert_int_equal(parse(), -EINVAL);

	blob_init(&B);
	blob_std_mmap(&B);
	blob_add(&B, MB2_TAG_CMDLINE, NULL, 0);
	blob_end(&B);
	assert_int_equal(parse(), -EINVAL);
}

static void test_no_end_tag(void **state)
{
	(void)state;
	blob_std_mmap(&B);
	blob_fix_total(&B);
	assert_int_equal(parse(), -ENOENT);
	assert_non_null(strstr(err, "no end tag"));
	/* total_size leaving 4 bytes after the last tag: not room for a header. */
	put32(blob_bytes(&B), B.len + 4);
	assert_int_equal(parse(), -ENOENT);
}

static void test_end_tag_bad_size(void **state)
{
	(void)state;
	blob_std_mmap(&B);
	blob_add(&B, MB2_TAG_END, "12345678", 8);
	blob_fix_total(&B);
	assert_int_equal(parse(), -EINVAL);
	assert_non_null(strstr(err, "end tag size"));
}

static void test_no_mmap(void **state)
{
	(void)state;
	blob_str(&B, MB2_TAG_CMDLINE, "x");
	blob_end(&B);
	assert_int_equal(parse(), -ENODEV);
	assert_non_null(strstr(err, "no memory map"));
}

static void test_unterminated_cmdline(void **state)
{
	(void)state;
	blob_add(&B, MB2_TAG_CMDLINE, "abcdefgh", 8);   /* no NUL */
	blob_std_mmap(&B);
	blob_end(&B);
	assert_int_equal(parse(), -EINVAL);
	assert_non_null(strstr(err, "NUL-terminated"));

	blob_init(&B);
	blob_add(&B, MB2_TAG_LOADER_NAME, "abc", 3);
	blob_std_mmap(&B);
	blob_end(&B);
	assert_int_equal(parse(), -EINVAL);
}

static void test_unterminated_module_string(void **state)
{
	uint8_t *p;

	(void)state;
	blob_std_mmap(&B);
	p = blob_tag(&B, MB2_TAG_MODULE, 8 + 5);
	put32(p, 0x1000);
	put32(p + 4, 0x2000);
	memcpy(p + 8, "abcde", 5);
	blob_end(&B);
	assert_int_equal(parse(), -EINVAL);
	assert_non_null(strstr(err, "module string"));
}

/* Past the module limit a malformed module tag is still an error. */
static void test_unterminated_extra_module(void **state)
{
	uint8_t *p;
	int i;

	(void)state;
	blob_std_mmap(&B);
	for (i = 0; i < BOOT_MODULES_MAX; i++)
		blob_module(&B, 0x1000, 0x2000, "m");
	p = blob_tag(&B, MB2_TAG_MODULE, 8 + 3);
	put32(p, 0x1000);
	put32(p + 4, 0x2000);
	memcpy(p + 8, "abc", 3);
	blob_end(&B);
	assert_int_equal(parse(), -EINVAL);
}

static void test_module_end_below_start(void **state)
{
	(void)state;
	blob_std_mmap(&B);
	blob_module(&B, 0x2000, 0x1fff, "m");
	blob_end(&B);
	assert_int_equal(parse(), -EINVAL);
	assert_non_null(strstr(err, "module end below start"));
}

static void test_bad_entry_size(void **state)
{
	static const uint32_t bad[] = { 0, 8, 16, 20, 28 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *p;

		blob_init(&B);
		p = blob_tag(&B, MB2_TAG_MMAP, 8 + 48);
		put32(p, bad[i]);
		blob_end(&B);
		assert_int_equal(parse(), -EINVAL);
		assert_non_null(strstr(err, "entry_size"));
	}
}

/* A tag size that is not a whole number of entries: the tail is ignored. */
static void test_mmap_partial_entry(void **state)
{
	uint8_t *p;

	(void)state;
	p = blob_tag(&B, MB2_TAG_MMAP, 8 + 24 + 10);
	put32(p, 24);
	memcpy(p + 8, &std_map[0], 24);
	blob_end(&B);
	assert_int_equal(parse(), 0);
	assert_int_equal(BI.mmap_count, 1);
	assert_true(host_log_contains("trailing bytes"));
}

static void test_mmap_version_warns(void **state)
{
	uint8_t *p;

	(void)state;
	p = blob_tag(&B, MB2_TAG_MMAP, 8 + 24);
	put32(p, 24);
	put32(p + 4, 1);
	memcpy(p + 8, &std_map[0], 24);
	blob_end(&B);
	assert_int_equal(parse(), 0);
	assert_int_equal(BI.mmap_entry_version, 1);
	assert_true(host_log_contains("entry_version 1"));
}

static void test_duplicate_tag(void **state)
{
	(void)state;
	blob_std_mmap(&B);
	blob_std_mmap(&B);
	blob_end(&B);
	assert_int_equal(parse(), -EEXIST);
	assert_non_null(strstr(err, "duplicate tag"));

	blob_init(&B);
	blob_str(&B, MB2_TAG_CMDLINE, "a");
	blob_str(&B, MB2_TAG_CMDLINE, "b");
	blob_std_mmap(&B);
	blob_end(&B);
	assert_int_equal(parse(), -EEXIST);
}

static void test_bad_efi_desc_size(void **state)
{
	uint8_t efi[8 + 40];

	(void)state;
	memset(efi, 0, sizeof(efi));
	put32(efi, 0);                  /* would divide by zero */
	blob_std_mmap(&B);
	blob_add(&B, MB2_TAG_EFI_MMAP, efi, sizeof(efi));
	blob_end(&B);
	assert_int_equal(parse(), -EINVAL);
	assert_non_null(strstr(err, "EFI mmap"));
}

/* Garbage after the end tag is never looked at. */
static void test_stops_at_end_tag(void **state)
{
	(void)state;
	blob_std_mmap(&B);
	blob_tag(&B, MB2_TAG_END, 0);
	blob_tag(&B, MB2_TAG_CMDLINE, 0);       /* malformed, after the end */
	blob_fix_total(&B);
	assert_int_equal(parse(), 0);
	assert_false(BI.has_cmdline);
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(mb2_mmap_type_name(1), "available");
	assert_string_equal(mb2_mmap_type_name(2), "reserved");
	assert_string_equal(mb2_mmap_type_name(3), "ACPI reclaimable");
	assert_string_equal(mb2_mmap_type_name(4), "ACPI NVS");
	assert_string_equal(mb2_mmap_type_name(5), "bad RAM");
	assert_string_equal(mb2_mmap_type_name(0), "unknown (reserved)");
	assert_string_equal(mb2_mmap_type_name(0xFFFFFFFF), "unknown (reserved)");
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_full_info),
		T(test_minimal_info),
		T(test_tag_padding),
		T(test_reserved_ignored),
		T(test_mmap_large_entry_size),
		T(test_both_rsdp_tags),
		T(test_rsdp_new_oversized),
		T(test_too_many_mmap_entries),
		T(test_too_many_modules),
		T(test_long_module_string),
		T(test_long_cmdline),
		T(test_long_loader_name),
		T(test_bad_args),
		T(test_total_too_small),
		T(test_total_too_large),
		T(test_tag_past_end),
		T(test_tag_huge_size),
		T(test_tag_size_below_8),
		T(test_tag_too_small_for_type),
		T(test_no_end_tag),
		T(test_end_tag_bad_size),
		T(test_no_mmap),
		T(test_unterminated_cmdline),
		T(test_unterminated_module_string),
		T(test_unterminated_extra_module),
		T(test_module_end_below_start),
		T(test_bad_entry_size),
		T(test_mmap_partial_entry),
		T(test_mmap_version_warns),
		T(test_duplicate_tag),
		T(test_bad_efi_desc_size),
		T(test_stops_at_end_tag),
		T(test_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
