/* The framebuffer console (hv/fbcon.h). */
#include "hv/fbcon.h"
#include "hv/errno.h"
#include "hv/font.h"
#include "hv/string.h"

static const uint8_t vga_rgb[16][3] = {
	{ 0x00, 0x00, 0x00 }, { 0x00, 0x00, 0xaa }, { 0x00, 0xaa, 0x00 }, { 0x00, 0xaa, 0xaa },
	{ 0xaa, 0x00, 0x00 }, { 0xaa, 0x00, 0xaa }, { 0xaa, 0x55, 0x00 }, { 0xaa, 0xaa, 0xaa },
	{ 0x55, 0x55, 0x55 }, { 0x55, 0x55, 0xff }, { 0x55, 0xff, 0x55 }, { 0x55, 0xff, 0xff },
	{ 0xff, 0x55, 0x55 }, { 0xff, 0x55, 0xff }, { 0xff, 0xff, 0x55 }, { 0xff, 0xff, 0xff },
};

static uint32_t channel(uint8_t v, uint8_t pos, uint8_t size)
{
	return (uint32_t)(v >> (8 - size)) << pos;
}

uint32_t fbcon_pixel(const struct fbcon *f, uint8_t r, uint8_t g, uint8_t b)
{
	return channel(r, f->field[0][0], f->field[0][1]) |
	       channel(g, f->field[1][0], f->field[1][1]) |
	       channel(b, f->field[2][0], f->field[2][1]);
}

static bool field_ok(uint8_t pos, uint8_t size, uint8_t bpp)
{
	return size >= 1 && size <= 8 && pos + size <= bpp;
}

int fbcon_setup(struct fbcon *f, const struct boot_fb *bf, const char **why)
{
	uint64_t size;

	memset(f, 0, offsetof(struct fbcon, scr));
	if (bf->type != MB2_FB_RGB) {
		*why = bf->type == MB2_FB_INDEXED ? "indexed colour, not direct RGB" :
		       bf->type == MB2_FB_EGA_TEXT ? "EGA text, not pixels" : "unknown type";
		return -EOPNOTSUPP;
	}
	if (!bf->has_rgb) {
		*why = "the tag has no RGB field layout";
		return -EINVAL;
	}
	if (bf->bpp != 32 && bf->bpp != 24 && bf->bpp != 16 && bf->bpp != 15) {
		*why = "bits per pixel not 15, 16, 24 or 32";
		return -EOPNOTSUPP;
	}
	if (!field_ok(bf->red_pos, bf->red_size, bf->bpp) ||
	    !field_ok(bf->green_pos, bf->green_size, bf->bpp) ||
	    !field_ok(bf->blue_pos, bf->blue_size, bf->bpp)) {
		*why = "colour fields outside the pixel";
		return -EOPNOTSUPP;
	}
	f->bytes = (uint8_t)((bf->bpp + 7) / 8);
	if (bf->width < FONT_WIDTH || bf->height < FONT_HEIGHT) {
		*why = "smaller than one character";
		return -EINVAL;
	}
	if ((uint64_t)bf->width * f->bytes > bf->pitch) {
		*why = "pitch shorter than a line of pixels";
		return -EINVAL;
	}
	if (__builtin_mul_overflow((uint64_t)bf->pitch, (uint64_t)bf->height, &size) ||
	    size > FB_MAX_BYTES) {
		*why = "pitch x height overflows (above 1 GiB)";
		return -EINVAL;
	}
	if (!bf->addr || bf->addr > FB_PHYS_LIMIT - size) {
		*why = "address 0, or the pixels run past the physical address space";
		return -EINVAL;
	}
	f->phys = bf->addr;
	f->size = size;
	f->pitch = bf->pitch;
	f->width = bf->width;
	f->height = bf->height;
	f->bpp = bf->bpp;
	f->rows_attr = -1;
	f->field[0][0] = bf->red_pos;
	f->field[0][1] = bf->red_size;
	f->field[1][0] = bf->green_pos;
	f->field[1][1] = bf->green_size;
	f->field[2][0] = bf->blue_pos;
	f->field[2][1] = bf->blue_size;
	for (int i = 0; i < 16; i++)
		f->palette[i] = fbcon_pixel(f, vga_rgb[i][0], vga_rgb[i][1], vga_rgb[i][2]);
	return 0;
}

typedef uint64_t __attribute__((aligned(1), may_alias)) u64_any;

/*
 * Eight pixels of one glyph row (a set bit fg, a clear one bg) packed into
 * 64-bit words as they lie in memory: 2, 3 or 4 words at 16, 24 or 32 bits
 * per pixel.
 */
static void pack_row(uint64_t out[4], unsigned int bits_pp, uint8_t bits, uint32_t fg, uint32_t bg)
{
	uint64_t acc = 0;
	unsigned int n = 0, w = 0;

	for (int x = 0; x < 8; x++) {
		uint64_t v = bits & (0x80 >> x) ? fg : bg;

		acc |= v << n;
		n += bits_pp;
		if (n >= 64) {
			out[w++] = acc;
			n -= 64;
			acc = n ? v >> (bits_pp - n) : 0;
		}
	}
}

/* The packed rows of every bit pattern in one colour pair, built when the
 * colour changes (a line's level): then a glyph row is 2-4 word copies. */
static void rows_for(struct fbcon *f, uint8_t attr)
{
	uint32_t fg = f->palette[attr & 15], bg = f->palette[attr >> 4];

	if (f->rows_attr == attr)
		return;
	for (int b = 0; b < 256; b++)
		pack_row(f->rows[b], f->bytes * 8u, (uint8_t)b, fg, bg);
	f->rows_attr = attr;
}

/*
 * Video memory is uncached: the stores are what a glyph costs, 16 rows of
 * 2-4 64-bit stores (instead of one or three per pixel).
 */
void fbcon_draw(void *dev, unsigned int row, unsigned int col, uint16_t cell)
{
	struct fbcon *f = dev;
	const uint8_t *glyph = font_glyph((uint8_t)cell);
	uint8_t *p = f->mem + (size_t)row * FONT_HEIGHT * f->pitch + (size_t)col * FONT_WIDTH * f->bytes;

	rows_for(f, (uint8_t)(cell >> 8));
	switch (f->bytes) {             /* 8 pixels of `bytes` bytes: `bytes` words */
	case 4:
		for (int y = 0; y < FONT_HEIGHT; y++, p += f->pitch) {
			const uint64_t *src = f->rows[glyph[y]];
			u64_any *q = (u64_any *)p;

			q[0] = src[0];
			q[1] = src[1];
			q[2] = src[2];
			q[3] = src[3];
		}
		break;
	case 3:
		for (int y = 0; y < FONT_HEIGHT; y++, p += f->pitch) {
			const uint64_t *src = f->rows[glyph[y]];
			u64_any *q = (u64_any *)p;

			q[0] = src[0];
			q[1] = src[1];
			q[2] = src[2];
		}
		break;
	default:
		for (int y = 0; y < FONT_HEIGHT; y++, p += f->pitch) {
			const uint64_t *src = f->rows[glyph[y]];
			u64_any *q = (u64_any *)p;

			q[0] = src[0];
			q[1] = src[1];
		}
		break;
	}
}

void fbcon_start(struct fbcon *f)
{
	uint16_t cols = (uint16_t)MIN(f->width / FONT_WIDTH, FB_MAX_COLS);
	uint16_t rows = (uint16_t)MIN(f->height / FONT_HEIGHT, FB_MAX_ROWS);
	uint8_t *line = f->mem;

	/* Clear the whole screen once (GRUB's text is still on it). */
	for (uint32_t y = 0; y < f->height; y++, line += f->pitch)
		memset(line, 0, (size_t)f->width * f->bytes);
	screen_init(&f->scr, cols, rows, (uint16_t)(rows / 2), f->grid, f->shown, fbcon_draw, f);
}

/* The pixels through the identity map (below 4 GiB from boot on, above
 * it once console_late_init has mapped them). */
static int fbcon_con_start(struct console *c)
{
	struct fbcon *f = c->dev;

	f->mem = (uint8_t *)(uintptr_t)f->phys;
	fbcon_start(f);
	return 0;
}

static size_t fbcon_write(struct console *c, const char *s, size_t n)
{
	struct fbcon *f = c->dev;

	screen_put(&f->scr, s, n);
	return n;
}

static bool fbcon_flush(struct console *c, uint32_t budget)
{
	struct fbcon *f = c->dev;

	return screen_sync(&f->scr, budget);
}

const struct console_ops fbcon_ops = {
	.kind = "fb",
	.start = fbcon_con_start,
	.write = fbcon_write,
	.flush = fbcon_flush,
};
