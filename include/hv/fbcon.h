/*
 * The framebuffer console: the log drawn with the built-in 8x16 font on
 * the linear framebuffer the loader hands over (the multiboot2 tag GRUB
 * fills from UEFI's GOP). Direct colour at 32, 24, 16 or 15 bits per
 * pixel, any channel layout the tag describes. Scrolls half a screen at a
 * time, redrawing only the cells that change, to keep each line cheap.
 */
#ifndef HV_FBCON_H
#define HV_FBCON_H

#include "hv/console.h"
#include "hv/mb2.h"
#include "hv/screen.h"

#define FB_MAX_COLS     240
#define FB_MAX_ROWS     100
#define FB_MAX_BYTES    (1ULL << 30)    /* a framebuffer beyond 1 GiB is a bad tag */
#define FB_PHYS_LIMIT   (1ULL << 52)

struct fbcon {
	uint8_t *mem;                   /* where the pixels are reached */
	uint64_t phys, size;            /* size: pitch * height bytes */
	uint32_t pitch, width, height;
	uint8_t bpp, bytes;             /* bits, bytes per pixel */
	uint8_t field[3][2];            /* red, green, blue: position, size */
	uint32_t palette[16];           /* the VGA colours as pixel values */
	int rows_attr;                  /* the colours rows[] is for; -1: none yet */
	uint64_t rows[256][4];          /* a glyph row's pixels for each bit pattern */
	struct screen scr;
	uint16_t grid[FB_MAX_COLS * FB_MAX_ROWS];
	uint16_t shown[FB_MAX_COLS * FB_MAX_ROWS];
};

extern const struct console_ops fbcon_ops;

/*
 * Check a framebuffer tag and work out the pixel values; touches no
 * pixel. 0, or -EOPNOTSUPP (not direct colour, bits per pixel, channel
 * layout) / -EINVAL (sizes, bounds, overflow) with the reason in *why.
 */
int fbcon_setup(struct fbcon *f, const struct boot_fb *bf, const char **why);
/* Clear the screen (mem must be set: the identity map or a mapping). */
void fbcon_start(struct fbcon *f);
/* Draw one cell (the screen's draw hook; host tests call it). */
void fbcon_draw(void *dev, unsigned int row, unsigned int col, uint16_t cell);
/* A pixel value for 8-bit red, green, blue. */
uint32_t fbcon_pixel(const struct fbcon *f, uint8_t r, uint8_t g, uint8_t b);

#endif
