/*
 * The framebuffer console (drivers/fbcon.c) on a framebuffer in host
 * memory: rendered glyph rows checked against the font bit by bit at 32,
 * 24 and 16 bits per pixel, colours in the tag's channel layout, pixels
 * outside the cell left alone; every framebuffer tag fbcon_setup refuses;
 * and the multiboot2 framebuffer tag as hv/mb2.c reads it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/errno.h"
#include "hv/fbcon.h"
#include "hv/font.h"
#include "hv/mb2.h"
#include "host_stubs.h"

static struct fbcon fb;

static struct boot_fb rgb_tag(uint8_t bpp, uint32_t w, uint32_t h, uint32_t pitch)
{
	struct boot_fb t = { .addr = 0x80000000, .pitch = pitch, .width = w, .height = h,
			     .bpp = bpp, .type = MB2_FB_RGB, .has_rgb = true };

	if (bpp == 16) {                /* RGB 565 */
		t.red_pos = 11; t.red_size = 5;
		t.green_pos = 5; t.green_size = 6;
		t.blue_pos = 0; t.blue_size = 5;
	} else {                        /* BGR(X): UEFI's usual layout */
		t.red_pos = 16; t.red_size = 8;
		t.green_pos = 8; t.green_size = 8;
		t.blue_pos = 0; t.blue_size = 8;
	}
	return t;
}

/* The pixel at (x, y), whatever the depth. */
static uint32_t pixel(const uint8_t *mem, uint32_t pitch, unsigned int bytes, unsigned int x,
		      unsigned int y)
{
	const uint8_t *p = mem + (size_t)y * pitch + (size_t)x * bytes;
	uint32_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* Draw c at (row, col) and check every pixel row of the cell against the
 * font: a set bit is the foreground, a clear one the background. */
static void check_glyph(uint8_t bpp, uint8_t c, uint8_t attr, uint32_t fg_want, uint32_t bg_want)
{
	unsigned int bytes = (bpp + 7) / 8, w = 64, h = 48, pitch = w * bytes + 24;
	struct boot_fb t = rgb_tag(bpp, w, h, pitch);
	uint8_t *mem = malloc((size_t)pitch * h);
	const uint8_t *glyph = font_glyph(c);
	unsigned int row = 1, col = 3;
	const char *why;

	memset(mem, 0x5a, (size_t)pitch * h);  /* canary */
	assert_int_equal(fbcon_setup(&fb, &t, &why), 0);
	assert_int_equal(fb.bytes, bytes);
	fb.mem = mem;
	fbcon_draw(&fb, row, col, (uint16_t)(c | attr << 8));
	for (unsigned int y = 0; y < FONT_HEIGHT; y++) {
		uint8_t bits = 0;

		for (unsigned int x = 0; x < FONT_WIDTH; x++) {
			uint32_t v = pixel(mem, pitch, bytes, col * 8 + x, row * 16 + y);

			if (v == fg_want)
				bits |= 0x80 >> x;
			else
				assert_int_equal(v, bg_want);
		}
		assert_int_equal(bits, glyph[y]);       /* the rendered row is the font's row */
	}
	/* Outside the cell nothing changed: the pixels left, right, above, below. */
	assert_int_equal(mem[(size_t)(row * 16) * pitch + (col * 8 - 1) * bytes], 0x5a);
	assert_int_equal(mem[(size_t)(row * 16) * pitch + (col * 8 + 8) * bytes], 0x5a);
	assert_int_equal(mem[(size_t)(row * 16 - 1) * pitch + col * 8 * bytes], 0x5a);
	assert_int_equal(mem[(size_t)(row * 16 + 16) * pitch + col * 8 * bytes], 0x5a);
	free(mem);
}

static void glyph_rows_32bpp(void **state)
{
	/* Light grey on black (info), light red (error), white on blue. */
	check_glyph(32, 'A', 0x07, 0xaaaaaa, 0);
	check_glyph(32, 'g', 0x0c, 0xff5555, 0);
	check_glyph(32, '@', 0x1f, 0xffffff, 0x0000aa);
	check_glyph(32, '~', 0x0e, 0xffff55, 0);
}

static void glyph_rows_24bpp(void **state)
{
	check_glyph(24, 'A', 0x07, 0xaaaaaa, 0);
	check_glyph(24, 'W', 0x0e, 0xffff55, 0);
	check_glyph(24, '#', 0x4a, 0x55ff55, 0xaa0000);
}

static void glyph_rows_16bpp(void **state)
{
	/* 565: light grey 0xaa,0xaa,0xaa -> 10101 101010 10101. */
	check_glyph(16, 'A', 0x07, (0x15 << 11) | (0x2a << 5) | 0x15, 0);
	check_glyph(16, 'z', 0x0f, 0xffff, 0);
}

/* Bytes outside printable ASCII are drawn as '?'. */
static void missing_glyph(void **state)
{
	assert_ptr_equal(font_glyph(0x01), font_glyph('?'));
	assert_ptr_equal(font_glyph(0xe9), font_glyph('?'));
	assert_ptr_equal(font_glyph(0x7f), font_glyph('?'));
	assert_ptr_not_equal(font_glyph('A'), font_glyph('?'));
	check_glyph(32, 0xe9, 0x07, 0xaaaaaa, 0);
	/* The space is all background. */
	for (int y = 0; y < FONT_HEIGHT; y++)
		assert_int_equal(font_glyph(' ')[y], 0);
}

/* Any channel layout: RGBX with red in the low byte. */
static void channel_layout(void **state)
{
	struct boot_fb t = rgb_tag(32, 64, 32, 256);
	const char *why;

	t.red_pos = 0;
	t.blue_pos = 16;
	assert_int_equal(fbcon_setup(&fb, &t, &why), 0);
	assert_int_equal(fbcon_pixel(&fb, 0x12, 0x34, 0x56), 0x563412);
	assert_int_equal(fb.palette[4], 0x0000aa);      /* VGA red */
	assert_int_equal(fb.palette[1], 0xaa0000);      /* VGA blue */
}

static void start_clears_and_sizes_the_grid(void **state)
{
	struct boot_fb t = rgb_tag(32, 1000, 500, 4096);
	uint8_t *mem = malloc((size_t)4096 * 500);
	const char *why;

	memset(mem, 0xff, (size_t)4096 * 500);
	assert_int_equal(fbcon_setup(&fb, &t, &why), 0);
	fb.mem = mem;
	fbcon_start(&fb);
	assert_int_equal(fb.scr.cols, 125);
	assert_int_equal(fb.scr.rows, 31);
	assert_int_equal(fb.scr.scroll, 15);    /* half a screen at a time */
	assert_int_equal(pixel(mem, 4096, 4, 999, 499), 0);
	assert_int_equal(mem[4096 * 499 + 4000], 0xff);   /* past the line: not touched */
	free(mem);
	/* A huge screen: the grid stops at FB_MAX_COLS x FB_MAX_ROWS. */
	t = rgb_tag(32, 3840, 2160, 3840 * 4);
	mem = malloc((size_t)3840 * 4 * 2160);
	assert_int_equal(fbcon_setup(&fb, &t, &why), 0);
	fb.mem = mem;
	fbcon_start(&fb);
	assert_int_equal(fb.scr.cols, FB_MAX_COLS);
	assert_int_equal(fb.scr.rows, FB_MAX_ROWS);
	free(mem);
}

static void refused_tags(void **state)
{
	struct boot_fb t;
	const char *why;

	t = rgb_tag(32, 800, 600, 3200);
	t.type = MB2_FB_INDEXED;
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EOPNOTSUPP);
	assert_string_equal(why, "indexed colour, not direct RGB");
	t.type = MB2_FB_EGA_TEXT;
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EOPNOTSUPP);
	t.type = 7;
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EOPNOTSUPP);

	t = rgb_tag(8, 800, 600, 800);
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EOPNOTSUPP);
	assert_string_equal(why, "bits per pixel not 15, 16, 24 or 32");
	t = rgb_tag(32, 800, 600, 3200);
	t.has_rgb = false;
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EINVAL);
	t = rgb_tag(16, 800, 600, 1600);
	t.red_size = 9;
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EOPNOTSUPP);
	assert_string_equal(why, "colour fields outside the pixel");
	t = rgb_tag(16, 800, 600, 1600);
	t.red_pos = 12;                 /* 12 + 5 > 16 */
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EOPNOTSUPP);

	t = rgb_tag(32, 4, 600, 3200);
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EINVAL);
	assert_string_equal(why, "smaller than one character");
	t = rgb_tag(32, 800, 600, 3000);
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EINVAL);
	assert_string_equal(why, "pitch shorter than a line of pixels");
	/* Sizes that would overflow, or run off the address space. */
	t = rgb_tag(32, 800, 0xffffffff, 0xffffffff);
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EINVAL);
	assert_string_equal(why, "pitch x height overflows (above 1 GiB)");
	t = rgb_tag(32, 0x40000000, 600, 0xfffffff0);
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EINVAL);
	t = rgb_tag(32, 800, 600, 3200);
	t.addr = FB_PHYS_LIMIT - 4096;
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EINVAL);
	assert_string_equal(why, "address 0, or the pixels run past the physical address space");
	t.addr = UINT64_MAX - 100;
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EINVAL);
	t.addr = 0;
	assert_int_equal(fbcon_setup(&fb, &t, &why), -EINVAL);
	/* Above 4 GiB is fine (console_late_init maps it). */
	t.addr = 0x4000000000ULL;
	assert_int_equal(fbcon_setup(&fb, &t, &why), 0);
	assert_int_equal(fb.size, 3200 * 600);
}

/* ------------------------------------------- the multiboot2 tag (hv/mb2.c) */

static uint8_t info[512] __attribute__((aligned(8)));

static size_t tag_mmap(uint8_t *p)
{
	uint32_t hdr[4] = { MB2_TAG_MMAP, 16 + 24, 24, 0 };
	uint64_t e[3] = { 0x100000, 0x1000000, MB2_MMAP_AVAILABLE };

	memcpy(p, hdr, 16);
	memcpy(p + 16, e, 24);
	return 40;
}

/* multiboot2 info with a memory map and one framebuffer tag of `size`
 * bytes (its fields as GRUB writes them), twice if `twice`. */
static const void *mb2_with_fb(uint32_t size, uint8_t type, bool twice)
{
	size_t off = 8;

	memset(info, 0, sizeof(info));
	off += tag_mmap(info + off);
	for (int k = 0; k < (twice ? 2 : 1); k++) {
		uint8_t *t = info + off;
		uint32_t h[2] = { MB2_TAG_FRAMEBUFFER, size };
		uint64_t addr = k ? 0xdead0000 : 0xc0000000;
		uint32_t geo[3] = { 3200, 800, 600 };

		memcpy(t, h, 8);
		memcpy(t + 8, &addr, 8);
		memcpy(t + 16, geo, 12);
		t[28] = 32;
		t[29] = type;
		t[32] = 16; t[33] = 8; t[34] = 8; t[35] = 8; t[36] = 0; t[37] = 8;
		off += (size + 7) & ~7u;
	}
	uint32_t end[2] = { 0, 8 };

	memcpy(info + off, end, 8);
	off += 8;
	uint32_t total = (uint32_t)off;

	memcpy(info, &total, 4);
	return info;
}

static void mb2_framebuffer_tag(void **state)
{
	static struct boot_info bi;
	const char *why;

	assert_int_equal(mb2_parse(mb2_with_fb(40, MB2_FB_RGB, false), &bi, NULL, 0), 0);
	assert_true(bi.has_fb);
	assert_int_equal(bi.fb.addr, 0xc0000000);
	assert_int_equal(bi.fb.pitch, 3200);
	assert_int_equal(bi.fb.width, 800);
	assert_int_equal(bi.fb.height, 600);
	assert_int_equal(bi.fb.bpp, 32);
	assert_true(bi.fb.has_rgb);
	assert_int_equal(bi.fb.red_pos, 16);
	assert_int_equal(bi.fb.blue_size, 8);
	assert_int_equal(fbcon_setup(&fb, &bi.fb, &why), 0);

	/* EGA text (GRUB on BIOS): 32 bytes, no colour info. */
	assert_int_equal(mb2_parse(mb2_with_fb(32, MB2_FB_EGA_TEXT, false), &bi, NULL, 0), 0);
	assert_true(bi.has_fb);
	assert_int_equal(bi.fb.type, MB2_FB_EGA_TEXT);
	assert_false(bi.fb.has_rgb);

	/* RGB without its colour fields: kept, and fbcon refuses it. */
	assert_int_equal(mb2_parse(mb2_with_fb(32, MB2_FB_RGB, false), &bi, NULL, 0), 0);
	assert_true(bi.has_fb);
	assert_false(bi.fb.has_rgb);
	assert_int_equal(fbcon_setup(&fb, &bi.fb, &why), -EINVAL);

	/* Too short to read: reported, skipped, the boot goes on. */
	host_log_clear();
	assert_int_equal(mb2_parse(mb2_with_fb(24, MB2_FB_RGB, false), &bi, NULL, 0), 0);
	assert_false(bi.has_fb);
	assert_true(host_log_contains("framebuffer tag of 24 bytes (below 32), ignored"));

	/* Two: the first counts, the second is reported. */
	host_log_clear();
	assert_int_equal(mb2_parse(mb2_with_fb(40, MB2_FB_RGB, true), &bi, NULL, 0), 0);
	assert_int_equal(bi.fb.addr, 0xc0000000);
	assert_true(host_log_contains("a second framebuffer tag, ignored"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(glyph_rows_32bpp),
		cmocka_unit_test(glyph_rows_24bpp),
		cmocka_unit_test(glyph_rows_16bpp),
		cmocka_unit_test(missing_glyph),
		cmocka_unit_test(channel_layout),
		cmocka_unit_test(start_clears_and_sizes_the_grid),
		cmocka_unit_test(refused_tags),
		cmocka_unit_test(mb2_framebuffer_tag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
